"""What a decision needs, read from the database: offers and the facts of one buyer.

Two ways to read a buyer: `SqlBuyerFacts` asks one indexed query per question, only when the
decision asks (a single check); `PreloadedBuyerFacts` reads everything about one account in
four queries (a catalog of many specifications).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from offerscope.domain.decision import Offer
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.storage.tables import (
    AccountRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    ProductUserRow,
    SpecificationAssociationRow,
    SpecificationRow,
    SpecificationUserRow,
    counted_purchase,
)


def load_offer(session: Session, specification_id: str) -> Offer | None:
    """The offer behind one specification, with its product's and its own associations."""
    row = session.execute(
        select(
            SpecificationRow.pk,
            SpecificationRow.setting,
            ProductRow.pk,
            ProductRow.product_id,
            ProductRow.target,
        )
        .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
        .where(SpecificationRow.specification_id == specification_id)
    ).one_or_none()
    if row is None:
        return None
    spec_pk, setting, product_pk, product_id, target = row
    products = frozenset(
        session.scalars(
            select(ProductRow.product_id)
            .join(
                ProductAssociationRow, ProductAssociationRow.associated_product_pk == ProductRow.pk
            )
            .where(ProductAssociationRow.product_pk == product_pk)
        )
    )
    specifications = frozenset(
        session.scalars(
            select(SpecificationRow.specification_id)
            .join(
                SpecificationAssociationRow,
                SpecificationAssociationRow.associated_specification_pk == SpecificationRow.pk,
            )
            .where(SpecificationAssociationRow.specification_pk == spec_pk)
        )
    )
    return Offer(
        product_id=product_id,
        specification_id=specification_id,
        product_target=Target(target),
        setting=Setting(setting),
        associated_products=products,
        associated_specifications=specifications,
    )


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


class SqlBuyerFacts:
    """One account's facts, each read by an indexed query when a rule first needs it."""

    def __init__(self, session: Session, account_pk: int, account_type: AccountType) -> None:
        self._session = session
        self._account_pk = account_pk
        self._account_type = account_type

    @property
    def account_type(self) -> AccountType:
        return self._account_type

    def on_product_list(self, product_id: str) -> bool:
        query = select(
            exists()
            .where(ProductUserRow.account_pk == self._account_pk)
            .where(ProductUserRow.product_pk == ProductRow.pk)
            .where(ProductRow.product_id == product_id)
        )
        return bool(self._session.scalar(query))

    def on_specification_list(self, specification_id: str) -> bool:
        query = select(
            exists()
            .where(SpecificationUserRow.account_pk == self._account_pk)
            .where(SpecificationUserRow.specification_pk == SpecificationRow.pk)
            .where(SpecificationRow.specification_id == specification_id)
        )
        return bool(self._session.scalar(query))

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        query = select(
            exists()
            .where(OrderRow.account_pk == self._account_pk)
            .where(counted_purchase())
            .where(OrderRow.product_pk == ProductRow.pk)
            .where(ProductRow.product_id.in_(product_ids))
        )
        return bool(self._session.scalar(query))

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        query = select(
            exists()
            .where(OrderRow.account_pk == self._account_pk)
            .where(counted_purchase())
            .where(OrderRow.specification_pk == SpecificationRow.pk)
            .where(SpecificationRow.specification_id.in_(specification_ids))
        )
        return bool(self._session.scalar(query))


@dataclass(frozen=True)
class PreloadedBuyerFacts:
    """Everything about one account that any decision could ask, read up front."""

    account_type: AccountType
    product_lists: frozenset[str]
    specification_lists: frozenset[str]
    bought_products: frozenset[str]
    bought_specifications: frozenset[str]

    def on_product_list(self, product_id: str) -> bool:
        return product_id in self.product_lists

    def on_specification_list(self, specification_id: str) -> bool:
        return specification_id in self.specification_lists

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        return not self.bought_products.isdisjoint(product_ids)

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        return not self.bought_specifications.isdisjoint(specification_ids)


def find_account(session: Session, account_id: str) -> AccountRow | None:
    return session.scalar(select(AccountRow).where(AccountRow.account_id == account_id))


def preload_buyer(session: Session, account: AccountRow) -> PreloadedBuyerFacts:
    paid = (OrderRow.account_pk == account.pk) & counted_purchase()
    return PreloadedBuyerFacts(
        account_type=AccountType(account.account_type),
        product_lists=frozenset(
            session.scalars(
                select(ProductRow.product_id)
                .join(ProductUserRow, ProductUserRow.product_pk == ProductRow.pk)
                .where(ProductUserRow.account_pk == account.pk)
            )
        ),
        specification_lists=frozenset(
            session.scalars(
                select(SpecificationRow.specification_id)
                .join(
                    SpecificationUserRow,
                    SpecificationUserRow.specification_pk == SpecificationRow.pk,
                )
                .where(SpecificationUserRow.account_pk == account.pk)
            )
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
    )
