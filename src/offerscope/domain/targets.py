"""Target customers of products and specifications: SPEC.md R1, R2 and R4.

The one place that knows which setting a specification may take under which product target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from offerscope.domain.errors import Conflict, Invalid


class Target(StrEnum):
    """A product's target customers (SPEC.md §3)."""

    ALL = "all"
    ENTERPRISE = "enterprise"
    INDIVIDUAL = "individual"
    SPECIFIED = "specified"
    ASSOCIATED = "associated"


class Setting(StrEnum):
    """A specification's target customers: a product target or `same_as_product`."""

    SAME_AS_PRODUCT = "same_as_product"
    ALL = "all"
    ENTERPRISE = "enterprise"
    INDIVIDUAL = "individual"
    SPECIFIED = "specified"
    ASSOCIATED = "associated"

    def as_target(self) -> Target | None:
        """The target an explicit setting names; None for `same_as_product`."""
        return None if self is Setting.SAME_AS_PRODUCT else Target(self.value)


class AccountType(StrEnum):
    """An account's real-name authentication type."""

    ENTERPRISE = "enterprise"
    INDIVIDUAL = "individual"


LABELS: dict[str, str] = {
    "all": "All users",
    "enterprise": "Enterprise users",
    "individual": "Individual users",
    "specified": "Specified users",
    "associated": "Associated product buyers",
    "same_as_product": "Same as product",
}
"""The Seller Console's words for each API value (SPEC.md §3)."""

# R1: what a new product and a new specification start with.
DEFAULT_PRODUCT_TARGET = Target.ALL
DEFAULT_SETTING = Setting.SAME_AS_PRODUCT

# R2: seed Table 1 and its last paragraph. The order is the order the console offers them in.
_ALLOWED_SETTINGS: dict[Target, tuple[Setting, ...]] = {
    Target.ALL: (
        Setting.SAME_AS_PRODUCT,
        Setting.ALL,
        Setting.ENTERPRISE,
        Setting.INDIVIDUAL,
        Setting.SPECIFIED,
        Setting.ASSOCIATED,
    ),
    Target.ENTERPRISE: (
        Setting.SAME_AS_PRODUCT,
        Setting.ENTERPRISE,
        Setting.SPECIFIED,
        Setting.ASSOCIATED,
    ),
    Target.INDIVIDUAL: (
        Setting.SAME_AS_PRODUCT,
        Setting.INDIVIDUAL,
        Setting.SPECIFIED,
        Setting.ASSOCIATED,
    ),
    Target.SPECIFIED: (Setting.SAME_AS_PRODUCT,),
    Target.ASSOCIATED: (Setting.SAME_AS_PRODUCT,),
}


def allowed_settings(product_target: Target) -> tuple[Setting, ...]:
    """R2: the settings a specification may take under a product with this target."""
    return _ALLOWED_SETTINGS[product_target]


def is_editable(product_target: Target) -> bool:
    """R2: specifications of `specified` and `associated` products are fixed to the product."""
    return len(_ALLOWED_SETTINGS[product_target]) > 1


def check_setting(product_target: Target, setting: Setting) -> None:
    """R2: raise unless a specification of this product may take `setting`."""
    allowed = allowed_settings(product_target)
    names = [value.value for value in allowed]
    if not is_editable(product_target):
        raise Conflict(
            "non_editable",
            f"Specifications of a product sold to {LABELS[product_target].lower()} cannot be "
            "set on their own: they always follow the product's setting.",
            allowed_settings=names,
        )
    if setting not in allowed:
        raise Invalid(
            "target_not_allowed",
            f"A specification of a product sold to {LABELS[product_target].lower()} cannot be "
            f"set to {LABELS[setting].lower()}. Allowed: "
            f"{', '.join(LABELS[name] for name in names)}.",
            allowed_settings=names,
        )


def effective_target(product_target: Target, setting: Setting) -> Target:
    """The target a specification's buyers see: its own setting, else its product's."""
    return setting.as_target() or product_target


@dataclass(frozen=True, slots=True)
class SpecificationSetting:
    """One specification's current setting, as R4 needs it."""

    specification_id: str
    setting: Setting


def conflicting_specifications(
    new_target: Target, specifications: Iterable[SpecificationSetting]
) -> list[str]:
    """R4: the specifications whose setting the new product target would no longer allow."""
    allowed = allowed_settings(new_target)
    return [spec.specification_id for spec in specifications if spec.setting not in allowed]


def check_product_target_change(
    new_target: Target,
    specifications: Iterable[SpecificationSetting],
    reset_conflicting: bool,
) -> list[str]:
    """R4: the specifications to send back to `same_as_product`, or raise if not permitted."""
    conflicting = conflicting_specifications(new_target, specifications)
    if conflicting and not reset_conflicting:
        raise Conflict(
            "conflicting_specifications",
            f"{len(conflicting)} specification(s) have a setting that a product sold to "
            f"{LABELS[new_target].lower()} does not allow. Send "
            '"reset_conflicting_specifications": true to return them to "same_as_product".',
            conflicting_specifications=conflicting,
        )
    return conflicting
