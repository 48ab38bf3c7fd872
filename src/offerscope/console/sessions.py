"""Signed session cookies for the console and the store, and their CSRF tokens.

A session is a small signed (not encrypted) cookie: the random key of a session kept on the
server (`services.web_sessions`), a CSRF token, an absolute expiry and at most one flash
message. The token is never in the cookie. Every request looks the key up again, so signing
out (or deleting the token) ends the session on every process at once, and a cookie cannot
be forged without the app's secret key.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_SECONDS = 8 * 3600
"""A session ends this long after sign-in, whatever happens in between."""


class State(StrEnum):
    """What a request's cookie turned out to be."""

    VALID = "valid"
    MISSING = "missing"
    EXPIRED = "expired"
    INVALID = "invalid"


class Flash(NamedTuple):
    """A message for the next page: its kind (success, info, error), its words, and the id of
    the part of the page it is about ("" for the top of the page), shown where the eye is."""

    kind: str
    text: str
    near: str = ""


@dataclass
class Session:
    """One browser's session with one portal; `dirty` when the cookie must be sent again."""

    csrf: str
    expires_at: int
    session_key: str | None = None
    flash: Flash | None = None
    dirty: bool = False

    @classmethod
    def fresh(cls, now: float | None = None) -> Session:
        """An anonymous session with a new CSRF token (the sign-in form needs one too)."""
        started = int(time.time() if now is None else now)
        return cls(csrf=secrets.token_urlsafe(32), expires_at=started + SESSION_SECONDS, dirty=True)

    def csrf_matches(self, candidate: object) -> bool:
        """Constant-time comparison of a form's CSRF field with this session's token."""
        return isinstance(candidate, str) and hmac.compare_digest(
            candidate.encode(), self.csrf.encode()
        )

    def flash_message(self, kind: str, text: str, near: str = "") -> None:
        """A message for the next page this browser shows (after a redirect)."""
        self.flash = Flash(kind, text, near)
        self.dirty = True

    def pop_flash(self) -> Flash | None:
        message, self.flash = self.flash, None
        if message is not None:
            self.dirty = True
        return message

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, self.expires_at - int(time.time() if now is None else now))


@dataclass(frozen=True)
class SessionCodec:
    """Turns sessions into cookie values and back, for one portal (its own salt)."""

    secret_key: str
    portal: str
    _serializer: URLSafeTimedSerializer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        serializer = URLSafeTimedSerializer(self.secret_key, salt=f"offerscope.{self.portal}")
        object.__setattr__(self, "_serializer", serializer)

    def dumps(self, session: Session) -> str:
        payload: dict[str, Any] = {"c": session.csrf, "e": session.expires_at}
        if session.session_key is not None:
            payload["k"] = session.session_key
        if session.flash is not None:
            payload["f"] = list(session.flash)
        return self._serializer.dumps(payload)

    def loads(self, value: str | None, now: float | None = None) -> tuple[Session | None, State]:
        """The session a cookie holds, or None with the reason it holds none."""
        if not value:
            return None, State.MISSING
        try:
            # The signature's own age check backs up the expiry inside the payload.
            payload = self._serializer.loads(value, max_age=SESSION_SECONDS + 60)
        except SignatureExpired:
            return None, State.EXPIRED
        except BadSignature:
            return None, State.INVALID
        session = _session_of(payload)
        if session is None:
            return None, State.INVALID
        if session.seconds_left(now) <= 0:
            return None, State.EXPIRED
        return session, State.VALID


def _session_of(payload: Any) -> Session | None:
    if not isinstance(payload, dict):
        return None
    csrf, expires_at = payload.get("c"), payload.get("e")
    key, flash = payload.get("k"), payload.get("f")
    if not isinstance(csrf, str) or not isinstance(expires_at, int):
        return None
    if key is not None and not isinstance(key, str):
        return None
    message = None
    message = flash_of(flash)
    return Session(csrf=csrf, expires_at=expires_at, session_key=key, flash=message)


def flash_of(value: Any) -> Flash | None:
    """A flash read back from a cookie or a stored answer: two or three strings."""
    if isinstance(value, list) and len(value) in (2, 3) and all(isinstance(x, str) for x in value):
        return Flash(*value)
    return None
