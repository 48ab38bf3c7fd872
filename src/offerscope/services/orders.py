"""Orders (R11) and refunds (R10)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from offerscope.domain.decision import OrderStatus, Reason
from offerscope.domain.errors import Conflict, NotFound, OfferscopeError, Refused
from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.actors import Actor
from offerscope.services.decisions import decide_offer
from offerscope.services.ids import new_id, utcnow
from offerscope.services.paging import keyset_cursors, read_position, scope_tag
from offerscope.services.views import OrderLineView, OrderView, Page
from offerscope.storage import changes, facts, orders
from offerscope.storage.tables import OrderRow
from offerscope.storage.unit_of_work import Database, UnitOfWork

_log = logging.getLogger(__name__)


def _view(
    row: OrderRow | orders.NewOrder, account_id: str, spec_id: str, product_id: str
) -> OrderView:
    return OrderView(row.order_id, account_id, spec_id, product_id, row.status, row.created_at)


def place_order(db: Database, actor: Actor, specification_id: str) -> OrderView:
    """R11: decide and insert in one write transaction; refuse with the decision otherwise."""
    with db.writing() as uow:
        (placed,) = _place_each(uow, [(actor, specification_id)])
        if isinstance(placed, Exception):
            raise placed
        uow.commit()
        return placed


def place_orders(
    db: Database, requests: Sequence[tuple[Actor, str]]
) -> list[OrderView | Exception]:
    """Several buyers' orders in one write transaction and one commit (group commit): each
    decided and inserted in it exactly as `place_order` would (R11), so every change
    committed before the transaction began is seen by all of them. A refused order inserts
    nothing, so the others go on; its error is its answer. The answers come in the requests'
    order: each an order, or the error it met.

    A database error before the commit (PostgreSQL breaking a deadlock, a lost connection)
    leaves nothing of the batch committed: each order is then placed in a transaction of its
    own, as if it had come alone, and one that fails answers with its own error. An error of
    the commit itself is raised: whether the batch landed is then unknown, and placing its
    orders again could place them twice."""
    with db.writing() as uow:
        try:
            answers = _place_each(uow, requests)
        except Exception:
            _log.warning(
                "a batch of %d orders failed; placing each alone", len(requests), exc_info=True
            )
        else:
            uow.commit()
            return answers
    return [_placed_alone(db, actor, specification_id) for actor, specification_id in requests]


def _placed_alone(db: Database, actor: Actor, specification_id: str) -> OrderView | Exception:
    try:
        return place_order(db, actor, specification_id)
    except Exception as failed:  # a refusal, or a database error of this order's own
        return failed


def _place_each(
    uow: UnitOfWork, requests: Sequence[tuple[Actor, str]]
) -> list[OrderView | Exception]:
    """Orders in `uow`'s transaction, in turn, each decided as if those before it had been
    committed (R11): their locks taken first for all (on PostgreSQL; SQLite's writer holds
    the whole file), what they read before deciding read for all, and their rows inserted
    together at the end. A decision reads only its own buyer's facts (R3, R10), so the rows
    waiting are inserted early only when the next order's buyer has one among them."""
    pairs = [(specification_id, _account_pk(actor)) for actor, specification_id in requests]
    if uow.locks_rows:
        orders.share_lock_for_orders(uow.session, pairs)
    offers = facts.offers_for_orders(uow.session, pairs)
    waiting: list[orders.NewOrder] = []
    answers: list[OrderView | Exception] = []
    for (actor, specification_id), pair in zip(requests, pairs, strict=True):
        if any(row.account_pk == pair[1] for row in waiting):
            orders.add_orders(uow.session, waiting)
            waiting = []
        try:
            placed = _place(uow, actor, specification_id, offers.get(pair))
        except OfferscopeError as refused:
            answers.append(refused)
        else:
            waiting.append(placed)
            assert actor.account_id is not None
            product_id = offers[pair].offer.product_id
            answers.append(_view(placed, actor.account_id, specification_id, product_id))
    orders.add_orders(uow.session, waiting)
    return answers


def _place(
    uow: UnitOfWork, actor: Actor, specification_id: str, found: facts.OrderOffer | None
) -> orders.NewOrder:
    """One order's row, once R3 admits it (R11), or the refusal with its decision."""
    account_pk = _account_pk(actor)
    decision = decide_offer(
        uow.session,
        None if found is None else found.offer,
        account_pk,
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
    # Only a purchase some association lists goes in the change log (`_purchase_matters`).
    if found.associated:
        uow.record_change(changes.PurchaseCounted(account_pk, spec_pk, product_pk, 1))
    return orders.NewOrder(
        new_id("ord"), account_pk, spec_pk, product_pk, OrderStatus.PAID.value, utcnow()
    )


def _account_pk(buyer: Actor) -> int:
    assert buyer.account_pk is not None, "orders are placed by buyers"
    return buyer.account_pk


def _purchase_matters(uow: UnitOfWork, product_pk: int, specification_pk: int) -> bool:
    """Whether a purchase (or its refund) goes in the change log. One of what nobody
    associates changes no decision (R3, R10), so it need not take the log's revision lock;
    its count reaches the index when an association makes it matter (`PurchasesSet`, read in
    the association's transaction). No association may commit between this look and the
    purchase's commit: SQLite serialises writers whole; on PostgreSQL the purchase holds its
    product's row and purchases locks (`orders.share_lock_for_orders`, `lock_for_refund`),
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
    scope = scope_tag("orders", actor.account_pk)
    position = read_position(cursor, orders.NEWEST_FIRST, scope)
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
        following, previous, start = keyset_cursors(keyset, position, scope)
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
