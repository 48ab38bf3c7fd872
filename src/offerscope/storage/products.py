"""Products and specifications: finding a seller's own, paging them, creating them.

Every product and specification is created with its specified-user list (`lists`), so that a
list always exists for its owner.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from offerscope.storage.paging import KeysetPage, Mark, Phase, keyset_page
from offerscope.storage.tables import ListRow, ProductRow, SellerRow, SpecificationRow


def own_product(
    session: Session, seller_pk: int | None, product_id: str, *, lock: bool = False
) -> ProductRow | None:
    """The seller's product with this ID, or None (another seller's is None too: R9).

    With `lock` the row is locked for update on PostgreSQL: every change to a product's target
    customers and every order of it queue on this one row.
    """
    locking = lock and session.get_bind().dialect.name == "postgresql"
    query = _OWN_PRODUCT_LOCKED if locking else _OWN_PRODUCT
    return session.scalar(query, {"product_id": product_id, "seller_pk": seller_pk})


# Every seller write begins with it: built once (building it cost more than running it).
_OWN_PRODUCT = select(ProductRow).where(
    ProductRow.product_id == bindparam("product_id"),
    ProductRow.seller_pk == bindparam("seller_pk"),
)
_OWN_PRODUCT_LOCKED = _OWN_PRODUCT.with_for_update()


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


def _seller_products(seller_pk: int | None, search: str) -> Select[ProductRow]:
    """The seller's products; with `search`, those whose name contains it or whose ID starts
    with it, in any case (a seller's own products: a few thousand at most)."""
    query = select(ProductRow).where(ProductRow.seller_pk == seller_pk)
    term = search.strip().lower()
    if term:
        query = query.where(
            or_(
                func.lower(ProductRow.name).contains(term, autoescape=True),
                func.lower(ProductRow.product_id).startswith(term, autoescape=True),
            )
        )
    return query


BY_CREATION = [Phase(None, (ProductRow.pk,), (int,))]


def product_page(
    session: Session,
    seller_pk: int | None,
    *,
    search: str,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> tuple[list[ProductRow], KeysetPage]:
    """A page of the seller's products in creation order (see `_seller_products`)."""
    page = keyset_page(
        session,
        _seller_products(seller_pk, search),
        BY_CREATION,
        limit=limit,
        after=after,
        before=before,
    )
    return [row[0] for row in page.rows], page


def count_products(session: Session, seller_pk: int | None, search: str) -> int:
    """How many products `product_page` pages through (index `ix_products_seller_pk_pk`)."""
    counted = _seller_products(seller_pk, search).with_only_columns(func.count())
    return session.scalar(counted) or 0


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


def names_of_own(
    session: Session, seller_pk: int | None, product_ids: Collection[str]
) -> dict[str, str]:
    """The names of the seller's products with these IDs (others' stay unnamed: R9)."""
    if not product_ids:
        return {}
    rows = session.execute(
        select(ProductRow.product_id, ProductRow.name).where(
            ProductRow.seller_pk == seller_pk, ProductRow.product_id.in_(product_ids)
        )
    )
    return {product_id: name for product_id, name in rows}


def specification_names_of_own(
    session: Session, seller_pk: int | None, specification_ids: Collection[str]
) -> dict[str, str]:
    """ "Product / Specification" for the seller's specifications with these IDs (R9)."""
    if not specification_ids:
        return {}
    rows = session.execute(
        select(SpecificationRow.specification_id, ProductRow.name, SpecificationRow.name)
        .join(ProductRow, ProductRow.pk == SpecificationRow.product_pk)
        .where(
            ProductRow.seller_pk == seller_pk,
            SpecificationRow.specification_id.in_(specification_ids),
        )
    )
    return {spec_id: f"{product} / {spec}" for spec_id, product, spec in rows}
