"""R18 webhooks: what an endpoint may be, how a delivery is signed, and when it is tried again.

A delivery's body is signed with the endpoint's secret: `Offerscope-Signature: t=<unix
seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, so a receiver can tell it came from offerscope
and refuse an old one replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from offerscope.domain.errors import Invalid

SIGNATURE_HEADER = "Offerscope-Signature"
MIN_SECRET, MAX_SECRET = 16, 256
MAX_URL = 2000
ALL_EVENTS = "*"
# The kinds of change the feed gives (R13's actions, and R16's windows passing).
EVENT_KINDS = frozenset(
    {
        "product_created",
        "product_target_set",
        "specification_target_set",
        "specification_target_reset",
        "association_added",
        "association_removed",
        "group_attached",
        "group_detached",
        "specified_user_added",
        "specified_user_removed",
        "specified_user_window_changed",
        "specified_users_imported",
        "specified_users_configured",
        "window_opened",
        "window_closed",
    }
)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """Whether `header` signs `body` with `secret`, made within `tolerance` seconds of `now`."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    # As bytes: compare_digest refuses a str that is not ASCII, as a forged header may be.
    return hmac.compare_digest(expected.encode(), parts.get("v1", "").encode())


def retry_delay(
    attempts: int, base: float, cap: float, draw: Callable[[], float] = random.random
) -> float:
    """Seconds before trying again after `attempts` failures: exponential, capped, with
    jitter (between half and all of it, so that endpoints failing together spread out)."""
    delay: float = min(cap, base * 2.0 ** min(attempts - 1, 60))
    return delay / 2 + delay / 2 * draw()


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            "invalid_webhook_url",
            f"url must be an absolute http:// or https:// address of at most {MAX_URL} characters.",
            field="url",
        )
    if parts.username or parts.password:
        raise Invalid(
            "invalid_webhook_url",
            "url cannot carry a user name or password; sign-in is the secret's job.",
            field="url",
        )
    return url


def check_events(events: Sequence[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise Invalid(
            "invalid_webhook_events",
            'events must name at least one kind of change, or be ["*"] for every kind.',
            field="events",
        )
    unknown = [e for e in chosen if e != ALL_EVENTS and e not in EVENT_KINDS]
    if unknown:
        raise Invalid(
            "invalid_webhook_events",
            f"events holds unknown kinds ({', '.join(unknown[:5])}); known kinds: "
            f"{', '.join(sorted(EVENT_KINDS))}, or *.",
            field="events",
        )
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def check_secret(secret: str) -> str:
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or not secret.isprintable():
        raise Invalid(
            "invalid_webhook_secret",
            f"secret must be {MIN_SECRET} to {MAX_SECRET} printable characters "
            "(e.g. 32 random bytes in hex).",
            field="secret",
        )
    return secret


def wants(events: Sequence[str], kind: str) -> bool:
    return ALL_EVENTS in events or kind in events
