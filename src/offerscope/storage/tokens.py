"""Access tokens (kept only as digests) and the sessions signed in with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from offerscope.storage.tables import AccountRow, SellerRow, TokenRow, WebSessionRow

# (role, seller pk, seller ID, account pk, account ID) of one token.
TokenHolder = tuple[str, int | None, str | None, int | None, str | None]


def _holder(
    session: Session, *conditions: ColumnElement[bool], start: Any = None
) -> TokenHolder | None:
    # Columns, not an ORM entity: this runs on every request.
    query = select(
        TokenRow.role,
        TokenRow.seller_pk,
        SellerRow.seller_id,
        TokenRow.account_pk,
        AccountRow.account_id,
    )
    if start is not None:
        query = query.select_from(start)
    row = session.execute(
        query.outerjoin(SellerRow, SellerRow.pk == TokenRow.seller_pk)
        .outerjoin(AccountRow, AccountRow.pk == TokenRow.account_pk)
        .where(*conditions)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


def all_holders(session: Session) -> dict[str, TokenHolder]:
    """Every token's digest and whom it speaks for (the decision index keeps them)."""
    rows = session.execute(
        select(
            TokenRow.token_hash,
            TokenRow.role,
            TokenRow.seller_pk,
            SellerRow.seller_id,
            TokenRow.account_pk,
            AccountRow.account_id,
        )
        .outerjoin(SellerRow, SellerRow.pk == TokenRow.seller_pk)
        .outerjoin(AccountRow, AccountRow.pk == TokenRow.account_pk)
    )
    return {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in rows}


def delete_token(session: Session, token_hash: str) -> bool:
    """Delete a token and the web sessions signed in with it; whether there was one."""
    found = token_pk(session, token_hash)
    if found is None:
        return False
    session.execute(delete(WebSessionRow).where(WebSessionRow.token_pk == found))
    session.execute(delete(TokenRow).where(TokenRow.pk == found))
    return True


def holder_of_token(session: Session, token_hash: str) -> TokenHolder | None:
    """Whom the token with this digest speaks for."""
    return _holder(session, TokenRow.token_hash == token_hash)


def holder_of_session(session: Session, key_hash: str, now: datetime) -> TokenHolder | None:
    """Whom a live web session speaks for (None once it was ended or has expired)."""
    start = WebSessionRow.__table__.join(TokenRow.__table__, TokenRow.pk == WebSessionRow.token_pk)
    return _holder(
        session, WebSessionRow.key_hash == key_hash, WebSessionRow.expires_at > now, start=start
    )


def token_pk(session: Session, token_hash: str) -> int | None:
    return session.scalar(select(TokenRow.pk).where(TokenRow.token_hash == token_hash))


def add_token(
    session: Session,
    token_hash: str,
    role: str,
    seller_pk: int | None,
    account_pk: int | None,
    now: datetime,
) -> None:
    session.add(
        TokenRow(
            token_hash=token_hash,
            role=role,
            seller_pk=seller_pk,
            account_pk=account_pk,
            created_at=now,
        )
    )


def add_session(
    session: Session, key_hash: str, token: int, now: datetime, expires_at: datetime
) -> None:
    """A new web session; the expired ones are swept on the way."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    session.add(
        WebSessionRow(key_hash=key_hash, token_pk=token, created_at=now, expires_at=expires_at)
    )


def end_session(session: Session, key_hash: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.key_hash == key_hash))
