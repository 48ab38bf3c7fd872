"""Orders (R10, R11): their rows, a buyer's pages, and the row locks that order them against
seller changes on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
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
)


def share_lock_for_order(session: Session, specification_id: str, account_pk: int) -> None:
    """R11 on PostgreSQL: share-lock the product and the account for the order's lifetime.

    Every seller change to the product takes the same row FOR UPDATE, an account's type
    change its row, and a refund every product its order unlocks: none can commit between
    an order's check and its insert. (SQLite writers already hold the whole database.)
    """
    session.execute(
        select(ProductRow.pk)
        .join(SpecificationRow, SpecificationRow.product_pk == ProductRow.pk)
        .where(SpecificationRow.specification_id == specification_id)
        .with_for_update(read=True)
    ).all()
    session.execute(
        select(AccountRow.pk).where(AccountRow.pk == account_pk).with_for_update(read=True)
    ).all()


def add_order(
    session: Session,
    order_id: str,
    account_pk: int,
    specification_pk: int,
    product_pk: int,
    status: str,
    now: datetime,
) -> OrderRow:
    row = OrderRow(
        order_id=order_id,
        account_pk=account_pk,
        specification_pk=specification_pk,
        product_pk=product_pk,
        status=status,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


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
    """Lock every product this order's purchase could admit buyers to, then the order itself
    (see `share_lock_for_order`), and read the order again under the lock."""
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


def associated_anywhere(session: Session, product_pk: int, specification_pk: int) -> bool:
    """Whether some product associates this product, or some specification this
    specification (R3): only then can a purchase of it change a decision (R10)."""
    by_product = select(ProductAssociationRow.product_pk).where(
        ProductAssociationRow.associated_product_pk == product_pk
    )
    by_specification = select(SpecificationAssociationRow.specification_pk).where(
        SpecificationAssociationRow.associated_specification_pk == specification_pk
    )
    return bool(session.scalar(select(by_product.exists() | by_specification.exists())))


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
    rows = session.execute(
        select(OrderRow.product_pk, OrderRow.account_pk, func.count())
        .where(OrderRow.account_pk.in_(account_pks))
        .where(counted_purchase())
        .group_by(OrderRow.product_pk, OrderRow.account_pk)
    )
    found: dict[int, dict[int, int]] = {}
    for product_pk, account_pk, count in rows:
        found.setdefault(int(product_pk), {})[int(account_pk)] = int(count)
    return found
