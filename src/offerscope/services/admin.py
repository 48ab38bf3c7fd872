"""The operator's use cases: accounts, sellers and tokens; and authenticating a token."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from offerscope.domain.errors import Conflict, Invalid, NotFound
from offerscope.domain.names import (
    account_id_key,
    check_display_name,
    normalize_account_id,
    normalize_account_name,
    parse_account_type,
)
from offerscope.domain.targets import AccountType
from offerscope.services.common import new_id, utcnow
from offerscope.services.views import AccountView, Actor, Role, SellerView
from offerscope.storage import changes
from offerscope.storage.facts import find_account
from offerscope.storage.tables import AccountRow, SellerRow, TokenRow
from offerscope.storage.unit_of_work import Database

TOKEN_PREFIX = "osk_"  # noqa: S105 (a prefix that marks offerscope tokens, not a secret)


def hash_token(token: str) -> str:
    """Tokens are kept only as SHA-256 digests: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def account_view(row: AccountRow) -> AccountView:
    return AccountView(row.account_id, row.account_name, AccountType(row.account_type))


def account_exists(account_id: str) -> Conflict:
    return Conflict(
        "account_exists", "An account with this ID is already registered.", account_id=account_id
    )


def _name_taken(account_name: str) -> Conflict:
    return Conflict(
        "account_name_taken",
        f"Another account is already named {account_name!r}; account names are unique.",
        field="account_name",
    )


def register_account(
    db: Database, account_id: str, account_name: str, account_type: AccountType | str
) -> AccountView:
    account_id = normalize_account_id(account_id)
    account_name = normalize_account_name(account_name)
    account_type = parse_account_type(account_type)
    with db.writing() as uow:
        session = uow.session
        if find_account(session, account_id) is not None:
            raise account_exists(account_id)
        if session.scalar(select(AccountRow.pk).where(AccountRow.account_name == account_name)):
            raise _name_taken(account_name)
        row = AccountRow(
            account_id=account_id,
            account_name=account_name,
            account_type=account_type.value,
            created_at=utcnow(),
        )
        session.add(row)
        _flush_unique(uow.session, account_name)
        uow.record_change(changes.AccountSet(row.pk, row.account_id, row.account_type))
        uow.commit()
        return account_view(row)


def _flush_unique(session: Session, account_name: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent writer took the ID or name first
        raise _name_taken(account_name) from error


def _unknown_account(account_id: str) -> NotFound:
    return NotFound("account_not_found", "No customer account has this ID.", account_id=account_id)


def get_account(db: Database, account_id: str) -> AccountView:
    key = account_id_key(account_id)
    with db.reading() as uow:
        row = find_account(uow.session, key) if key is not None else None
        if row is None:
            raise _unknown_account(account_id)
        return account_view(row)


def update_account(
    db: Database,
    account_id: str,
    *,
    account_name: str | None = None,
    account_type: AccountType | str | None = None,
) -> AccountView:
    """Rename an account or change its type. Lists keep the ID; decisions use the new type."""
    if account_name is not None:
        account_name = normalize_account_name(account_name)
    if account_type is not None:
        account_type = parse_account_type(account_type)
    key = account_id_key(account_id)
    with db.writing() as uow:
        session = uow.session
        query = select(AccountRow).where(AccountRow.account_id == key)
        if uow.locks_rows:
            query = query.with_for_update()
        row = session.scalar(query) if key is not None else None
        if row is None:
            raise _unknown_account(account_id)
        if account_name is not None and account_name != row.account_name:
            if session.scalar(select(AccountRow.pk).where(AccountRow.account_name == account_name)):
                raise _name_taken(account_name)
            row.account_name = account_name
        if account_type is not None:
            row.account_type = account_type.value
            uow.record_change(changes.AccountSet(row.pk, row.account_id, row.account_type))
        _flush_unique(session, row.account_name)
        uow.commit()
        return account_view(row)


def create_seller(db: Database, name: str) -> SellerView:
    name = check_display_name(name)
    with db.writing() as uow:
        row = SellerRow(seller_id=new_id("slr"), name=name, created_at=utcnow())
        uow.session.add(row)
        uow.session.flush()
        uow.record_change(changes.SellerSet(row.pk, row.name))
        uow.commit()
        return SellerView(row.seller_id, row.name)


def create_token(
    db: Database, role: Role, *, seller_id: str | None = None, account_id: str | None = None
) -> str:
    """Issue a token for a role; the plain token is returned once and never stored."""
    with db.writing() as uow:
        session = uow.session
        seller_pk = account_pk = None
        if role is Role.SELLER:
            if not seller_id:
                raise Invalid(
                    "invalid_request", "A seller token needs seller_id.", field="seller_id"
                )
            seller_pk = session.scalar(select(SellerRow.pk).where(SellerRow.seller_id == seller_id))
            if seller_pk is None:
                raise Invalid("seller_not_found", "No seller has this ID.", field="seller_id")
        elif role is Role.BUYER:
            if not account_id:
                raise Invalid(
                    "invalid_request", "A buyer token needs account_id.", field="account_id"
                )
            account = find_account(session, normalize_account_id(account_id))
            if account is None:
                raise Invalid(
                    "account_not_found", "No customer account has this ID.", field="account_id"
                )
            account_pk = account.pk
        elif seller_id or account_id:
            raise Invalid(
                "invalid_request", "An operator token names neither a seller nor an account."
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(
            TokenRow(
                token_hash=hash_token(token),
                role=role.value,
                seller_pk=seller_pk,
                account_pk=account_pk,
                created_at=utcnow(),
            )
        )
        uow.commit()
        return token


def authenticate(db: Database, token: str) -> Actor | None:
    """The actor a bearer token speaks for, or None for an unknown token.

    The lookup is by the token's digest, so the database never compares secrets; an attacker
    who could time it learns only about digests of their own guesses.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with db.reading() as uow:
        return actor_where(uow.session, TokenRow.token_hash == hash_token(token))


def actor_where(
    session: Session, *conditions: ColumnElement[bool], join: Any = None
) -> Actor | None:
    """The actor of the one token matching `conditions` (after `join`, if given), or None."""
    # Columns, not an ORM entity: this runs on every request.
    query = select(
        TokenRow.role,
        TokenRow.seller_pk,
        SellerRow.seller_id,
        TokenRow.account_pk,
        AccountRow.account_id,
    )
    if join is not None:
        query = query.select_from(join)
    row = session.execute(
        query.outerjoin(SellerRow, SellerRow.pk == TokenRow.seller_pk)
        .outerjoin(AccountRow, AccountRow.pk == TokenRow.account_pk)
        .where(*conditions)
    ).one_or_none()
    if row is None:
        return None
    role, seller_pk, seller_id, account_pk, account_id = row
    return Actor(
        role=Role(role),
        seller_pk=seller_pk,
        seller_id=seller_id,
        account_pk=account_pk,
        account_id=account_id,
    )


def seller_actor(db: Database, seller_id: str) -> Actor:
    """The actor of a seller, for use cases run on its behalf by the command line."""
    with db.reading() as uow:
        pk = uow.session.scalar(select(SellerRow.pk).where(SellerRow.seller_id == seller_id))
        if pk is None:
            raise NotFound("seller_not_found", "No seller has this ID.", seller_id=seller_id)
        return Actor(Role.SELLER, seller_pk=pk, seller_id=seller_id)


def seller_name(db: Database, seller_pk: int) -> str:
    with db.reading() as uow:
        return uow.session.scalar(select(SellerRow.name).where(SellerRow.pk == seller_pk)) or ""
