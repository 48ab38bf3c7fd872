"""Sellers."""

from __future__ import annotations

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
