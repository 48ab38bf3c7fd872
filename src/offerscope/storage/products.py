"""Products and specifications: finding a seller's own, paging them, creating them.

Every product and specification is created with its specified-user list (`lists`), so that a
list always exists for its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from offerscope.storage.paging import paginate
from offerscope.storage.tables import ListRow, ProductRow, SellerRow, SpecificationRow


def own_product(
    session: Session, seller_pk: int | None, product_id: str, *, lock: bool = False
) -> ProductRow | None:
    """The seller's product with this ID, or None (another seller's is None too: R9).

    With `lock` the row is locked for update on PostgreSQL: every change to a product's target
    customers and every order of it queue on this one row.
    """
    query = select(ProductRow).where(
        ProductRow.product_id == product_id, ProductRow.seller_pk == seller_pk
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def specification_of(
    session: Session, product_pk: int, specification_id: str
) -> SpecificationRow | None:
    """A specification of this product, or None."""
    return session.scalar(
        select(SpecificationRow).where(
            SpecificationRow.specification_id == specification_id,
            SpecificationRow.product_pk == product_pk,
        )
    )


def specifications_of(
    session: Session, product_pks: Sequence[int]
) -> dict[int, list[SpecificationRow]]:
    """Each product's specifications in creation order."""
    by_product: dict[int, list[SpecificationRow]] = {pk: [] for pk in product_pks}
    if product_pks:
        rows = session.scalars(
            select(SpecificationRow)
            .where(SpecificationRow.product_pk.in_(product_pks))
            .order_by(SpecificationRow.product_pk, SpecificationRow.pk)
        )
        for row in rows:
            by_product[row.product_pk].append(row)
    return by_product


def product_page(
    session: Session, seller_pk: int | None, *, after: int | None, limit: int, search: str
) -> tuple[list[ProductRow], bool]:
    """A page of the seller's products in creation order; `search` matches a part of the
    name (any case) or the whole product ID."""
    query = select(ProductRow).where(ProductRow.seller_pk == seller_pk)
    if search:
        query = query.where(
            or_(
                func.lower(ProductRow.name).contains(search.lower(), autoescape=True),
                ProductRow.product_id == search,
            )
        )
    rows, more = paginate(session, query, ProductRow.pk, after=after, limit=limit)
    return [row[0] for row in rows], more


def add_product(
    session: Session, seller_pk: int, product_id: str, name: str, target: str, now: datetime
) -> ProductRow:
    product = ProductRow(
        product_id=product_id,
        seller_pk=seller_pk,
        name=name,
        target=target,
        version=1,
        created_at=now,
    )
    session.add(product)
    session.flush()
    session.add(ListRow(product_pk=product.pk))
    return product


def add_specifications(
    session: Session,
    product: ProductRow,
    new: Sequence[tuple[str, str]],
    setting: str,
    now: datetime,
) -> list[SpecificationRow]:
    """Specifications (ID, name) of `product`, each with its list, in the order given."""
    specs = [
        SpecificationRow(
            specification_id=spec_id,
            product_pk=product.pk,
            name=name,
            setting=setting,
            created_at=now,
        )
        for spec_id, name in new
    ]
    session.add_all(specs)
    session.flush()
    session.add_all(ListRow(specification_pk=spec.pk) for spec in specs)
    session.flush()
    return specs


def seller_of_product(session: Session, product_id: str) -> tuple[int, str] | None:
    """(pk, seller_id) of the seller owning a product."""
    found = session.execute(
        select(SellerRow.pk, SellerRow.seller_id)
        .join(ProductRow, ProductRow.seller_pk == SellerRow.pk)
        .where(ProductRow.product_id == product_id)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def keys_of_specification(session: Session, specification_id: str) -> tuple[int, int, str] | None:
    """(specification pk, product pk, product ID) of a specification."""
    found = session.execute(
        select(SpecificationRow.pk, ProductRow.pk, ProductRow.product_id)
        .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
        .where(SpecificationRow.specification_id == specification_id)
    ).one_or_none()
    return None if found is None else (found[0], found[1], found[2])
