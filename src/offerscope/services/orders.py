"""Orders (R11) and refunds (R10)."""

from __future__ import annotations

from offerscope.domain.decision import OrderStatus, Reason
from offerscope.domain.errors import Conflict, NotFound, Refused
from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.actors import Actor
from offerscope.services.decisions import decide_offer
from offerscope.services.ids import new_id, utcnow
from offerscope.services.paging import keyset_cursors, read_position
from offerscope.services.views import OrderLineView, OrderView, Page
from offerscope.storage import changes, facts, orders
from offerscope.storage.tables import OrderRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


def _view(row: OrderRow, account_id: str, spec_id: str, product_id: str) -> OrderView:
    return OrderView(row.order_id, account_id, spec_id, product_id, row.status, row.created_at)


def place_order(db: Database, actor: Actor, specification_id: str) -> OrderView:
    """R11: decide and insert in one write transaction; refuse with the decision otherwise."""
    assert actor.account_pk is not None and actor.account_id is not None
    with db.writing() as uow:
        session = uow.session
        if uow.locks_rows:
            orders.share_lock_for_order(session, specification_id, actor.account_pk)
        found = facts.offer_for_order(session, specification_id, actor.account_pk)
        decision = decide_offer(
            session,
            None if found is None else found.offer,
            actor.account_pk,
            None if found is None else found.account_type,
        )
        if not decision.allowed:
            if decision.reason is Reason.SPECIFICATION_NOT_FOUND:
                raise NotFound(
                    "specification_not_found",
                    "No specification has this ID.",
                    specification_id=specification_id,
                )
            raise Refused("not_target_customer", decision.message, decision=decision.summary())
        assert found is not None
        spec_pk, product_pk = found.specification_pk, found.product_pk
        row = orders.add_order(
            session,
            new_id("ord"),
            actor.account_pk,
            spec_pk,
            product_pk,
            OrderStatus.PAID.value,
            utcnow(),
        )
        # Only a purchase some association lists goes in the change log (`_purchase_matters`).
        if found.associated:
            uow.record_change(changes.PurchaseCounted(actor.account_pk, spec_pk, product_pk, 1))
        uow.commit()
        return _view(row, actor.account_id, specification_id, found.offer.product_id)


def _purchase_matters(uow: UnitOfWork, product_pk: int, specification_pk: int) -> bool:
    """Whether a purchase (or its refund) goes in the change log. One of what nobody
    associates changes no decision (R3, R10), so it need not take the log's revision lock;
    its count reaches the index when an association makes it matter (`PurchasesSet`, read in
    the association's transaction). No association may commit between this look and the
    purchase's commit: SQLite serialises writers whole; on PostgreSQL the purchase holds its
    product's row and purchases locks (`orders.share_lock_for_order`, `lock_for_refund`),
    which every association of the product or of its specifications waits for."""
    return orders.associated_anywhere(uow.session, product_pk, specification_pk)


def list_orders(
    db: Database, actor: Actor, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
) -> Page[OrderView]:
    """A buyer's own orders, newest first."""
    lines = order_lines(db, actor, limit=limit, cursor=cursor)
    assert actor.account_id is not None
    items = [line.order for line in lines.items]
    return Page(items, lines.next_cursor, lines.previous_cursor, lines.start, lines.total)


def order_lines(
    db: Database,
    actor: Actor,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    count: bool = False,
) -> Page[OrderLineView]:
    """A buyer's own orders, newest first, with what each bought by name (My Orders)."""
    limit = check_page_size(limit)
    position = read_position(cursor, orders.NEWEST_FIRST)
    assert actor.account_id is not None
    with db.reading() as uow:
        lines, keyset = orders.orders_page(
            uow.session, actor.account_pk, limit=limit, after=position.after, before=position.before
        )
        items = [
            OrderLineView(
                _view(line.order, actor.account_id, line.specification_id, line.product_id),
                line.specification_name,
                line.product_name,
            )
            for line in lines
        ]
        following, previous, start = keyset_cursors(keyset, position)
        total = orders.count_orders(uow.session, actor.account_pk) if count else None
        return Page(items, following, previous, start, total)


def refund_order(db: Database, order_id: str) -> OrderView:
    """R10: a refunded order no longer counts as a purchase."""
    with db.writing() as uow:
        found = orders.order_to_refund(uow.session, order_id)
        if found is None:
            raise NotFound("order_not_found", "No order has this ID.", order_id=order_id)
        order, account_id, spec_id, product_id = found
        if uow.locks_rows:
            orders.lock_for_refund(uow.session, order)
        if order.status == OrderStatus.REFUNDED.value:
            raise Conflict("already_refunded", "This order has already been refunded.")
        order.status = OrderStatus.REFUNDED.value
        if _purchase_matters(uow, order.product_pk, order.specification_pk):
            uow.record_change(
                changes.PurchaseCounted(
                    order.account_pk, order.specification_pk, order.product_pk, -1
                )
            )
        uow.session.flush()
        uow.commit()
        return _view(order, account_id, spec_id, product_id)
