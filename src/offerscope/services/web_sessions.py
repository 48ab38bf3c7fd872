"""Console and store sessions, kept on the server so that signing out really ends them.

The browser's cookie carries a random key; the database keeps only the key's SHA-256
digest, the token it signed in with and when it ends. Every request looks the key up (one
indexed query, joined with the token), so a session ends on every process at once when it is
signed out, when it expires, or when its token is gone.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from offerscope.services.actors import Actor
from offerscope.services.ids import utcnow
from offerscope.services.tokens import actor_of, hash_token
from offerscope.storage import tokens
from offerscope.storage.unit_of_work import Database


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(db: Database, token: str, expires_at: datetime) -> str | None:
    """A new session for a valid token; its key (for the cookie), or None for an unknown one."""
    key = secrets.token_urlsafe(32)
    with db.writing() as uow:
        token_pk = tokens.token_pk(uow.session, hash_token(token))
        if token_pk is None:
            return None
        tokens.add_session(uow.session, _digest(key), token_pk, utcnow(), expires_at)
        uow.commit()
    return key


def actor_of_session(db: Database, key: str) -> Actor | None:
    """The actor of a live session, or None once it was signed out, expired or lost its token."""
    with db.reading() as uow:
        return actor_of(tokens.holder_of_session(uow.session, _digest(key), utcnow()))


def end(db: Database, key: str) -> None:
    """Sign out: the session ends everywhere, whoever holds a copy of its cookie."""
    with db.writing() as uow:
        tokens.end_session(uow.session, _digest(key))
        uow.commit()
