"""What a decision needs, read from the database: a specification's offer and the facts of one
buyer, each asked by an indexed query when a rule first needs it (`SqlBuyerFacts`). Orders
decide so, inside their own transaction (R11).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from offerscope.domain.decision import Offer
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Lapse, Window, lapse_of
from offerscope.storage.lists import counts_at
from offerscope.storage.tables import (
    ListEntryRow,
    ListGroupRow,
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
    """One account's facts at one moment (R16), each read by an indexed query when a rule
    first needs it."""

    def __init__(
        self, session: Session, account_pk: int, account_type: AccountType, now: datetime
    ) -> None:
        self._session = session
        self._account_pk = account_pk
        self._account_type = account_type
        self._now = now

    @property
    def account_type(self) -> AccountType:
        return self._account_type

    def _entries_on(self, owner_lists: Select[int]) -> Select[ListEntryRow]:
        """The account's entries on a specified-user list and, R17, on its groups' lists."""
        groups = (
            select(ListRow.pk)
            .join(ListGroupRow, ListGroupRow.group_pk == ListRow.group_pk)
            .where(ListGroupRow.list_pk.in_(owner_lists))
        )
        return (
            select(ListEntryRow)
            .where(ListEntryRow.account_pk == self._account_pk)
            .where(or_(ListEntryRow.list_pk.in_(owner_lists), ListEntryRow.list_pk.in_(groups)))
        )

    def _product_entries(self, product_id: str) -> Select[ListEntryRow]:
        return self._entries_on(
            select(ListRow.pk)
            .join(ProductRow, ProductRow.pk == ListRow.product_pk)
            .where(ProductRow.product_id == product_id)
        )

    def _specification_entries(self, specification_id: str) -> Select[ListEntryRow]:
        return self._entries_on(
            select(ListRow.pk)
            .join(SpecificationRow, SpecificationRow.pk == ListRow.specification_pk)
            .where(SpecificationRow.specification_id == specification_id)
        )

    def on_product_list(self, product_id: str) -> bool:
        entries = self._product_entries(product_id).where(counts_at(self._now))
        return bool(self._session.scalar(select(entries.exists())))

    def on_specification_list(self, specification_id: str) -> bool:
        entries = self._specification_entries(specification_id).where(counts_at(self._now))
        return bool(self._session.scalar(select(entries.exists())))

    def _lapse(self, entries: Select[ListEntryRow]) -> tuple[Lapse, datetime] | None:
        windows = [Window(e.valid_from, e.valid_until) for e in self._session.scalars(entries)]
        return lapse_of(windows, self._now)

    def product_list_lapse(self, product_id: str) -> tuple[Lapse, datetime] | None:
        return self._lapse(self._product_entries(product_id))

    def specification_list_lapse(self, specification_id: str) -> tuple[Lapse, datetime] | None:
        return self._lapse(self._specification_entries(specification_id))

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
