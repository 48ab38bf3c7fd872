"""Orders (R10, R11): their rows, a buyer's pages, and the row locks that order them against
seller changes on PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from offerscope.storage.paging import KeysetPage, Mark, Phase, keyset_page
from offerscope.storage.tables import (
    AccountRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SpecificationAssociationRow,
    SpecificationRow,
    counted_purchase,
    purchase_matters,
)

# The class of PostgreSQL's two-key advisory locks on a product's purchases (the other key
# is the product's pk); the one-key space (the migrations' lock) is apart from it.
PURCHASES_LOCK = 1_070_011


# One statement for any number of products, in key order (unnest gives the keys in the
# array's order): shared by orders and refunds, exclusive for associations.
_UNNESTED = "(:kind, pk) FROM unnest(CAST(:pks AS integer[])) AS pk"
_SHARE_PURCHASES = text("SELECT pg_advisory_xact_lock_shared" + _UNNESTED)
_TAKE_PURCHASES = text("SELECT pg_advisory_xact_lock" + _UNNESTED)


def _lock_purchases(session: Session, statement: TextClause, product_pks: Collection[int]) -> None:
    keys = sorted(set(product_pks))
    session.connection().execute(statement, {"kind": PURCHASES_LOCK, "pks": keys}).all()


def share_lock_purchases(session: Session, product_pks: Collection[int]) -> None:
    """PostgreSQL: hold off, until this transaction ends, any association of these products
    (`lock_purchases`), so that whether one exists (`associated_anywhere`, asked after this)
    stays true until the purchases or refund commit. An association of one of their
    specifications takes the product's row, which orders and refunds lock already.

    Taken in key order, after every row lock of the transaction: a holder then waits for
    nothing (but the change log's counter, taken last by all), so no wait can close a circle
    through it."""
    _lock_purchases(session, _SHARE_PURCHASES, product_pks)


# A lone order's product and account rows, share-locked by one statement (one round trip).
# The order holds no other lock when it takes them, so their order within the statement cannot
# close a circle. Without the specification or the account nothing is locked, and nothing
# could be admitted. Built once: every lone order on PostgreSQL runs it.
_SHARE_ONE = (
    select(ProductRow.pk, AccountRow.pk)
    .select_from(SpecificationRow)
    .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
    .join(AccountRow, AccountRow.pk == bindparam("account_pk"))
    .where(SpecificationRow.specification_id == bindparam("specification_id"))
    .with_for_update(read=True, of=[ProductRow, AccountRow])
)


def share_lock_for_orders(session: Session, orders: Sequence[tuple[str, int]]) -> None:
    """R11 on PostgreSQL: for orders of (specification ID, account key), share-lock their
    products' and accounts' rows until the transaction ends, then their products' purchases
    (`share_lock_purchases`). Each kind is locked in key order, as every seller change locks
    products, and all before any order is placed, so that a batch of orders can close no
    circle with a change waiting for one of its locks.

    Every seller change to a product takes its row FOR UPDATE, an account's type change its
    row, and a refund every product its order unlocks: none can commit between an order's
    check and its insert. (SQLite writers already hold the whole database.)
    """
    connection = session.connection()
    if len(set(orders)) == 1:  # a lone order: both rows in one statement (see `_SHARE_ONE`)
        specification_id, account_pk = orders[0]
        locked = connection.execute(
            _SHARE_ONE, {"specification_id": specification_id, "account_pk": account_pk}
        ).all()
        share_lock_purchases(session, [product_pk for product_pk, _ in locked])
        return
    products = connection.execute(
        select(ProductRow.pk)
        .join(SpecificationRow, SpecificationRow.product_pk == ProductRow.pk)
        .where(SpecificationRow.specification_id.in_(sorted({s for s, _ in orders})))
        .order_by(ProductRow.pk)
        .with_for_update(read=True, of=ProductRow)
    )
    product_pks = [int(pk) for pk in products.scalars()]
    connection.execute(
        select(AccountRow.pk)
        .where(AccountRow.pk.in_(sorted({a for _, a in orders})))
        .order_by(AccountRow.pk)
        .with_for_update(read=True)
    ).all()
    share_lock_purchases(session, product_pks)


def lock_purchases(session: Session, product_pks: Sequence[int]) -> None:
    """PostgreSQL: wait for the orders and refunds of these products in flight, and keep new
    ones out, until this transaction (which associates them) ends; in key order."""
    _lock_purchases(session, _TAKE_PURCHASES, product_pks)


@dataclass(frozen=True)
class NewOrder:
    """An order's row before it is inserted (`add_orders`)."""

    order_id: str
    account_pk: int
    specification_pk: int
    product_pk: int
    status: str
    created_at: datetime


_INSERT_ORDERS = insert(OrderRow)  # built once (see `facts`)


def add_orders(session: Session, new: Sequence[NewOrder]) -> None:
    """The orders inserted with one statement, on the session's connection: an ORM-enabled
    insert would go through the ORM's bulk machinery, a third of an order's time, for a
    statement that needs none of it (and leave nothing to flush)."""
    if new:
        session.connection().execute(_INSERT_ORDERS, [{**vars(order)} for order in new])


NEWEST_FIRST = [Phase(None, (OrderRow.pk,), (int,), descending=True)]


@dataclass(frozen=True)
class OrderLine:
    """An order with the public IDs and names of what it bought."""

    order: OrderRow
    specification_id: str
    specification_name: str
    product_id: str
    product_name: str


def orders_page(
    session: Session,
    account_pk: int | None,
    *,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> tuple[list[OrderLine], KeysetPage]:
    """A page of a buyer's orders, newest first (index `ix_orders_account_pk_pk`)."""
    query = (
        select(
            OrderRow,
            SpecificationRow.specification_id,
            SpecificationRow.name,
            ProductRow.product_id,
            ProductRow.name,
        )
        .join(SpecificationRow, SpecificationRow.pk == OrderRow.specification_pk)
        .join(ProductRow, ProductRow.pk == OrderRow.product_pk)
        .where(OrderRow.account_pk == account_pk)
    )
    page = keyset_page(session, query, NEWEST_FIRST, limit=limit, after=after, before=before)
    return [OrderLine(*row) for row in page.rows], page


def count_orders(session: Session, account_pk: int | None) -> int:
    return session.scalar(select(func.count()).where(OrderRow.account_pk == account_pk)) or 0


def order_to_refund(session: Session, order_id: str) -> tuple[OrderRow, str, str, str] | None:
    """An order with its account's, specification's and product's public IDs."""
    found = session.execute(
        select(
            OrderRow,
            AccountRow.account_id,
            SpecificationRow.specification_id,
            ProductRow.product_id,
        )
        .join(AccountRow, AccountRow.pk == OrderRow.account_pk)
        .join(SpecificationRow, SpecificationRow.pk == OrderRow.specification_pk)
        .join(ProductRow, ProductRow.pk == OrderRow.product_pk)
        .where(OrderRow.order_id == order_id)
    ).one_or_none()
    return None if found is None else (found[0], found[1], found[2], found[3])


def lock_for_refund(session: Session, order: OrderRow) -> None:
    """Lock every product this order's purchase could admit buyers to and its own product
    (whose row an association of its specification takes), in key order, then the order
    itself (see `share_lock_for_orders`) and its product's purchases; and read the order again
    under the lock."""
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
        .where(
            ProductRow.pk.in_(by_product)
            | ProductRow.pk.in_(by_specification)
            | (ProductRow.pk == order.product_pk)
        )
        .order_by(ProductRow.pk)
        .with_for_update()
    ).all()
    session.execute(select(OrderRow.pk).where(OrderRow.pk == order.pk).with_for_update()).all()
    share_lock_purchases(session, [order.product_pk])
    session.refresh(order)


def associated_anywhere(session: Session, product_pk: int, specification_pk: int) -> bool:
    """Whether a purchase of this specification can change a decision (`purchase_matters`)."""
    return bool(session.scalar(select(purchase_matters(product_pk, specification_pk))))


def counted_purchases(
    session: Session, of_product: bool, pk: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The accounts with counted purchases (R10) of one product or specification, and how
    many each: (account keys, counts)."""
    column = OrderRow.product_pk if of_product else OrderRow.specification_pk
    rows = session.execute(
        select(OrderRow.account_pk, func.count())
        .where(column == pk)
        .where(counted_purchase())
        .group_by(OrderRow.account_pk)
        .order_by(OrderRow.account_pk)
    ).all()
    return tuple(int(a) for a, _ in rows), tuple(int(n) for _, n in rows)


def products_bought_by(session: Session, account_pks: Sequence[int]) -> dict[int, dict[int, int]]:
    """For a few accounts, their counted purchases (R10) by product: product key -> account
    key -> how many (one query, whatever the number of products asked about)."""
    rows = session.connection().execute(_BOUGHT_BY, {"account_pks": list(account_pks)})
    found: dict[int, dict[int, int]] = {}
    for product_pk, account_pk, count in rows:
        found.setdefault(int(product_pk), {})[int(account_pk)] = int(count)
    return found


# Every list edit's impact (R14) runs it: built once, on the session's connection.
_BOUGHT_BY = (
    select(OrderRow.product_pk, OrderRow.account_pk, func.count())
    .where(OrderRow.account_pk.in_(bindparam("account_pks", expanding=True)))
    .where(counted_purchase())
    .group_by(OrderRow.product_pk, OrderRow.account_pk)
)
