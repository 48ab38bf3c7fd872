"""R17: customer groups, their lists, and the specified-user lists that hold them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from offerscope.storage.tables import (
    CustomerGroupRow,
    HistoryRow,
    ListEntryRow,
    ListGroupRow,
    ListRow,
    ProductRow,
    SpecificationRow,
)


def add_group(
    session: Session, seller_pk: int, group_id: str, name: str, now: datetime
) -> tuple[CustomerGroupRow, int]:
    """A new group and its (empty) list of members: the row and the list's pk."""
    group = CustomerGroupRow(group_id=group_id, seller_pk=seller_pk, name=name, created_at=now)
    session.add(group)
    session.flush()
    members = ListRow(group_pk=group.pk)
    session.add(members)
    session.flush()
    return group, members.pk


def own_group(
    session: Session, seller_pk: int | None, group_id: str, *, lock: bool = False
) -> CustomerGroupRow | None:
    """The seller's group with this ID (R9: another seller's is not found)."""
    query = select(CustomerGroupRow).where(
        CustomerGroupRow.group_id == group_id, CustomerGroupRow.seller_pk == seller_pk
    )
    return session.scalar(query.with_for_update() if lock else query)


def named(session: Session, seller_pk: int, name: str) -> CustomerGroupRow | None:
    return session.scalar(
        select(CustomerGroupRow).where(
            CustomerGroupRow.seller_pk == seller_pk, CustomerGroupRow.name == name
        )
    )


def list_of_group(session: Session, group_pk: int) -> int:
    found = session.scalar(select(ListRow.pk).where(ListRow.group_pk == group_pk))
    assert found is not None, "every group has its list"
    return found


@dataclass(frozen=True)
class GroupSummary:
    group: CustomerGroupRow
    list_pk: int
    members: int
    lists: int  # how many specified-user lists hold it


def seller_groups(
    session: Session, seller_pk: int | None, limit: int, after: int | None = None
) -> list[GroupSummary]:
    """The seller's groups in creation order (after the group of pk `after`), each with its
    member and list counts."""
    members = (
        select(func.count())
        .select_from(ListEntryRow)
        .where(ListEntryRow.list_pk == ListRow.pk)
        .scalar_subquery()
    )
    holding = (
        select(func.count())
        .select_from(ListGroupRow)
        .where(ListGroupRow.group_pk == CustomerGroupRow.pk)
        .scalar_subquery()
    )
    rows = session.execute(
        select(CustomerGroupRow, ListRow.pk, members, holding)
        .join(ListRow, ListRow.group_pk == CustomerGroupRow.pk)
        .where(CustomerGroupRow.seller_pk == seller_pk, CustomerGroupRow.pk > (after or 0))
        .order_by(CustomerGroupRow.pk)
        .limit(limit)
    )
    return [GroupSummary(group, list_pk, n, held) for group, list_pk, n, held in rows]


@dataclass(frozen=True)
class Holder:
    """A specified-user list holding a group: its product and, if any, specification."""

    product_id: str
    product_name: str
    specification_id: str | None
    specification_name: str | None

    def describe(self) -> str:
        if self.specification_name is None:
            return f"{self.product_name} ({self.product_id})"
        return f"{self.product_name} / {self.specification_name} ({self.specification_id})"


def holders(session: Session, group_pk: int) -> list[Holder]:
    """The specified-user lists holding a group, products' lists first."""
    on_products = session.execute(
        select(ProductRow.product_id, ProductRow.name)
        .join(ListRow, ListRow.product_pk == ProductRow.pk)
        .join(ListGroupRow, ListGroupRow.list_pk == ListRow.pk)
        .where(ListGroupRow.group_pk == group_pk)
        .order_by(ProductRow.pk)
    )
    on_specs = session.execute(
        select(
            ProductRow.product_id,
            ProductRow.name,
            SpecificationRow.specification_id,
            SpecificationRow.name,
        )
        .join(SpecificationRow, SpecificationRow.product_pk == ProductRow.pk)
        .join(ListRow, ListRow.specification_pk == SpecificationRow.pk)
        .join(ListGroupRow, ListGroupRow.list_pk == ListRow.pk)
        .where(ListGroupRow.group_pk == group_pk)
        .order_by(SpecificationRow.pk)
    )
    return [Holder(pid, name, None, None) for pid, name in on_products] + [
        Holder(pid, name, sid, sname) for pid, name, sid, sname in on_specs
    ]


def groups_on(session: Session, list_pk: int) -> list[tuple[CustomerGroupRow, int]]:
    """The groups on a specified-user list, each with its own list's pk, as attached."""
    rows = session.execute(
        select(CustomerGroupRow, ListRow.pk)
        .join(ListGroupRow, ListGroupRow.group_pk == CustomerGroupRow.pk)
        .join(ListRow, ListRow.group_pk == CustomerGroupRow.pk)
        .where(ListGroupRow.list_pk == list_pk)
        .order_by(ListGroupRow.added_at, CustomerGroupRow.pk)
    )
    return [(group, pk) for group, pk in rows]


def is_attached(session: Session, list_pk: int, group_pk: int) -> bool:
    return session.get(ListGroupRow, (list_pk, group_pk)) is not None


def attach(session: Session, list_pk: int, group_pk: int, now: datetime) -> None:
    session.add(ListGroupRow(list_pk=list_pk, group_pk=group_pk, added_at=now))


def detach(session: Session, list_pk: int, group_pk: int) -> None:
    session.execute(
        delete(ListGroupRow).where(
            ListGroupRow.list_pk == list_pk, ListGroupRow.group_pk == group_pk
        )
    )


def delete_group(session: Session, group: CustomerGroupRow, list_pk: int) -> None:
    """A group no list holds, its members, its list and its own history (nothing can read it
    once the group is gone; the products' histories keep their attach and detach entries)."""
    session.execute(delete(HistoryRow).where(HistoryRow.group_pk == group.pk))
    session.execute(delete(ListEntryRow).where(ListEntryRow.list_pk == list_pk))
    session.execute(delete(ListRow).where(ListRow.pk == list_pk))
    session.delete(group)
