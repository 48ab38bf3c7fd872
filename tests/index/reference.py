"""A reference for the decision index, read straight from the tables: the catalog as the
rules compute it from SQL facts, for every specification of a page of products.

Test code only: it shares `domain.decision.decide` with the product, but nothing of the
index, so the index is checked against an independent reading of the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from offerscope.domain.decision import Offer, decide
from offerscope.domain.limits import check_page_size
from offerscope.domain.targets import AccountType, Setting, Target, effective_target
from offerscope.domain.windows import EntryStatus, Lapse, Window, lapse_of
from offerscope.services.actors import Actor
from offerscope.services.paging import encode_cursor, int_cursor
from offerscope.services.views import CatalogProduct, CatalogSpecification, Page
from offerscope.storage.tables import (
    AccountRow,
    ListEntryRow,
    ListGroupRow,
    ListRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SellerRow,
    SpecificationAssociationRow,
    SpecificationRow,
    counted_purchase,
)
from offerscope.storage.unit_of_work import Database


def load_offers(session: Session, product_pks: Iterable[int]) -> list[Offer]:
    """Every specification's offer for these products, in a fixed number of queries."""
    product_pks = list(product_pks)
    if not product_pks:
        return []
    product_links: dict[int, set[str]] = {}
    for owner_pk, other_id in session.execute(
        select(ProductAssociationRow.product_pk, ProductRow.product_id)
        .join(ProductRow, ProductRow.pk == ProductAssociationRow.associated_product_pk)
        .where(ProductAssociationRow.product_pk.in_(product_pks))
    ):
        product_links.setdefault(owner_pk, set()).add(other_id)
    spec_links: dict[int, set[str]] = {}
    owner = SpecificationRow.__table__.alias("owner")
    for owner_pk, other_id in session.execute(
        select(SpecificationAssociationRow.specification_pk, SpecificationRow.specification_id)
        .join(
            SpecificationRow,
            SpecificationRow.pk == SpecificationAssociationRow.associated_specification_pk,
        )
        .join(owner, owner.c.pk == SpecificationAssociationRow.specification_pk)
        .where(owner.c.product_pk.in_(product_pks))
    ):
        spec_links.setdefault(owner_pk, set()).add(other_id)
    rows = session.execute(
        select(
            SpecificationRow.pk,
            SpecificationRow.specification_id,
            SpecificationRow.setting,
            ProductRow.pk,
            ProductRow.product_id,
            ProductRow.target,
        )
        .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
        .where(ProductRow.pk.in_(product_pks))
        .order_by(ProductRow.pk, SpecificationRow.pk)
    )
    return [
        Offer(
            product_id=product_id,
            specification_id=spec_id,
            product_target=Target(target),
            setting=Setting(setting),
            associated_products=frozenset(product_links.get(product_pk, ())),
            associated_specifications=frozenset(spec_links.get(spec_pk, ())),
        )
        for spec_pk, spec_id, setting, product_pk, product_id, target in rows
    ]


@dataclass(frozen=True)
class PreloadedBuyerFacts:
    """Everything about one account that any decision could ask, read up front, at `now`."""

    account_type: AccountType
    # The account's entries, its own and its groups' (R17), by the list owner's ID.
    product_lists: dict[str, list[Window]]
    specification_lists: dict[str, list[Window]]
    bought_products: frozenset[str]
    bought_specifications: frozenset[str]
    now: datetime

    def _counts(self, entries: list[Window]) -> bool:
        return any(entry.status(self.now) is EntryStatus.ACTIVE for entry in entries)

    def on_product_list(self, product_id: str) -> bool:
        return self._counts(self.product_lists.get(product_id, []))

    def on_specification_list(self, specification_id: str) -> bool:
        return self._counts(self.specification_lists.get(specification_id, []))

    def product_list_lapse(self, product_id: str) -> tuple[Lapse, datetime] | None:
        return lapse_of(self.product_lists.get(product_id, []), self.now)

    def specification_list_lapse(self, specification_id: str) -> tuple[Lapse, datetime] | None:
        return lapse_of(self.specification_lists.get(specification_id, []), self.now)

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        return not self.bought_products.isdisjoint(product_ids)

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        return not self.bought_specifications.isdisjoint(specification_ids)


