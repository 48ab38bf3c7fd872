"""R19: a seller's whole target-customer state, read in a handful of set queries.

One query per kind of thing (products, specifications, lists, entries, associations), each in
a stable order, so that an export of 200,000 entries costs a few hundred milliseconds and the
same state always reads the same (its fingerprint depends on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from offerscope.storage.bulk import ACCOUNTS
from offerscope.storage.lists import ENTRIES
from offerscope.storage.tables import (
    ListRow,
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
)


@dataclass(frozen=True)
class StoredEntry:
    account_id: str
    account_name: str  # as entered (R5)
    valid_from: datetime | None
    valid_until: datetime | None


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


@dataclass
class StoredProduct:
    product: StoredOwner
    specifications: list[StoredOwner] = field(default_factory=list)


def lock_products(session: Session, seller_pk: int) -> None:
    """Lock every product of the seller (PostgreSQL), in key order: every change to a
    product's target customers queues on its row, so none slips in while config applies."""
    session.execute(
        select(ProductRow.pk)
        .where(ProductRow.seller_pk == seller_pk)
        .order_by(ProductRow.pk)
        .with_for_update()
    ).all()


def seller_state(session: Session, seller_pk: int) -> list[StoredProduct]:
    """Every product of the seller with its specifications, lists and associations."""
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
    by_list = _lists(session, seller_pk, products, specs)
    for list_pk, entry in _entries(session, sorted(by_list)):
        by_list[list_pk].entries.append(entry)
    _associations(session, seller_pk, products, specs)
    return list(products.values())


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


def _entries(session: Session, list_pks: list[int]) -> Iterator[tuple[int, StoredEntry]]:
    """The entries of these lists, a batch of lists at a time (each read along its key)."""
    for start in range(0, len(list_pks), LISTS_PER_QUERY):
        yield from _entries_of(session, list_pks[start : start + LISTS_PER_QUERY])


LISTS_PER_QUERY = 500


def _entries_of(session: Session, list_pks: list[int]) -> Iterator[tuple[int, StoredEntry]]:
    # Core rows on the session's connection: no ORM bookkeeping for 100,000s of tuples.
    rows = session.connection().execute(
        select(
            ENTRIES.c.list_pk,
            ACCOUNTS.c.account_id,
            ENTRIES.c.entered_name,
            ENTRIES.c.valid_from,
            ENTRIES.c.valid_until,
        )
        .join(ACCOUNTS, ACCOUNTS.c.pk == ENTRIES.c.account_pk)
        .where(ENTRIES.c.list_pk.in_(list_pks))
        .order_by(ENTRIES.c.list_pk, ENTRIES.c.account_pk)
    )
    for list_pk, account_id, name, valid_from, valid_until in rows:
        yield list_pk, StoredEntry(account_id, name, valid_from, valid_until)


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
