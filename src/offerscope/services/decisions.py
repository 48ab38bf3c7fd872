"""R12 decisions for checkout and the catalog, and R11 orders, R10 refunds, R13 history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.domain.decision import Decision, OrderStatus, decide
from offerscope.domain.errors import Conflict, NotFound, Refused
from offerscope.domain.limits import MAX_BATCH, check_count, check_page_size
from offerscope.domain.names import account_id_key
from offerscope.domain.targets import AccountType, Target, effective_target
from offerscope.index.index import CatalogRow
from offerscope.services.common import (
    encode_cursor,
    int_cursor,
    new_id,
    own_product,
    utcnow,
)
from offerscope.services.views import (
    Actor,
    CatalogProduct,
    CatalogSpecification,
    CheckResult,
    HistoryEntryView,
    OrderView,
    Page,
)
from offerscope.storage import changes
from offerscope.storage.facts import (
    SqlBuyerFacts,
    find_account,
    load_offer,
    load_offers,
    preload_buyer,
)
from offerscope.storage.tables import (
    AccountRow,
    HistoryRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SellerRow,
    SpecificationAssociationRow,
    SpecificationRow,
)
from offerscope.storage.unit_of_work import Database, UnitOfWork


def _decide(session: Session, account_id: str, specification_id: str) -> Decision:
    offer = load_offer(session, specification_id)
    key = account_id_key(account_id)
    account = find_account(session, key) if offer is not None and key is not None else None
    buyer = (
        SqlBuyerFacts(session, account.pk, AccountType(account.account_type)) if account else None
    )
    return decide(offer, buyer)


class Decider(Protocol):
    """Decisions from memory (the decision index), made fresh before each answer."""

    def refresh(self) -> Decider:
        """Catch up with every change committed so far, on any process."""
        ...

    def decide(self, account_id: str, specification_id: str) -> Decision: ...

    def decide_many(self, checks: Iterable[tuple[str, str]]) -> list[Decision]: ...

    def catalog(
        self, account_pk: int | None, *, after: int | None, limit: int
    ) -> tuple[list[CatalogRow], int | None]: ...


def check(index: Decider, account_id: str, specification_id: str) -> Decision:
    """R12: may this account buy this specification, and if not, why? (from the index)"""
    return index.refresh().decide(account_id, specification_id)


def check_from_database(db: Database, account_id: str, specification_id: str) -> Decision:
    """`check` read straight from the tables, for one-off callers that hold no index."""
    with db.reading() as uow:
        return _decide(uow.session, account_id, specification_id)


def check_batch(index: Decider, checks: list[tuple[str, str]]) -> list[CheckResult]:
    """R12 for many checks in one state of the index, in the order given."""
    check_count(checks, MAX_BATCH, "checks")
    decided = index.refresh().decide_many(checks)
    return [
        CheckResult(account_id, spec_id, decision)
        for (account_id, spec_id), decision in zip(checks, decided, strict=True)
    ]


def catalog(
    index: Decider, actor: Actor, *, limit: int = 100, cursor: str | None = None
) -> Page[CatalogProduct]:
    """Every product, each specification with this buyer's decision, from the index."""
    limit = check_page_size(limit)
    after = int_cursor(cursor)
    rows, last = index.refresh().catalog(actor.account_pk, after=after, limit=limit)
    items = [
        CatalogProduct(
            product_id=row.product.product_id,
            name=row.product.name,
            seller_name=row.seller_name,
            target=row.product.target,
            specifications=[
                CatalogSpecification(
                    specification_id=spec.specification_id,
                    name=spec.name,
                    effective_target=effective_target(row.product.target, spec.setting),
                    decision=decision,
                )
                for spec, decision in row.specifications
            ],
        )
        for row in rows
    ]
    return Page(items, encode_cursor(last) if last is not None else None)