def _entries(
    session: Session, owner_id: Any, owner_pk: Any, list_owner: Any, account_pk: int
) -> dict[str, list[Window]]:
    """The account's entries on lists of one kind, by the owner's public ID: on the list
    itself, and on the lists of the groups it holds (R17)."""
    own = (
        select(owner_id, ListEntryRow.valid_from, ListEntryRow.valid_until)
        .join(ListRow, list_owner == owner_pk)
        .join(ListEntryRow, ListEntryRow.list_pk == ListRow.pk)
        .where(ListEntryRow.account_pk == account_pk)
    )
    members = aliased(ListRow)
    grouped = (
        select(owner_id, ListEntryRow.valid_from, ListEntryRow.valid_until)
        .join(ListRow, list_owner == owner_pk)
        .join(ListGroupRow, ListGroupRow.list_pk == ListRow.pk)
        .join(members, members.group_pk == ListGroupRow.group_pk)
        .join(ListEntryRow, ListEntryRow.list_pk == members.pk)
        .where(ListEntryRow.account_pk == account_pk)
    )
    found: dict[str, list[Window]] = {}
    for query in (own, grouped):
        for owner, start, end in session.execute(query):
            found.setdefault(owner, []).append(Window(start, end))
    return found


def preload_buyer(session: Session, account: AccountRow, now: datetime) -> PreloadedBuyerFacts:
    paid = (OrderRow.account_pk == account.pk) & counted_purchase()
    return PreloadedBuyerFacts(
        account_type=AccountType(account.account_type),
        product_lists=_entries(
            session, ProductRow.product_id, ProductRow.pk, ListRow.product_pk, account.pk
        ),
        specification_lists=_entries(
            session,
            SpecificationRow.specification_id,
            SpecificationRow.pk,
            ListRow.specification_pk,
            account.pk,
        ),
        bought_products=frozenset(
            session.scalars(
                select(ProductRow.product_id)
                .join(OrderRow, OrderRow.product_pk == ProductRow.pk)
                .where(paid)
                .distinct()
            )
        ),
        bought_specifications=frozenset(
            session.scalars(
                select(SpecificationRow.specification_id)
                .join(OrderRow, OrderRow.specification_pk == SpecificationRow.pk)
                .where(paid)
                .distinct()
            )
        ),
        now=now,
    )


def catalog_from_database(
    db: Database,
    actor: Actor,
    *,
    limit: int = 100,
    cursor: str | None = None,
    now: datetime | None = None,
) -> Page[CatalogProduct]:
    """`catalog.catalog` read straight from the tables, at `now` (R16; the present)."""
    now = now or datetime.now(UTC)
    limit = check_page_size(limit)
    after = int_cursor(cursor)
    with db.reading() as uow:
        session = uow.session
        query = (
            select(
                ProductRow.pk,
                ProductRow.product_id,
                ProductRow.name,
                ProductRow.target,
                SellerRow.name,
            )
            .join(SellerRow, SellerRow.pk == ProductRow.seller_pk)
            .order_by(ProductRow.pk)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(ProductRow.pk > after)
        products: list[tuple[int, str, str, str, str]] = [
            (pk, product_id, name, target, seller)
            for pk, product_id, name, target, seller in session.execute(query)
        ]
        more = len(products) > limit
        products = products[:limit]
        pks = [row[0] for row in products]
        account = session.get(AccountRow, actor.account_pk)
        buyer = preload_buyer(session, account, now) if account else None
        names: dict[str, str] = {
            spec_id: name
            for spec_id, name in session.execute(
                select(SpecificationRow.specification_id, SpecificationRow.name).where(
                    SpecificationRow.product_pk.in_(pks)
                )
            )
        }
        by_product: dict[str, list[CatalogSpecification]] = {}
        for offer in load_offers(session, pks):
            by_product.setdefault(offer.product_id, []).append(
                CatalogSpecification(
                    specification_id=offer.specification_id,
                    name=names[offer.specification_id],
                    effective_target=effective_target(offer.product_target, offer.setting),
                    decision=decide(offer, buyer),
                )
            )
        items = [
            CatalogProduct(
                product_id=product_id,
                name=name,
                seller_name=seller,
                target=Target(target),
                specifications=by_product.get(product_id, []),
            )
            for _pk, product_id, name, target, seller in products
        ]
        return Page(items, encode_cursor(products[-1][0]) if more else None)
