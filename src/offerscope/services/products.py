"""A seller's products and specifications, and their target customers (R1, R2, R4, R9)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from offerscope.domain.errors import PreconditionFailed
from offerscope.domain.limits import MAX_SPECIFICATIONS, check_count, check_page_size
from offerscope.domain.names import check_display_name
from offerscope.domain.targets import (
    DEFAULT_PRODUCT_TARGET,
    DEFAULT_SETTING,
    Setting,
    SpecificationSetting,
    Target,
    allowed_settings,
    check_product_target_change,
    check_setting,
    effective_target,
    is_editable,
)
from offerscope.services.common import (
    encode_cursor,
    int_cursor,
    new_id,
    own_product,
    own_specification,
    record,
    utcnow,
)
from offerscope.services.views import (
    Actor,
    Page,
    ProductView,
    SpecificationTargetView,
    SpecificationView,
    TargetCustomersView,
)
from offerscope.storage import changes
from offerscope.storage.tables import ProductRow, SpecificationRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


def _specifications(
    session: Session, product_pks: Sequence[int]
) -> dict[int, list[SpecificationRow]]:
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


def _product_view(product: ProductRow, specs: list[SpecificationRow]) -> ProductView:
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
    with db.writing() as uow:
        now = utcnow()
        assert actor.seller_pk is not None
        product = ProductRow(
            product_id=new_id("prd"),
            seller_pk=actor.seller_pk,
            name=name,
            target=DEFAULT_PRODUCT_TARGET.value,
            version=1,
            created_at=now,
        )
        uow.session.add(product)
        uow.session.flush()
        specs = [_new_specification(product, spec_name) for spec_name in names]
        uow.session.add_all(specs)
        record(uow.session, actor, product, "product_created", after=DEFAULT_PRODUCT_TARGET.value)
        uow.session.flush()
        _record_index_changes(uow, product, specs)
        uow.commit()
        return _product_view(product, specs)


def _new_specification(product: ProductRow, name: str) -> SpecificationRow:
    return SpecificationRow(
        specification_id=new_id("spc"),
        product_pk=product.pk,
        name=name,
        setting=DEFAULT_SETTING.value,
        created_at=utcnow(),
    )


def add_specification(db: Database, actor: Actor, product_id: str, name: str) -> SpecificationView:
    name = check_display_name(name)
    with db.writing() as uow:
        product = own_product(uow, actor, product_id, lock=True)
        spec = _new_specification(product, name)
        uow.session.add(spec)
        uow.session.flush()
        _record_index_changes(uow, None, [spec])
        uow.commit()
        return SpecificationView(spec.specification_id, spec.name)


def _record_index_changes(
    uow: UnitOfWork, product: ProductRow | None, specs: Sequence[SpecificationRow]
) -> None:
    """Tell the decision index of a product's and these specifications' current targets."""
    if product is not None:
        uow.record_change(
            changes.ProductSet(
                product.pk, product.product_id, product.seller_pk, product.name, product.target
            )
        )
    for spec in specs:
        uow.record_change(
            changes.SpecificationSet(
                spec.pk, spec.specification_id, spec.product_pk, spec.name, spec.setting
            )
        )


def _product_page(
    session: Session, actor: Actor, limit: int, cursor: str | None, search: str
) -> tuple[list[ProductRow], dict[int, list[SpecificationRow]], str | None]:
    """One page of the seller's products in creation order, with their specifications."""
    limit = check_page_size(limit)
    after = int_cursor(cursor)
    query = select(ProductRow).where(ProductRow.seller_pk == actor.seller_pk)
    if after is not None:
        query = query.where(ProductRow.pk > after)
    if search.strip():
        needle = search.strip()
        query = query.where(
            or_(
                func.lower(ProductRow.name).contains(needle.lower(), autoescape=True),
                ProductRow.product_id == needle,
            )
        )
    products = list(session.scalars(query.order_by(ProductRow.pk).limit(limit + 1)))
    more = len(products) > limit
    products = products[:limit]
    next_cursor = encode_cursor(products[-1].pk) if more else None
    return products, _specifications(session, [p.pk for p in products]), next_cursor


