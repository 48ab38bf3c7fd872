"""Target customers of a product and its specifications (R2, R4), versioned for If-Match."""

from __future__ import annotations

from typing import Protocol

from offerscope.domain.errors import PreconditionFailed
from offerscope.domain.limits import DEFAULT_PAGE
from offerscope.domain.targets import (
    Setting,
    SpecificationSetting,
    Target,
    allowed_settings,
    check_product_target_change,
    check_setting,
    effective_target,
    is_editable,
)
from offerscope.services.actors import Actor
from offerscope.services.history import record
from offerscope.services.ownership import own_product, own_specification
from offerscope.services.products import product_page, record_index_changes
from offerscope.services.views import Page, SpecificationTargetView, TargetCustomersView
from offerscope.storage import products
from offerscope.storage.tables import ProductRow, SpecificationRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


class AudienceCounter(Protocol):
    """How many accounts may buy now (R14's audience sizes): the decision index."""

    def audience_sizes(self, product_id: str) -> tuple[int, dict[str, int]] | None:
        """The product's audience size, and each specification's by ID; None if unknown."""
        ...


def target_view(
    product: ProductRow,
    specs: list[SpecificationRow],
    reset: list[str] | None = None,
    sizes: AudienceCounter | None = None,
) -> TargetCustomersView:
    target = Target(product.target)
    counted = sizes.audience_sizes(product.product_id) if sizes is not None else None
    of_product, of_specs = counted if counted is not None else (None, {})
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
                audience_size=of_specs.get(s.specification_id),
            )
            for s in specs
        ],
        version=product.version,
        reset_specifications=reset or [],
        audience_size=of_product,
    )


def list_target_customers(
    db: Database,
    actor: Actor,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    search: str = "",
    sizes: AudienceCounter | None = None,
    count: bool = False,
) -> Page[TargetCustomersView]:
    """A page of the seller's products with their target customers (the console's table),
    and with `sizes`, how many accounts may buy each now."""
    with db.reading() as uow:
        found = product_page(uow, actor, limit, cursor, search, count)
        return found.page(
            [target_view(p, found.specifications[p.pk], sizes=sizes) for p in found.rows]
        )


def get_target_customers(
    db: Database, actor: Actor, product_id: str, *, sizes: AudienceCounter | None = None
) -> TargetCustomersView:
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        specs = products.specifications_of(uow.session, [product.pk])[product.pk]
        return target_view(product, specs, sizes=sizes)


def version_mismatch(**details: int) -> PreconditionFailed:
    """The answer to a change made against a version that is not the current one."""
    return PreconditionFailed(
        "version_mismatch",
        "These target customers changed after you loaded them (a change of yours, or someone "
        "else's). Reload and try again.",
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
        product = own_product(uow, actor, product_id, lock=True)
        _check_version(product, if_match)
        specs, reset = change_product_target(uow, actor, product, target, reset_conflicting)
        uow.commit()
        return target_view(product, specs, reset)


def change_product_target(
    uow: UnitOfWork,
    actor: Actor,
    product: ProductRow,
    target: Target,
    reset_conflicting: bool,
) -> tuple[list[SpecificationRow], list[str]]:
    """R4 within the caller's transaction: the product's specifications, and those reset."""
    specs = products.specifications_of(uow.session, [product.pk])[product.pk]
    reset = check_product_target_change(
        target,
        [SpecificationSetting(s.specification_id, Setting(s.setting)) for s in specs],
        reset_conflicting,
    )
    before = product.target
    for spec in specs:
        if spec.specification_id in reset:
            record(
                uow,
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
        record(uow, actor, product, "product_target_set", before=before, after=target.value)
    uow.session.flush()
    record_index_changes(uow, product, [s for s in specs if s.specification_id in reset])
    return specs, reset


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
        product = own_product(uow, actor, product_id, lock=True)
        spec = own_specification(uow, product, specification_id)
        _check_version(product, if_match)
        change_specification_setting(uow, actor, product, spec, setting)
        specs = products.specifications_of(uow.session, [product.pk])[product.pk]
        uow.commit()
        return target_view(product, specs)


def change_specification_setting(
    uow: UnitOfWork, actor: Actor, product: ProductRow, spec: SpecificationRow, setting: Setting
) -> None:
    """R2 within the caller's transaction."""
    check_setting(Target(product.target), setting)
    if spec.setting != setting.value:
        record(
            uow,
            actor,
            product,
            "specification_target_set",
            specification_id=spec.specification_id,
            before=spec.setting,
            after=setting.value,
        )
        spec.setting = setting.value
        product.version += 1
        record_index_changes(uow, None, [spec])
    uow.session.flush()
