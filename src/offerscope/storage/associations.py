"""Associations: a product's associated products (R7), a specification's associated
specifications (R8). One `Links` describes each table, so every query is written once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Table, delete, insert, select
from sqlalchemy.orm import Session

from offerscope.storage.paging import paginate
from offerscope.storage.tables import (
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
)


def _table(row: type[Any]) -> Table:
    return cast(Table, row.__table__)


@dataclass(frozen=True)
class Links:
    """One kind of association: its table, and the things it links.

    `scope` is the column that makes a candidate a sibling: another product of the same
    seller (R7), another specification of the same product (R8).
    """

    table: Table
    owner: Column[int]
    other: Column[int]
    things: Table
    public_id: Column[str]
    scope: Column[int]


PRODUCT_LINKS = Links(
    table=_table(ProductAssociationRow),
    owner=_table(ProductAssociationRow).c.product_pk,
    other=_table(ProductAssociationRow).c.associated_product_pk,
    things=_table(ProductRow),
    public_id=_table(ProductRow).c.product_id,
    scope=_table(ProductRow).c.seller_pk,
)
SPECIFICATION_LINKS = Links(
    table=_table(SpecificationAssociationRow),
    owner=_table(SpecificationAssociationRow).c.specification_pk,
    other=_table(SpecificationAssociationRow).c.associated_specification_pk,
    things=_table(SpecificationRow),
    public_id=_table(SpecificationRow).c.specification_id,
    scope=_table(SpecificationRow).c.product_pk,
)


def linked_page(
    session: Session, links: Links, owner_pk: int, *, after: int | None, limit: int | None
) -> tuple[list[tuple[int, str, str]], bool]:
    """(pk, public ID, name) of what the owner is associated with, in creation order: a page
    of `limit`, or all of them."""
    things = links.things
    query = (
        select(things.c.pk, links.public_id, things.c.name)
        .join(links.table, links.other == things.c.pk)
        .where(links.owner == owner_pk)
    )
    if limit is None:
        found = session.execute(query.order_by(things.c.pk))
        return [(pk, public, name) for pk, public, name in found], False
    rows, more = paginate(session, query, things.c.pk, after=after, limit=limit)
    return [(pk, public, name) for pk, public, name in rows], more


def linked_pks(session: Session, links: Links, owner_pk: int) -> set[int]:
    return set(session.scalars(select(links.other).where(links.owner == owner_pk)))


def siblings(
    session: Session, links: Links, scope_pk: int, candidate_ids: Sequence[str]
) -> dict[str, int]:
    """The candidates R7 (R8) could accept, by public ID: those in the owner's scope."""
    rows = session.execute(
        select(links.public_id, links.things.c.pk).where(
            links.scope == scope_pk, links.public_id.in_(candidate_ids)
        )
    )
    return {public_id: pk for public_id, pk in rows}


def name_of(session: Session, links: Links, pk: int) -> str:
    """The name of one linked thing (a product or a specification)."""
    return session.scalar(select(links.things.c.name).where(links.things.c.pk == pk)) or ""


def add_link(session: Session, links: Links, owner_pk: int, other_pk: int, now: datetime) -> None:
    session.execute(
        insert(links.table).values(
            {links.owner.key: owner_pk, links.other.key: other_pk, "added_at": now}
        )
    )


def remove_link(session: Session, links: Links, owner_pk: int, other_pk: int) -> bool:
    """Remove one association; whether there was one."""
    result = session.execute(
        delete(links.table).where(links.owner == owner_pk, links.other == other_pk)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount > 0