def catalog_from_database(
    db: Database, actor: Actor, *, limit: int = 100, cursor: str | None = None
) -> Page[CatalogProduct]:
    """`catalog` read straight from the tables (the reference the index is tested against)."""
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
            (pk, pid, name, target, seller)
            for pk, pid, name, target, seller in session.execute(query)
        ]
        more = len(products) > limit
        products = products[:limit]
        pks = [row[0] for row in products]
        account = session.get(AccountRow, actor.account_pk)
        buyer = preload_buyer(session, account) if account else None
        names = {
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


# --- orders (R10, R11) ----------------------------------------------------------------------


def _order_view(row: OrderRow, account_id: str, spec_id: str, product_id: str) -> OrderView:
    return OrderView(row.order_id, account_id, spec_id, product_id, row.status, row.created_at)


def _lock_for_order(uow: UnitOfWork, specification_id: str, account_pk: int) -> None:
    """R11 on PostgreSQL: share-lock the product and the account for the order's lifetime.

    Every seller change to the product takes the same row FOR UPDATE, an account's type
    change its row, and a refund every product its order unlocks: none can commit between
    this order's check and its insert. SQLite writers already hold the whole database.
    """
    if not uow.locks_rows:
        return
    session = uow.session
    session.execute(
        select(ProductRow.pk)
        .join(SpecificationRow, SpecificationRow.product_pk == ProductRow.pk)
        .where(SpecificationRow.specification_id == specification_id)
        .with_for_update(read=True)
    ).all()
    session.execute(
        select(AccountRow.pk).where(AccountRow.pk == account_pk).with_for_update(read=True)
    ).all()


def place_order(db: Database, actor: Actor, specification_id: str) -> OrderView:
    """R11: decide and insert in one write transaction; refuse with the decision otherwise."""
    assert actor.account_pk is not None and actor.account_id is not None
    with db.writing() as uow:
        session = uow.session
        _lock_for_order(uow, specification_id, actor.account_pk)
        decision = _decide(session, actor.account_id, specification_id)
        if not decision.allowed:
            if decision.reason.value == "specification_not_found":
                raise NotFound(
                    "specification_not_found",
                    "No specification has this ID.",
                    specification_id=specification_id,
                )
            raise Refused("not_target_customer", decision.message, decision=decision.summary())
        spec_pk, product_pk, product_id = session.execute(
            select(SpecificationRow.pk, ProductRow.pk, ProductRow.product_id)
            .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
            .where(SpecificationRow.specification_id == specification_id)
        ).one()
        row = OrderRow(
            order_id=new_id("ord"),
            account_pk=actor.account_pk,
            specification_pk=spec_pk,
            product_pk=product_pk,
            status=OrderStatus.PAID.value,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        uow.record_change(changes.PurchaseCounted(actor.account_pk, spec_pk, product_pk, 1))
        uow.commit()
        return _order_view(row, actor.account_id, specification_id, product_id)


def list_orders(
    db: Database, actor: Actor, *, limit: int = 100, cursor: str | None = None
) -> Page[OrderView]:
    """A buyer's own orders, newest first."""
    limit = check_page_size(limit)
    before = int_cursor(cursor)
    with db.reading() as uow:
        query = (
            select(OrderRow, SpecificationRow.specification_id, ProductRow.product_id)
            .join(SpecificationRow, SpecificationRow.pk == OrderRow.specification_pk)
            .join(ProductRow, ProductRow.pk == OrderRow.product_pk)
            .where(OrderRow.account_pk == actor.account_pk)
        )
        if before is not None:
            query = query.where(OrderRow.pk < before)
        rows = list(uow.session.execute(query.order_by(OrderRow.pk.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        assert actor.account_id is not None
        items = [_order_view(o, actor.account_id, s, p) for o, s, p in rows]
        return Page(items, encode_cursor(rows[-1][0].pk) if more else None)


def refund_order(db: Database, order_id: str) -> OrderView:
    """R10: a refunded order no longer counts as a purchase."""
    with db.writing() as uow:
        session = uow.session
        found = session.execute(
            select(OrderRow, AccountRow.account_id, SpecificationRow.specification_id)
            .join(AccountRow, AccountRow.pk == OrderRow.account_pk)
            .join(SpecificationRow, SpecificationRow.pk == OrderRow.specification_pk)
            .where(OrderRow.order_id == order_id)
        ).one_or_none()
        if found is None:
            raise NotFound("order_not_found", "No order has this ID.", order_id=order_id)
        order, account_id, spec_id = found
        if uow.locks_rows:
            _lock_unlocked_products(session, order)
        if order.status == OrderStatus.REFUNDED.value:
            raise Conflict("already_refunded", "This order has already been refunded.")
        order.status = OrderStatus.REFUNDED.value
        uow.record_change(
            changes.PurchaseCounted(order.account_pk, order.specification_pk, order.product_pk, -1)
        )
        product_id = session.scalar(
            select(ProductRow.product_id).where(ProductRow.pk == order.product_pk)
        )
        session.flush()
        uow.commit()
        assert product_id is not None
        return _order_view(order, account_id, spec_id, product_id)


def _lock_unlocked_products(session: Session, order: OrderRow) -> None:
    """Lock every product this order's purchase could admit buyers to (see `_lock_for_order`)."""
    by_product = select(ProductAssociationRow.product_pk).where(
        ProductAssociationRow.associated_product_pk == order.product_pk
    )
    by_specification = (
        select(SpecificationRow.product_pk)
        .join(
            SpecificationAssociationRow,
            SpecificationAssociationRow.specification_pk == SpecificationRow.pk,
        )
        .where(SpecificationAssociationRow.associated_specification_pk == order.specification_pk)
    )
    session.execute(
        select(ProductRow.pk)
        .where(ProductRow.pk.in_(by_product) | ProductRow.pk.in_(by_specification))
        .order_by(ProductRow.pk)
        .with_for_update()
    ).all()
    session.execute(select(OrderRow.pk).where(OrderRow.pk == order.pk).with_for_update()).all()
    session.refresh(order)


# --- history (R13) --------------------------------------------------------------------------


def product_history(
    db: Database, actor: Actor, product_id: str, *, limit: int = 100, cursor: str | None = None
) -> Page[HistoryEntryView]:
    """R13: a product's changes, newest first."""
    limit = check_page_size(limit)
    before = int_cursor(cursor)
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        query = select(HistoryRow).where(HistoryRow.product_pk == product.pk)
        if before is not None:
            query = query.where(HistoryRow.pk < before)
        rows = list(uow.session.scalars(query.order_by(HistoryRow.pk.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            HistoryEntryView(
                r.at, r.actor, r.action, r.specification_id, r.subject, r.before, r.after
            )
            for r in rows
        ]
        return Page(items, encode_cursor(rows[-1].pk) if more else None)
