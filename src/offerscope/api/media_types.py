"""Which request bodies are JSON: those whose Content-Type says so.

FastAPI (with `strict_content_type`, its default since 0.132) reads a body as JSON only when
its media type is `application/json` or `application/<anything>+json`; a body sent without a
Content-Type, as text/plain or as a form is left unread, and its route refuses it. A browser
sends such bodies to another site without asking it first, so this is also what keeps them
from acting. The hot paths apply the same rule, so that they take only what the full stack
would read.
"""

from __future__ import annotations

from email.message import Message

_PLAIN_JSON = "application/json"


def is_json(content_type: str | None) -> bool:
    """Whether a request with this Content-Type header (None: without one) has its body read
    as JSON, parsed as FastAPI parses it."""
    if content_type == _PLAIN_JSON:  # the common case, without a parse
        return True
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")
