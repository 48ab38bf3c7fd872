"""Small helpers every use case shares: IDs, time, cursors, ownership and history."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.domain.errors import Invalid, NotFound
from offerscope.services.views import Actor
from offerscope.storage.tables import HistoryRow, ProductRow, SpecificationRow
from offerscope.storage.unit_of_work import UnitOfWork


def new_id(prefix: str) -> str:
    """A server-generated public ID: a short prefix naming its kind and 64 random bits."""
    return f"{prefix}_{secrets.token_hex(8)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The position a cursor stands for; None for the first page."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise Invalid(
            "invalid_request",
            "The cursor is not one this server gave out; start again without it.",
            field="cursor",
        ) from error


# Positions are surrogate keys: 32-bit INTEGER columns. A position outside them was never
# given out, and the database would refuse to compare with it rather than find nothing.
_MAX_POSITION = 2**31 - 1


def int_cursor(cursor: str | None) -> int | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    if (
        isinstance(position, int)
        and not isinstance(position, bool)
        and 0 <= position <= _MAX_POSITION
    ):
        return position
    raise Invalid("invalid_request", "The cursor is not one this server gave out.", field="cursor")


PRODUCT_NOT_FOUND = "No product with this ID exists in your catalogue."
SPECIFICATION_NOT_FOUND = "No specification with this ID exists under this product."


def own_product(
    uow: UnitOfWork, actor: Actor, product_id: str, *, lock: bool = False
) -> ProductRow:
    """R9: the seller's own product, else 404 exactly as for a missing one.

    With `lock`, the product row is locked for update on PostgreSQL: every change to a
    product's target customers and every order of it queue on this one row.
    """
    query = select(ProductRow).where(
        ProductRow.product_id == product_id, ProductRow.seller_pk == actor.seller_pk
    )
    if lock and uow.locks_rows:
        query = query.with_for_update()
    product = uow.session.scalar(query)
    if product is None:
        raise NotFound("product_not_found", PRODUCT_NOT_FOUND, product_id=product_id)
    return product


def own_specification(
    session: Session, product: ProductRow, specification_id: str
) -> SpecificationRow:
    """R9: a specification of this (already owned) product, else 404."""
    spec = session.scalar(
        select(SpecificationRow).where(
            SpecificationRow.specification_id == specification_id,
            SpecificationRow.product_pk == product.pk,
        )
    )
    if spec is None:
        raise NotFound(
            "specification_not_found", SPECIFICATION_NOT_FOUND, specification_id=specification_id
        )
    return spec


def record(
    session: Session,
    actor: Actor,
    product: ProductRow,
    action: str,
    *,
    specification_id: str | None = None,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> None:
    """R13: append one history entry in the caller's transaction."""
    session.add(
        HistoryRow(
            product_pk=product.pk,
            specification_id=specification_id,
            actor=actor.label,
            action=action,
            subject=subject,
            before=before,
            after=after,
            at=utcnow(),
        )
    )
