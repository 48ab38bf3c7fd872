"""What a decision needs, read from the database: a specification's offer and the facts of one
buyer, each asked by an indexed query when a rule first needs it (`SqlBuyerFacts`). Orders
decide so, inside their own transaction (R11).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from offerscope.domain.decision import Offer
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.storage.tables import (
    ListEntryRow,
    ListRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
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
            .where(ListEntryRow.account_pk == self._account_pk)
            .where(ListEntryRow.list_pk == ListRow.pk)
            .where(ListRow.product_pk == ProductRow.pk)
            .where(ProductRow.product_id == product_id)
        )
        return bool(self._session.scalar(query))

    def on_specification_list(self, specification_id: str) -> bool:
        query = select(
            exists()
            .where(ListEntryRow.account_pk == self._account_pk)
            .where(ListEntryRow.list_pk == ListRow.pk)
            .where(ListRow.specification_pk == SpecificationRow.pk)
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