def list_products(
    db: Database, actor: Actor, *, limit: int = 100, cursor: str | None = None, search: str = ""
) -> Page[ProductView]:
    """The seller's products in creation order; `search` matches name or product ID."""
    with db.reading() as uow:
        products, specs, next_cursor = _product_page(uow.session, actor, limit, cursor, search)
        return Page([_product_view(p, specs[p.pk]) for p in products], next_cursor)


def list_target_customers(
    db: Database, actor: Actor, *, limit: int = 100, cursor: str | None = None, search: str = ""
) -> Page[TargetCustomersView]:
    """`list_products`' page with each product's target customers (the console's table)."""
    with db.reading() as uow:
        products, specs, next_cursor = _product_page(uow.session, actor, limit, cursor, search)
        return Page([_target_view(p, specs[p.pk]) for p in products], next_cursor)


def get_product(db: Database, actor: Actor, product_id: str) -> ProductView:
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        return _product_view(product, _specifications(uow.session, [product.pk])[product.pk])


def _target_view(
    product: ProductRow, specs: list[SpecificationRow], reset: list[str] | None = None
) -> TargetCustomersView:
    target = Target(product.target)
    return TargetCustomersView(
        product_id=product.product_id,
        name=product.name,
        target=target,
        allowed_targets=list(Target),
        specifications=[
            SpecificationTargetView(
                specification_id=s.specification_id,
                name=s.name,
                setting=Setting(s.setting),
                effective_target=effective_target(target, Setting(s.setting)),
                editable=is_editable(target),
                allowed_settings=list(allowed_settings(target)),
            )
            for s in specs
        ],
        version=product.version,
        reset_specifications=reset or [],
    )


def get_target_customers(db: Database, actor: Actor, product_id: str) -> TargetCustomersView:
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        return _target_view(product, _specifications(uow.session, [product.pk])[product.pk])


def version_mismatch(**details: int) -> PreconditionFailed:
    """The answer to a change made against a version that is not the current one."""
    return PreconditionFailed(
        "version_mismatch",
        "Someone changed these target customers since you loaded them. Reload and try again.",
        **details,
    )


def _check_version(product: ProductRow, if_match: int | None) -> None:
    if if_match is not None and if_match != product.version:
        raise version_mismatch(current_version=product.version)


def set_product_target(
    db: Database,
    actor: Actor,
    product_id: str,
    target: Target,
    *,
    reset_conflicting: bool = False,
    if_match: int | None = None,
) -> TargetCustomersView:
    """R4: change a product's target; conflicting specifications go back only when asked."""
    with db.writing() as uow:
        session = uow.session
        product = own_product(uow, actor, product_id, lock=True)
        _check_version(product, if_match)
        specs = _specifications(session, [product.pk])[product.pk]
        reset = check_product_target_change(
            target,
            [SpecificationSetting(s.specification_id, Setting(s.setting)) for s in specs],
            reset_conflicting,
        )
        before = product.target
        for spec in specs:
            if spec.specification_id in reset:
                record(
                    session,
                    actor,
                    product,
                    "specification_target_reset",
                    specification_id=spec.specification_id,
                    before=spec.setting,
                    after=Setting.SAME_AS_PRODUCT.value,
                )
                spec.setting = Setting.SAME_AS_PRODUCT.value
        if before != target.value or reset:
            product.target = target.value
            product.version += 1
            record(session, actor, product, "product_target_set", before=before, after=target.value)
        session.flush()
        _record_index_changes(uow, product, [s for s in specs if s.specification_id in reset])
        uow.commit()
        return _target_view(product, specs, reset)


def set_specification_setting(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str,
    setting: Setting,
    *,
    if_match: int | None = None,
) -> TargetCustomersView:
    """R2: set one specification within what its product's target allows."""
    with db.writing() as uow:
        session = uow.session
        product = own_product(uow, actor, product_id, lock=True)
        spec = own_specification(session, product, specification_id)
        _check_version(product, if_match)
        check_setting(Target(product.target), setting)
        if spec.setting != setting.value:
            record(
                session,
                actor,
                product,
                "specification_target_set",
                specification_id=specification_id,
                before=spec.setting,
                after=setting.value,
            )
            spec.setting = setting.value
            product.version += 1
            _record_index_changes(uow, None, [spec])
        session.flush()
        specs = _specifications(session, [product.pk])[product.pk]
        uow.commit()
        return _target_view(product, specs)
