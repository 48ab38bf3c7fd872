"""What a decision needs, read from the database: a specification's offer and the facts of one
buyer, each asked by an indexed query when a rule first needs it (`SqlBuyerFacts`). Orders
decide so, inside their own transaction (R11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, literal, or_, select, union_all
from sqlalchemy.orm import Session

from offerscope.domain.decision import Offer
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Lapse, Window, lapse_of
from offerscope.storage.lists import counts_at
from offerscope.storage.tables import (
    AccountRow,
    ListEntryRow,
    ListGroupRow,
    ListRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
    counted_purchase,
    purchase_matters,
)

# A specification's row and its product's: what an offer is made of (`OfferRow`). Statements
# are built once (see `_ORDER_OFFERS`).
_OFFERS = select(
    SpecificationRow.specification_id,
    SpecificationRow.pk,
    SpecificationRow.setting,
    ProductRow.pk,
    ProductRow.product_id,
    ProductRow.target,
).join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
_OFFER = _OFFERS.where(SpecificationRow.specification_id == bindparam("specification_id"))


# An offer's row as `_OFFERS` reads it.
OfferRow = tuple[str, int, str, int, str, str]


def load_offer(session: Session, specification_id: str) -> Offer | None:
    """The offer behind one specification, with its product's and its own associations."""
    row = session.execute(_OFFER, {"specification_id": specification_id}).one_or_none()
    if row is None:
        return None
    values: tuple[Any, ...] = tuple(row)
    return _offers(session, [values])[specification_id]


def _offers(session: Session, rows: Sequence[OfferRow]) -> dict[str, Offer]:
    """Offers from their rows, by specification ID, with the association lists their
    targets and settings consult (R3: only `associated` ones do), all read in one query."""
    by_product = {pk for _, _, _, pk, _, target in rows if Target(target) is Target.ASSOCIATED}
    by_spec = {pk for _, pk, setting, *_ in rows if Setting(setting) is Setting.ASSOCIATED}
    wanted = []
    if by_product:
        wanted.append(
            select(literal(True), ProductAssociationRow.product_pk, ProductRow.product_id)
            .join(
                ProductAssociationRow, ProductAssociationRow.associated_product_pk == ProductRow.pk
            )
            .where(ProductAssociationRow.product_pk.in_(by_product))
        )
    if by_spec:
        wanted.append(
            select(
                literal(False),
                SpecificationAssociationRow.specification_pk,
                SpecificationRow.specification_id,
            )
            .join(
                SpecificationAssociationRow,
                SpecificationAssociationRow.associated_specification_pk == SpecificationRow.pk,
            )
            .where(SpecificationAssociationRow.specification_pk.in_(by_spec))
        )
    linked: dict[tuple[bool, int], set[str]] = {}
    if wanted:
        query = wanted[0] if len(wanted) == 1 else union_all(*wanted)
        for of_product, owner_pk, public_id in session.execute(query):
            linked.setdefault((bool(of_product), owner_pk), set()).add(public_id)
    return {
        specification_id: Offer(
            product_id=product_id,
            specification_id=specification_id,
            product_target=Target(target),
            setting=Setting(setting),
            associated_products=frozenset(linked.get((True, product_pk), ())),
            associated_specifications=frozenset(linked.get((False, spec_pk), ())),
        )
        for specification_id, spec_pk, setting, product_pk, product_id, target in rows
    }


@dataclass(frozen=True)
class OrderOffer:
    """What an order (R11) reads before it decides, in as few queries as it can."""

    offer: Offer
    specification_pk: int
    product_pk: int
    account_type: AccountType | None  # the buyer's, None if it has no account
    associated: bool  # some association lists the product or the specification (R3)


# The offers' rows of several specifications, each with whether any association names its
# product or itself. Built once: orders run it at every batch, and building a statement (and
# its cache key) costs more than SQLite takes to run it.
_ORDER_OFFERS = _OFFERS.add_columns(purchase_matters(ProductRow.pk, SpecificationRow.pk)).where(
    SpecificationRow.specification_id.in_(bindparam("specification_ids", expanding=True))
)
_BUYER_TYPES = select(AccountRow.pk, AccountRow.account_type).where(
    AccountRow.pk.in_(bindparam("account_pks", expanding=True))
)
# The same with one buyer's type on every row: a lone order reads all it needs in one query.
_ORDER_OFFERS_OF_ONE_BUYER = _ORDER_OFFERS.add_columns(
    select(AccountRow.account_type)
    .where(AccountRow.pk == bindparam("account_pk"))
    .scalar_subquery()
)


def offers_for_orders(
    session: Session, orders: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], OrderOffer]:
    """For orders of (specification ID, account key), what each reads before it decides: one
    query for the offers, one for the buyers' types (one query for both when there is one
    buyer), and one for the association lists the offers' targets and settings consult. An order
    whose specification does not exist has no entry."""
    # On the session's connection, as `orders.add_orders`'s insert: through the session an
    # ORM-enabled select sets up ORM results an order never uses.
    connection = session.connection()
    wanted = sorted({specification_id for specification_id, _ in orders})
    buyers = sorted({account_pk for _, account_pk in orders})
    if len(buyers) == 1:  # a lone order, or one buyer's: the type comes with the offers
        both = connection.execute(
            _ORDER_OFFERS_OF_ONE_BUYER, {"specification_ids": wanted, "account_pk": buyers[0]}
        ).all()
        rows: list[tuple[Any, ...]] = [tuple(row[:-1]) for row in both]
        types = {buyers[0]: both[0][-1]} if both else {}
    else:
        rows = [
            tuple(row) for row in connection.execute(_ORDER_OFFERS, {"specification_ids": wanted})
        ]
        types = dict(connection.execute(_BUYER_TYPES, {"account_pks": buyers}).all())
    made = _offers(session, [row[:-1] for row in rows])
    offers = {row[0]: (made[row[0]], row[1], row[3], bool(row[-1])) for row in rows}
    found = {}
    for specification_id, account_pk in orders:
        if specification_id in offers:
            offer, spec_pk, product_pk, associated = offers[specification_id]
            buyer_type = types.get(account_pk)
            found[specification_id, account_pk] = OrderOffer(
                offer,
                spec_pk,
                product_pk,
                None if buyer_type is None else AccountType(buyer_type),
                associated,
            )
    return found


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
