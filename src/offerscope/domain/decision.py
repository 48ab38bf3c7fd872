"""Who may buy a specification: SPEC.md R3 (audiences), R10 (counted purchase), R12 (decision).

`decide` is the one function that every caller (API, console, command line, orders, the
index) uses. It reads the facts it needs through the small `BuyerFacts` protocol, lazily and
only as far as the decision needs them, so a store can answer from SQL, from preloaded sets or
from an in-memory index alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from offerscope.domain.targets import AccountType, Setting, Target


class OrderStatus(StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"


def counts_as_purchase(status: OrderStatus) -> bool:
    """R10: only a paid order counts; a refunded one no longer does."""
    return status is OrderStatus.PAID


class Reason(StrEnum):
    ALLOWED = "allowed"
    ACCOUNT_NOT_FOUND = "account_not_found"
    SPECIFICATION_NOT_FOUND = "specification_not_found"
    NOT_ENTERPRISE_USER = "not_enterprise_user"
    NOT_INDIVIDUAL_USER = "not_individual_user"
    NOT_SPECIFIED_USER = "not_specified_user"
    NO_ASSOCIATED_PURCHASE = "no_associated_purchase"


class Level(StrEnum):
    PRODUCT = "product"
    SPECIFICATION = "specification"


_MESSAGES: dict[tuple[Reason, Level | None], str] = {
    (Reason.ALLOWED, Level.PRODUCT): "This account may buy this specification.",
    (Reason.ALLOWED, Level.SPECIFICATION): "This account may buy this specification.",
    (Reason.ACCOUNT_NOT_FOUND, None): "No customer account has this ID.",
    (Reason.SPECIFICATION_NOT_FOUND, None): "No specification has this ID.",
    (Reason.NOT_ENTERPRISE_USER, Level.PRODUCT): "This product is sold only to enterprise users.",
    (Reason.NOT_ENTERPRISE_USER, Level.SPECIFICATION): (
        "This specification is sold only to enterprise users."
    ),
    (Reason.NOT_INDIVIDUAL_USER, Level.PRODUCT): "This product is sold only to individual users.",
    (Reason.NOT_INDIVIDUAL_USER, Level.SPECIFICATION): (
        "This specification is sold only to individual users."
    ),
    (Reason.NOT_SPECIFIED_USER, Level.PRODUCT): "This product is sold only to specified users.",
    (Reason.NOT_SPECIFIED_USER, Level.SPECIFICATION): (
        "This specification is sold only to specified users."
    ),
    (Reason.NO_ASSOCIATED_PURCHASE, Level.PRODUCT): (
        "This product is sold only to customers who have bought an associated product."
    ),
    (Reason.NO_ASSOCIATED_PURCHASE, Level.SPECIFICATION): (
        "This specification is sold only to customers who have bought an associated specification."
    ),
}

_REFUSAL: dict[Target, Reason] = {
    Target.ENTERPRISE: Reason.NOT_ENTERPRISE_USER,
    Target.INDIVIDUAL: Reason.NOT_INDIVIDUAL_USER,
    Target.SPECIFIED: Reason.NOT_SPECIFIED_USER,
    Target.ASSOCIATED: Reason.NO_ASSOCIATED_PURCHASE,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """R12: the answer to "may this account buy this specification, and if not, why?"."""

    allowed: bool
    reason: Reason
    level: Level | None

    @property
    def message(self) -> str:
        return _MESSAGES[(self.reason, self.level)]


# The decisions are few and immutable: share them rather than allocate one per check.
_DECISIONS = {key: Decision(key[0] is Reason.ALLOWED, key[0], key[1]) for key in _MESSAGES}
ACCOUNT_NOT_FOUND = _DECISIONS[(Reason.ACCOUNT_NOT_FOUND, None)]
SPECIFICATION_NOT_FOUND = _DECISIONS[(Reason.SPECIFICATION_NOT_FOUND, None)]


@dataclass(frozen=True, slots=True)
class Offer:
    """What a decision needs to know of one specification and its product."""

    product_id: str
    specification_id: str
    product_target: Target
    setting: Setting
    associated_products: frozenset[str] = frozenset()
    associated_specifications: frozenset[str] = frozenset()


class BuyerFacts(Protocol):
    """What a decision needs to know of one account; asked lazily, only when a rule needs it."""

    @property
    def account_type(self) -> AccountType: ...

    def on_product_list(self, product_id: str) -> bool:
        """Whether the account is on the product's specified-user list."""
        ...

    def on_specification_list(self, specification_id: str) -> bool:
        """Whether the account is on the specification's specified-user list."""
        ...

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        """R10: a counted purchase of any specification of any of these products."""
        ...

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        """R10: a counted purchase of any of these specifications."""
        ...


def _admits_at_product(offer: Offer, buyer: BuyerFacts) -> bool:
    """R3: is the account in the product's audience A(P)?"""
    target = offer.product_target
    if target is Target.ALL:
        return True
    if target is Target.ENTERPRISE:
        return buyer.account_type is AccountType.ENTERPRISE
    if target is Target.INDIVIDUAL:
        return buyer.account_type is AccountType.INDIVIDUAL
    if target is Target.SPECIFIED:
        return buyer.on_product_list(offer.product_id)
    return bool(offer.associated_products) and buyer.bought_any_product(offer.associated_products)


def _admits_at_specification(offer: Offer, buyer: BuyerFacts) -> bool:
    """R3: is the account in the audience of the specification's own explicit setting?"""
    setting = offer.setting
    if setting is Setting.ALL:
        return True
    if setting is Setting.ENTERPRISE:
        return buyer.account_type is AccountType.ENTERPRISE
    if setting is Setting.INDIVIDUAL:
        return buyer.account_type is AccountType.INDIVIDUAL
    if setting is Setting.SPECIFIED:
        return buyer.on_specification_list(offer.specification_id)
    return bool(offer.associated_specifications) and buyer.bought_any_specification(
        offer.associated_specifications
    )


def decide(offer: Offer | None, buyer: BuyerFacts | None) -> Decision:
    """R12: the product level is judged first, then the specification's own setting (R3).

    `None` stands for an unknown specification or account. A specification setting only ever
    narrows its product: an account outside A(P) is refused at the product level whatever the
    specification says.
    """
    if offer is None:
        return SPECIFICATION_NOT_FOUND
    if buyer is None:
        return ACCOUNT_NOT_FOUND
    if not _admits_at_product(offer, buyer):
        return _DECISIONS[(_REFUSAL[offer.product_target], Level.PRODUCT)]
    if offer.setting is Setting.SAME_AS_PRODUCT:
        return _DECISIONS[(Reason.ALLOWED, Level.PRODUCT)]
    if not _admits_at_specification(offer, buyer):
        explicit = offer.setting.as_target()
        assert explicit is not None
        return _DECISIONS[(_REFUSAL[explicit], Level.SPECIFICATION)]
    return _DECISIONS[(Reason.ALLOWED, Level.SPECIFICATION)]


def message_for(reason: Reason, level: Level | None) -> str:
    """R12's sentence for a reason at a level."""
    return _MESSAGES[(reason, level)]
