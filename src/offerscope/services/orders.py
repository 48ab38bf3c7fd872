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
from offerscope.services.paging import keyset_cursors, read_position
from offerscope.services.views import OrderLineView, OrderView, Page
from offerscope.storage import changes, facts, orders
from offerscope.storage.tables import OrderRow
from offerscope.storage.unit_of_work import Database, UnitOfWork

_log = logging.getLogger(__name__)


def _view(row: OrderRow, account_id: str, spec_id: str, product_id: str) -> OrderView:
    return OrderView(row.order_id, account_id, spec_id, product_id, row.status, row.created_at)


def place_order(db: Database, actor: Actor, specification_id: str) -> OrderView:
    """R11: decide and insert in one write transaction; refuse with the decision otherwise."""
    with db.writing() as uow:
        _lock(uow, [(actor, specification_id)])
        placed = _place(uow, actor, specification_id)
        uow.commit()
        return placed


def place_orders(
    db: Database, requests: Sequence[tuple[Actor, str]]
) -> list[OrderView | Exception]:
    """Several buyers' orders in one write transaction and one commit (group commit): each
    decided and inserted in it exactly as `place_order` would (R11), so every change
    committed before the transaction began is seen by all of them. A refused order raises
    before its insert and leaves nothing behind, so the others go on; its error is its
    answer. The answers come in the requests' order: each an order, or the error it met.

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


def _place_each(
    uow: UnitOfWork, requests: Sequence[tuple[Actor, str]]
) -> list[OrderView | Exception]:
    """Every order of a batch in `uow`'s transaction, its R11 locks taken first for all."""
    _lock(uow, requests)
    answers: list[OrderView | Exception] = []
    for actor, specification_id in requests:
        try:
            answers.append(_place(uow, actor, specification_id))
        except OfferscopeError as refused:
            answers.append(refused)
    return answers


def _placed_alone(db: Database, actor: Actor, specification_id: str) -> OrderView | Exception:
    try:
        return place_order(db, actor, specification_id)
    except Exception as failed:  # a refusal, or a database error of this order's own
        return failed


def _lock(uow: UnitOfWork, requests: Sequence[tuple[Actor, str]]) -> None:
    """R11's locks on PostgreSQL for these orders (SQLite's writer holds the whole file)."""
    if uow.locks_rows:
        orders.share_lock_for_orders(uow.session, [(s, _account_pk(a)) for a, s in requests])


def _place(uow: UnitOfWork, actor: Actor, specification_id: str) -> OrderView:
    """One order in `uow`'s transaction (R11), its locks held already (`_lock`), or the
    refusal raised before its insert."""
    account_pk = _account_pk(actor)
    assert actor.account_id is not None
    session = uow.session
    found = facts.offer_for_order(session, specification_id, account_pk)
    decision = decide_offer(
        session,
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
    row = orders.add_order(
        session,
        new_id("ord"),
        account_pk,
        spec_pk,
        product_pk,
        OrderStatus.PAID.value,
        utcnow(),
    )
    # Only a purchase some association lists goes in the change log (`_purchase_matters`).
    if found.associated:
        uow.record_change(changes.PurchaseCounted(account_pk, spec_pk, product_pk, 1))
    return _view(row, actor.account_id, specification_id, found.offer.product_id)


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
