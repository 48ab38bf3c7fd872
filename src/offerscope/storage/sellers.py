"""Sellers."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.storage.tables import SellerRow


def add_seller(session: Session, seller_id: str, name: str, now: datetime) -> SellerRow:
    row = SellerRow(seller_id=seller_id, name=name, created_at=now)
    session.add(row)
    session.flush()
    return row


def seller_pk(session: Session, seller_id: str) -> int | None:
    return session.scalar(select(SellerRow.pk).where(SellerRow.seller_id == seller_id))


def seller_name(session: Session, pk: int) -> str | None:
    return session.scalar(select(SellerRow.name).where(SellerRow.pk == pk))


def names_by_id(session: Session, seller_ids: Collection[str]) -> dict[str, str]:
    """The names of the sellers with these public IDs."""
    if not seller_ids:
        return {}
    rows = session.execute(
        select(SellerRow.seller_id, SellerRow.name).where(SellerRow.seller_id.in_(seller_ids))
    )
    return {seller_id: name for seller_id, name in rows}
