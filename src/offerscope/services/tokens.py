"""Access tokens: issued by the operator, kept only as digests, and authenticated."""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

from offerscope.domain.errors import Invalid
from offerscope.domain.names import normalize_account_id
from offerscope.services.actors import Actor, Role
from offerscope.services.ids import utcnow
from offerscope.storage import accounts, changes, sellers, tokens
from offerscope.storage.tokens import TokenHolder
from offerscope.storage.unit_of_work import Database

TOKEN_PREFIX = "osk_"  # noqa: S105 (a prefix that marks offerscope tokens, not a secret)


def hash_token(token: str) -> str:
    """Tokens are kept only as SHA-256 digests: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(holder: TokenHolder | None) -> Actor | None:
    if holder is None:
        return None
    role, seller_pk, seller_id, account_pk, account_id = holder
    return Actor(
        role=Role(role),
        seller_pk=seller_pk,
        seller_id=seller_id,
        account_pk=account_pk,
        account_id=account_id,
    )


def create_token(
    db: Database, role: Role, *, seller_id: str | None = None, account_id: str | None = None
) -> str:
    """Issue a token for a role; the plain token is returned once and never stored."""
    with db.writing() as uow:
        session = uow.session
        seller_pk = account_pk = None
        account_key: str | None = None
        if role is Role.SELLER:
            if not seller_id:
                raise Invalid(
                    "invalid_request", "A seller token needs seller_id.", field="seller_id"
                )
            seller_pk = sellers.seller_pk(session, seller_id)
            if seller_pk is None:
                raise Invalid("seller_not_found", "No seller has this ID.", field="seller_id")
        elif role is Role.BUYER:
            if not account_id:
                raise Invalid(
                    "invalid_request", "A buyer token needs account_id.", field="account_id"
                )
            account = accounts.find_account(session, normalize_account_id(account_id))
            if account is None:
                raise Invalid(
                    "account_not_found", "No customer account has this ID.", field="account_id"
                )
            account_pk, account_key = account.pk, account.account_id
        elif seller_id or account_id:
            raise Invalid(
                "invalid_request", "An operator token names neither a seller nor an account."
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = hash_token(token)
        tokens.add_token(session, digest, role.value, seller_pk, account_pk, utcnow())
        account_key = (
            normalize_account_id(account_id) if account_pk is not None and account_id else None
        )
        uow.record_change(
            changes.TokenSet(digest, role.value, seller_pk, seller_id, account_pk, account_key)
        )
        uow.commit()
        return token


def revoke_token(db: Database, token: str) -> bool:
    """Revoke a token: it and its console sessions end on every process. Whether it existed."""
    digest = hash_token(token)
    with db.writing() as uow:
        if not tokens.delete_token(uow.session, digest):
            return False
        uow.record_change(changes.TokenRevoked(digest))
        uow.commit()
        return True


class TokenIndex(Protocol):
    """Tokens from memory (the decision index), as fresh as its decisions."""

    def token_holder(self, token_hash: str) -> TokenHolder | None: ...


def authenticate_in(index: TokenIndex, token: str) -> Actor | None:
    """`authenticate` from memory, from an index the caller has just brought up to date."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return actor_of(index.token_holder(hash_token(token)))


def authenticate(db: Database, token: str) -> Actor | None:
    """The actor a bearer token speaks for, or None for an unknown token.

    The lookup is by the token's digest, so the database never compares secrets; an attacker
    who could time it learns only about digests of their own guesses.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with db.reading() as uow:
        return actor_of(tokens.holder_of_token(uow.session, hash_token(token)))
