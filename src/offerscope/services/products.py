"""A seller's products and specifications (R1, R9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from offerscope.domain.limits import DEFAULT_PAGE, MAX_SPECIFICATIONS, check_count, check_page_size
from offerscope.domain.names import check_display_name
from offerscope.domain.targets import DEFAULT_PRODUCT_TARGET, DEFAULT_SETTING, Target
from offerscope.services.actors import Actor
from offerscope.services.history import record
from offerscope.services.ids import new_id, utcnow
from offerscope.services.ownership import own_product
from offerscope.services.paging import keyset_cursors, read_position, scope_tag
from offerscope.services.views import Page, ProductView, SpecificationView
from offerscope.storage import changes, lists, products
from offerscope.storage.tables import ProductRow, SpecificationRow
from offerscope.storage.unit_of_work import Database, UnitOfWork

T = TypeVar("T")


def product_view(product: ProductRow, specs: list[SpecificationRow]) -> ProductView:
    return ProductView(
        product_id=product.product_id,
        name=product.name,
        target=Target(product.target),
        specifications=[SpecificationView(s.specification_id, s.name) for s in specs],
    )


def create_product(
    db: Database, actor: Actor, name: str, specification_names: list[str]
) -> ProductView:
    """R1: a new product sells to all; its specifications follow it."""
    check_count(specification_names, MAX_SPECIFICATIONS, "specifications")
    name = check_display_name(name)
    names = [check_display_name(n, field="specifications.name") for n in specification_names]
    assert actor.seller_pk is not None
    with db.writing() as uow:
        now = utcnow()
        product = products.add_product(
            uow.session, actor.seller_pk, new_id("prd"), name, DEFAULT_PRODUCT_TARGET.value, now
        )
        specs = products.add_specifications(
            uow.session, product, [(new_id("spc"), n) for n in names], DEFAULT_SETTING.value, now
        )
        record(uow, actor, product, "product_created", after=DEFAULT_PRODUCT_TARGET.value)
        record_index_changes(uow, product, specs)
        uow.commit()
        return product_view(product, specs)


def add_specification(db: Database, actor: Actor, product_id: str, name: str) -> SpecificationView:
    name = check_display_name(name)
    with db.writing() as uow:
        product = own_product(uow, actor, product_id, lock=True)
        (spec,) = products.add_specifications(
            uow.session, product, [(new_id("spc"), name)], DEFAULT_SETTING.value, utcnow()
        )
        record_index_changes(uow, None, [spec])
        uow.commit()
        return SpecificationView(spec.specification_id, spec.name)


def record_index_changes(
    uow: UnitOfWork, product: ProductRow | None, specs: Sequence[SpecificationRow]
) -> None:
    """Tell the decision index of a product's and these specifications' current targets."""
    session = uow.session
    if product is not None:
        uow.record_change(
            changes.ProductSet(
                product.pk,
                product.product_id,
                product.seller_pk,
                product.name,
                product.target,
                lists.list_of(session, product_pk=product.pk),
            )
        )
    for spec in specs:
        uow.record_change(
            changes.SpecificationSet(
                spec.pk,
                spec.specification_id,
                spec.product_pk,
                spec.name,
                spec.setting,
                lists.list_of(session, specification_pk=spec.pk),
            )
        )


@dataclass(frozen=True)
class ProductRows:
    """A page of the seller's products with their specifications, and where it stands."""

    rows: list[ProductRow]
    specifications: dict[int, list[SpecificationRow]]
    next_cursor: str | None
    previous_cursor: str | None
    start: int | None
    total: int | None

    def page(self, items: list[T]) -> Page[T]:
        """These rows' page, as `items`."""
        return Page(items, self.next_cursor, self.previous_cursor, self.start, self.total)


def product_page(
    uow: UnitOfWork, actor: Actor, limit: int, cursor: str | None, search: str, count: bool
) -> ProductRows:
    """One page of the seller's products in creation order, with their specifications."""
    limit = check_page_size(limit)
    scope = scope_tag("products", actor.seller_pk, search)
    position = read_position(cursor, products.BY_CREATION, scope)
    rows, keyset = products.product_page(
        uow.session,
        actor.seller_pk,
        search=search,
        limit=limit,
        after=position.after,
        before=position.before,
    )
    specs = products.specifications_of(uow.session, [p.pk for p in rows])
    following, previous, start = keyset_cursors(keyset, position, scope)
    total = products.count_products(uow.session, actor.seller_pk, search) if count else None
    return ProductRows(rows, specs, following, previous, start, total)


def list_products(
    db: Database,
    actor: Actor,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    search: str = "",
    count: bool = False,
) -> Page[ProductView]:
    """The seller's products in creation order; `search` matches a part of the name or the
    start of the product ID, in any case. `count` adds the total."""
    with db.reading() as uow:
        found = product_page(uow, actor, limit, cursor, search, count)
        return found.page([product_view(p, found.specifications[p.pk]) for p in found.rows])


def get_product(db: Database, actor: Actor, product_id: str) -> ProductView:
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        return product_view(
            product, products.specifications_of(uow.session, [product.pk])[product.pk]
        )
