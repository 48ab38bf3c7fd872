"""R15: a write sent again with the same Idempotency-Key happens once, on every process.

The first request with a key claims it in a transaction of its own (a row in state 'running',
leased for `LEASE`), runs, and stores its answer with the key in the same transaction as its
write (`HeldCommit`): the write and its stored answer commit together or not at all. A repeat
finds the row: the stored answer if it is done, 409 `request_in_progress` while it runs, 422
`idempotency_key_reused` for another method, path or body. A non-2xx answer deletes the claim,
so the request may be retried with its key; a claim whose process died (its write rolled back
with it) may be taken over once its lease has passed.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from offerscope.domain.errors import Conflict, Invalid
from offerscope.services.ids import utcnow
from offerscope.storage import idempotency as keys
from offerscope.storage.unit_of_work import Database, unheld

# How long a running request keeps its key before another may take it over: longer than any
# request runs (a 512 MiB import included), short enough for a retry after a crash.
LEASE = timedelta(minutes=5)
# Keys live at least 24 hours (R15); older ones are swept now and then.
RETENTION = timedelta(hours=48)
SWEEP_EVERY = 100  # claims, on average
# An answer is stored whole up to this size; a larger one (only an import's `?errors=csv`
# report can be) is replayed with its status and headers and no body.
MAX_STORED_BODY = 1024 * 1024

_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def check_key(key: str) -> str:
    """1 to 255 visible ASCII characters (R15)."""
    if not _KEY.fullmatch(key):
        raise Invalid(
            "invalid_request",
            "An Idempotency-Key is 1 to 255 visible ASCII characters (no spaces).",
            field="Idempotency-Key",
        )
    return key


def digest(*parts: bytes | str) -> str:
    """SHA-256 over the parts, each length-prefixed so that no two splits collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


@dataclass(frozen=True)
class Attempt:
    """One request with a key: whose key (a digest of the caller's credential), and what."""

    scope: str
    key: str
    method: str
    path: str
    body_digest: str

    @property
    def request_digest(self) -> str:
        return digest(self.method, self.path, self.body_digest)


@dataclass(frozen=True)
class Claim:
    """The right to run an attempt, until its lease ends."""

    attempt: Attempt
    token: str


@dataclass(frozen=True)
class StoredAnswer:
    """What the first request answered; `body` None when it was too large to keep."""

    status: int
    headers: dict[str, str]
    body: bytes | None


def _in_progress() -> Conflict:
    return Conflict(
        "request_in_progress",
        "A request with this Idempotency-Key is still running; retry once it has answered.",
    )


def _reused() -> Invalid:
    return Invalid(
        "idempotency_key_reused",
        "This Idempotency-Key was used for another request (method, path or body); use a new "
        "key for a new request.",
    )


def claim(db: Database, attempt: Attempt, lease: timedelta = LEASE) -> Claim | StoredAnswer:
    """Claim `attempt`'s key to run it, or the stored answer of its first run.

    Raises 409 `request_in_progress` while another request holds the key, 422
    `idempotency_key_reused` when the key was used for another request.
    """
    token = secrets.token_hex(16)
    with unheld(), db.writing() as uow:
        session = uow.session
        now = utcnow()
        if secrets.randbelow(SWEEP_EVERY) == 0:
            keys.sweep(session, now - RETENTION)
        claimed = keys.insert_claim(
            session,
            {
                "scope": attempt.scope,
                "key": attempt.key,
                "method": attempt.method,
                "path": attempt.path,
                "request_digest": attempt.request_digest,
                "state": "running",
                "claim": token,
                "lease_until": now + lease,
                "created_at": now,
            },
        )
        if claimed:
            uow.commit()
            return Claim(attempt, token)
        row = keys.key_row(session, attempt.scope, attempt.key, lock=uow.locks_rows)
        if row.request_digest != attempt.request_digest:
            raise _reused()
        if row.state == "done":
            assert row.status is not None
            return StoredAnswer(row.status, json.loads(row.headers or "{}"), row.body)
        if row.lease_until > now:
            raise _in_progress()
        row.claim, row.lease_until = token, now + lease  # its process died: take over
        uow.commit()
        return Claim(attempt, token)


def store(session: Session, held: Claim, answer: StoredAnswer) -> bool:
    """Record `answer` for the claim in `session`'s transaction (the write's own).

    False if the claim was taken over meanwhile (its lease ran out): the caller must then
    roll its write back, since the other request runs it.
    """
    keep = answer.body is not None and len(answer.body) <= MAX_STORED_BODY
    return keys.complete(
        session,
        held.attempt.scope,
        held.attempt.key,
        held.token,
        status=answer.status,
        headers=json.dumps(answer.headers),
        body=answer.body if keep else None,
    )


def release(db: Database, held: Claim) -> None:
    """Forget a claim whose request did not succeed: the key may be used again (unless its
    answer was stored: a commit that landed, its answer lost on the way)."""
    with unheld(), db.writing() as uow:
        keys.release(uow.session, held.attempt.scope, held.attempt.key, held.token)
        uow.commit()


def taken_over() -> Conflict:
    """The answer when a claim's lease ran out before its request finished."""
    return _in_progress()
