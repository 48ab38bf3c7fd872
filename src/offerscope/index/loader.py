"""Reading the index's data from the database: everything at once, or one bulk-changed part.

A full build reads the revision and every table in one snapshot (SQLite's read transaction;
REPEATABLE READ on PostgreSQL), so the index it makes is exactly that revision's state and
the change log can be replayed on top of it without counting a purchase twice.
"""

from __future__ import annotations

import time
from collections import defaultdict

from pyroaring import BitMap
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from offerscope.index.state import Clock, IndexState, Span, span_of
from offerscope.storage import changelog, tokens
from offerscope.storage.bulk import BulkIo
from offerscope.storage.lists import ENTRIES, WINDOWED
from offerscope.storage.tables import (
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
from offerscope.storage.unit_of_work import UnitOfWork


def build(uow: UnitOfWork, clock: Clock = time.time) -> IndexState:
    """The whole index as of the revision the read transaction sees (one snapshot: readers
    are REPEATABLE READ on PostgreSQL, see `Database`); `clock` tells R16's windows the time."""
    session = uow.session
    state = IndexState(changelog.current_revision(session), clock)
    state.set_accounts(BulkIo(session).accounts_from(0))  # as an accounts import sets them
    state.sellers = dict(session.execute(select(SellerRow.pk, SellerRow.name)).all())
    products = (
        select(
            ProductRow.pk,
            ProductRow.product_id,
            ProductRow.seller_pk,
            ProductRow.name,
            ProductRow.target,
            ListRow.pk,
        )
        .join(ListRow, ListRow.product_pk == ProductRow.pk)
        .order_by(ProductRow.pk)
    )
    for pk, product_id, seller_pk, name, target, list_pk in session.execute(products):
        state.set_product(pk, product_id, seller_pk, name, target, list_pk)
    specs = (
        select(
            SpecificationRow.pk,
            SpecificationRow.specification_id,
            SpecificationRow.product_pk,
            SpecificationRow.name,
            SpecificationRow.setting,
            ListRow.pk,
        )
        .join(ListRow, ListRow.specification_pk == SpecificationRow.pk)
        .order_by(SpecificationRow.pk)
    )
    for pk, spec_id, product_pk, name, setting, list_pk in session.execute(specs):
        state.set_specification(pk, spec_id, product_pk, name, setting, list_pk)
    _load_lists(session, state)
    _load_groups(session, state)
    _load_links(session, state)
    _load_purchases(session, state)
    state.tokens = tokens.all_holders(session)
    state.compile_all()
    return state


def _grouped(rows: list[tuple[int, int]]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for owner_pk, account_pk in rows:
        groups[owner_pk].append(account_pk)
    return groups


def _windowed_entries(session: Session, list_pk: int | None = None) -> dict[int, dict[int, Span]]:
    """R16: the entries with a window (of one list, or of all), per list, as epoch seconds."""
    query = select(
        ListEntryRow.list_pk,
        ListEntryRow.account_pk,
        ListEntryRow.valid_from,
        ListEntryRow.valid_until,
    ).where(WINDOWED)
    if list_pk is not None:
        query = query.where(ListEntryRow.list_pk == list_pk)
    found: dict[int, dict[int, Span]] = defaultdict(dict)
    for owner_pk, account_pk, valid_from, valid_until in session.execute(query):
        span = span_of(
            valid_from.timestamp() if valid_from else None,
            valid_until.timestamp() if valid_until else None,
        )
        assert span is not None
        found[owner_pk][account_pk] = span
    return found


def _load_lists(session: Session, state: IndexState) -> None:
    rows = session.execute(select(ListEntryRow.list_pk, ListEntryRow.account_pk).where(~WINDOWED))
    for list_pk, pks in _grouped(list(rows)).items():
        state.lists[list_pk] = BitMap(pks)
    for list_pk, spans in _windowed_entries(session).items():
        state.edit_list(list_pk, (), True, None)  # makes the list's bitmap and dict
        for pk, span in spans.items():
            state.edit_list(list_pk, (pk,), True, span)


def _load_groups(session: Session, state: IndexState) -> None:
    """R17: which groups (by their own lists) are on which specified-user lists."""
    group_lists = select(ListGroupRow.list_pk, ListRow.pk).join(
        ListRow, ListRow.group_pk == ListGroupRow.group_pk
    )
    for list_pk, group_list_pk in session.execute(group_lists):
        state.list_groups.setdefault(list_pk, set()).add(group_list_pk)
        state.holders.setdefault(group_list_pk, set()).add(list_pk)


def _load_links(session: Session, state: IndexState) -> None:
    for owner_pk, other_pk in session.execute(
        select(ProductAssociationRow.product_pk, ProductAssociationRow.associated_product_pk)
    ):
        state.products[owner_pk].associated.add(other_pk)
    for owner_pk, other_pk in session.execute(
        select(
            SpecificationAssociationRow.specification_pk,
            SpecificationAssociationRow.associated_specification_pk,
        )
    ):
        state.specifications[owner_pk].associated.add(other_pk)


def _load_purchases(session: Session, state: IndexState) -> None:
    query = (
        select(OrderRow.account_pk, OrderRow.specification_pk, OrderRow.product_pk, func.count())
        .where(counted_purchase())
        .group_by(OrderRow.account_pk, OrderRow.specification_pk, OrderRow.product_pk)
    )
    for account_pk, spec_pk, product_pk, count in session.execute(query):
        state.add_purchases(account_pk, spec_pk, product_pk, int(count))


def reload_accounts(session: Session, state: IndexState, first_pk: int, last_pk: int) -> None:
    """Accounts registered or changed in bulk (an accounts import): read through the driver
    and set in bulk (a million accounts in about a second, not several)."""
    state.set_accounts(BulkIo(session).accounts_from(first_pk, last_pk))


def reload_list(session: Session, state: IndexState, list_pk: int) -> None:
    """A list changed in bulk (a users import), read again into the same bitmap and dict."""
    # Through the driver: a list of a million entries costs 0.2 s, not the ORM's 2 s.
    pks = BulkIo(session).column_where(ENTRIES, "account_pk", "list_pk", list_pk)
    spans = _windowed_entries(session, list_pk).get(list_pk, {})
    always = BitMap(pks)
    if spans:
        always.difference_update(BitMap(spans))
    state.fill_list(list_pk, always, spans)
