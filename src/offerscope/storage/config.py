"""R19: a seller's whole target-customer state, read in a handful of set queries.

One query per kind of thing (products, specifications, lists, entries, associations, groups
and their places on lists), each in a stable order, so that an export of 200,000 entries
costs a few hundred milliseconds and the same state always reads the same (its fingerprint
depends on it). Entries are read on the driver's cursor as plain tuples: the ORM's and even
Core's per-row work was most of an export's time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from offerscope.storage.bulk import BulkIo
from offerscope.storage.tables import (
    CustomerGroupRow,
    ListGroupRow,
    ListRow,
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
)

StoredEntry = tuple[int, int, str, str, datetime | None, datetime | None]
"""An entry of a list as the driver gives it: (list_pk, account_pk, account_id, name as
entered (R5), valid_from, valid_until). A plain tuple: a plan reads 100,000s of them, and an
object per row was most of its time."""
ACCOUNT_PK: Final = 1
ACCOUNT_ID: Final = 2
ENTERED_NAME: Final = 3
VALID_FROM: Final = 4
VALID_UNTIL: Final = 5


@dataclass
class StoredOwner:
    """A product's or a specification's own state: its setting, list and associations."""

    pk: int
    public_id: str
    name: str
    setting: str
    list_pk: int = 0
    entries: list[StoredEntry] = field(default_factory=list)
    associated: list[str] = field(default_factory=list)  # public IDs, in creation order
    groups: list[str] = field(default_factory=list)  # R17: group IDs on the list, as attached


@dataclass
class StoredProduct:
    product: StoredOwner
    specifications: list[StoredOwner] = field(default_factory=list)


@dataclass
class StoredGroup:
    """R17: a customer group and its members (the entries of its own list)."""

    pk: int
    group_id: str
    name: str
    list_pk: int
    entries: list[StoredEntry] = field(default_factory=list)


@dataclass
class SellerState:
    products: list[StoredProduct]
    groups: list[StoredGroup]

    def entries_by_list(self) -> dict[int, list[StoredEntry]]:
        """Every list's entries by the list's pk."""
        found = {g.list_pk: g.entries for g in self.groups}
        for p in self.products:
            found[p.product.list_pk] = p.product.entries
            found.update((s.list_pk, s.entries) for s in p.specifications)
        return found


def lock_products(session: Session, seller_pk: int) -> None:
    """Lock every product of the seller (PostgreSQL), in key order: every change to a
    product's target customers queues on its row, so none slips in while config applies."""
    session.execute(
        select(ProductRow.pk)
        .where(ProductRow.seller_pk == seller_pk)
        .order_by(ProductRow.pk)
        .with_for_update()
    ).all()


def lock_groups(session: Session, seller_pk: int) -> None:
    """Lock every customer group of the seller (PostgreSQL), as `lock_products` does."""
    session.execute(
        select(CustomerGroupRow.pk)
        .where(CustomerGroupRow.seller_pk == seller_pk)
        .order_by(CustomerGroupRow.pk)
        .with_for_update()
    ).all()


def seller_state(
    session: Session, seller_pk: int, known: Mapping[int, list[StoredEntry]] | None = None
) -> SellerState:
    """Every product of the seller with its specifications, lists, associations and groups
    on its lists, and every group of the seller with its members. The entries of a list in
    `known` (by list pk) are taken from it rather than read again."""
    products: dict[int, StoredProduct] = {}
    for pk, public_id, name, target in session.execute(
        select(ProductRow.pk, ProductRow.product_id, ProductRow.name, ProductRow.target)
        .where(ProductRow.seller_pk == seller_pk)
        .order_by(ProductRow.pk)
    ):
        products[pk] = StoredProduct(StoredOwner(pk, public_id, name, target))
    specs: dict[int, StoredOwner] = {}
    for pk, product_pk, public_id, name, setting in session.execute(
        select(
            SpecificationRow.pk,
            SpecificationRow.product_pk,
            SpecificationRow.specification_id,
            SpecificationRow.name,
            SpecificationRow.setting,
        )
        .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
        .where(ProductRow.seller_pk == seller_pk)
        .order_by(SpecificationRow.pk)
    ):
        specs[pk] = StoredOwner(pk, public_id, name, setting)
        products[product_pk].specifications.append(specs[pk])
    by_list: dict[int, StoredOwner | StoredGroup] = dict(
        _lists(session, seller_pk, products, specs)
    )
    found_groups = _groups(session, seller_pk)
    by_list.update((g.list_pk, g) for g in found_groups)
    known = known or {}
    for list_pk, holder in by_list.items():
        if list_pk in known:
            holder.entries = list(known[list_pk])
    for list_pk, entries in _entries(session, sorted(set(by_list) - set(known))):
        by_list[list_pk].entries = entries
    _associations(session, seller_pk, products, specs)
    _groups_on_lists(session, seller_pk, by_list)
    return SellerState(list(products.values()), found_groups)


def _groups(session: Session, seller_pk: int) -> list[StoredGroup]:
    """R17: the seller's groups in creation order, each with its list's pk."""
    return [
        StoredGroup(pk, group_id, name, list_pk)
        for pk, group_id, name, list_pk in session.execute(
            select(
                CustomerGroupRow.pk, CustomerGroupRow.group_id, CustomerGroupRow.name, ListRow.pk
            )
            .join(ListRow, ListRow.group_pk == CustomerGroupRow.pk)
            .where(CustomerGroupRow.seller_pk == seller_pk)
            .order_by(CustomerGroupRow.pk)
        )
    ]


def _groups_on_lists(
    session: Session, seller_pk: int, by_list: Mapping[int, StoredOwner | StoredGroup]
) -> None:
    """R17: the groups on each of the seller's specified-user lists, in attaching order."""
    for list_pk, group_id in session.execute(
        select(ListGroupRow.list_pk, CustomerGroupRow.group_id)
        .join(CustomerGroupRow, CustomerGroupRow.pk == ListGroupRow.group_pk)
        .where(CustomerGroupRow.seller_pk == seller_pk)
        .order_by(ListGroupRow.list_pk, ListGroupRow.added_at, CustomerGroupRow.pk)
    ):
        holder = by_list.get(list_pk)
        if isinstance(holder, StoredOwner):
            holder.groups.append(group_id)


def _lists(
    session: Session,
    seller_pk: int,
    products: dict[int, StoredProduct],
    specs: dict[int, StoredOwner],
) -> dict[int, StoredOwner]:
    owned = _seller_lists(seller_pk)
    by_list: dict[int, StoredOwner] = {}
    for list_pk, product_pk, spec_pk in session.execute(
        select(ListRow.pk, ListRow.product_pk, ListRow.specification_pk).where(
            ListRow.pk.in_(owned)
        )
    ):
        if product_pk is not None:
            found = products[product_pk].product
        else:
            assert spec_pk is not None, "a list is a product's or a specification's"
            found = specs[spec_pk]
        found.list_pk = list_pk
        by_list[list_pk] = found
    return by_list


def _seller_lists(seller_pk: int) -> Select[int]:
    """The pks of the seller's products' and specifications' lists (a subquery)."""
    own_products = select(ProductRow.pk).where(ProductRow.seller_pk == seller_pk)
    own_specs = select(SpecificationRow.pk).where(SpecificationRow.product_pk.in_(own_products))
    return select(ListRow.pk).where(
        ListRow.product_pk.in_(own_products) | ListRow.specification_pk.in_(own_specs)
    )


def _entries(session: Session, list_pks: list[int]) -> Iterator[tuple[int, list[StoredEntry]]]:
    """The entries of these lists, by list, a batch of lists at a time (each read along its
    key)."""
    bulk = BulkIo(session)
    for start in range(0, len(list_pks), LISTS_PER_QUERY):
        rows = bulk.list_entries(list_pks[start : start + LISTS_PER_QUERY])
        for at, row in enumerate(rows):
            if row[VALID_FROM] is not None or row[VALID_UNTIL] is not None:
                rows[at] = _with_moments(bulk, row)
        for list_pk, entries in groupby(rows, itemgetter(0)):
            yield list_pk, list(entries)


LISTS_PER_QUERY = 500


def _with_moments(bulk: BulkIo, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row with a window (R16), its ends as datetimes (SQLite gives text)."""
    return (*row[:VALID_FROM], bulk.moment(row[VALID_FROM]), bulk.moment(row[VALID_UNTIL]))


def _associations(
    session: Session,
    seller_pk: int,
    products: dict[int, StoredProduct],
    specs: dict[int, StoredOwner],
) -> None:
    other = aliased(ProductRow)
    for owner_pk, other_id in session.execute(
        select(ProductAssociationRow.product_pk, other.product_id)
        .join(other, other.pk == ProductAssociationRow.associated_product_pk)
        .where(other.seller_pk == seller_pk)
        .order_by(ProductAssociationRow.product_pk, ProductAssociationRow.associated_product_pk)
    ):
        products[owner_pk].product.associated.append(other_id)
    other_spec = aliased(SpecificationRow)
    for owner_pk, other_id in session.execute(
        select(SpecificationAssociationRow.specification_pk, other_spec.specification_id)
        .join(other_spec, other_spec.pk == SpecificationAssociationRow.associated_specification_pk)
        .join(ProductRow, ProductRow.pk == other_spec.product_pk)
        .where(ProductRow.seller_pk == seller_pk)
        .order_by(
            SpecificationAssociationRow.specification_pk,
            SpecificationAssociationRow.associated_specification_pk,
        )
    ):
        specs[owner_pk].associated.append(other_id)
