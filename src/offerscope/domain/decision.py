"""Who may buy a specification: SPEC.md R3 (audiences), R10 (counted purchase), R12 (decision).

The rules are written once, in `compile_offer`: it turns one specification's offer into a
decision function of a buyer, given how the store tests audience membership (`Audiences`).
`decide` is that function over the lazy `BuyerFacts` protocol (SQL reads, preloaded sets, test
fakes), used by orders, the command line and the tests; the in-memory decision index compiles
each specification once over its own integer sets. Either way the same code picks the
audiences, their order, the level and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Generic, Protocol, TypeVar

from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Lapse, moment_text


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
    SPECIFIED_USER_EXPIRED = "specified_user_expired"  # R16
    SPECIFIED_USER_NOT_YET_VALID = "specified_user_not_yet_valid"  # R16


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
    # R16: the account's entry on the deciding list is outside its window; `{moment}` is when
    # it closed or will open.
    (Reason.SPECIFIED_USER_EXPIRED, Level.PRODUCT): (
        "This account's access to this product as a specified user ended at {moment}."
    ),
    (Reason.SPECIFIED_USER_EXPIRED, Level.SPECIFICATION): (
        "This account's access to this specification as a specified user ended at {moment}."
    ),
    (Reason.SPECIFIED_USER_NOT_YET_VALID, Level.PRODUCT): (
        "This account may buy this product as a specified user from {moment}."
    ),
    (Reason.SPECIFIED_USER_NOT_YET_VALID, Level.SPECIFICATION): (
        "This account may buy this specification as a specified user from {moment}."
    ),
}

_LAPSES = {
    Lapse.EXPIRED: Reason.SPECIFIED_USER_EXPIRED,
    Lapse.NOT_YET_VALID: Reason.SPECIFIED_USER_NOT_YET_VALID,
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
    # R16: when the account's window on the deciding list closed (expired) or opens.
    moment: datetime | None = None

    @property
    def message(self) -> str:
        text = _MESSAGES[(self.reason, self.level)]
        return text if self.moment is None else text.format(moment=moment_text(self.moment))

    def summary(self) -> dict[str, object]:
        """R12's answer as every edge gives it: allowed, reason, level and the sentence, and
        for R16's reasons the moment as `valid_until` (expired) or `valid_from`."""
        answer: dict[str, object] = {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "level": self.level.value if self.level else None,
            "message": self.message,
        }
        if self.moment is not None:
            key = "valid_until" if self.reason is Reason.SPECIFIED_USER_EXPIRED else "valid_from"
            answer[key] = self.moment.isoformat().replace("+00:00", "Z")
        return answer


@lru_cache(maxsize=4096)  # the refusals of one window are one shared value
def lapsed(lapse: tuple[Lapse, datetime], level: Level) -> Decision:
    """R12 with R16: the refusal of an account whose entries on the deciding list are all
    outside their windows."""
    why, moment = lapse
    return Decision(False, _LAPSES[why], level, moment)


# The decisions are few and immutable: share them rather than allocate one per check.
_DECISIONS = {
    key: Decision(key[0] is Reason.ALLOWED, key[0], key[1])
    for key in _MESSAGES
    if key[0] not in _LAPSES.values()
}
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

    def product_list_lapse(self, product_id: str) -> tuple[Lapse, datetime] | None:
        """R16: why the account's entries on the product's list do not admit it now, if it
        has entries there and all are outside their windows."""
        ...

    def specification_list_lapse(self, specification_id: str) -> tuple[Lapse, datetime] | None:
        """R16: as `product_list_lapse`, on the specification's own list."""
        ...


# --- the compiled form (see the module's docstring) ----------------------------------------

B_contra = TypeVar("B_contra", contravariant=True)
B = TypeVar("B")
A = TypeVar("A")


class Members(Protocol[B_contra]):
    """One audience as a membership test of one buyer: `buyer in members`. A set, a bitmap or
    a dict answers with no Python call at all, which is what keeps a decision cheap."""

    def __contains__(self, buyer: B_contra, /) -> bool: ...


class Asked(Generic[B]):
    """`Members` from a test function, for an audience that is no container of its own."""

    __slots__ = ("_test",)

    def __init__(self, test: Callable[[B], object]) -> None:
        self._test = test

    def __contains__(self, buyer: B) -> bool:
        return bool(self._test(buyer))


class AnyOf(Generic[B]):
    """`Members` of any of several audiences (a list and its groups, several purchases)."""

    __slots__ = ("_audiences",)

    def __init__(self, audiences: Iterable[Members[B]]) -> None:
        self._audiences = tuple(audiences)

    def __contains__(self, buyer: B) -> bool:
        for audience in self._audiences:  # noqa: SIM110 (a loop: twice as fast as any() here)
            if buyer in audience:
                return True
        return False


def any_of(audiences: Sequence[Members[B]]) -> Members[B]:
    """The buyers in any of `audiences`: a single one as itself (asked with no Python call),
    several as `AnyOf`."""
    return audiences[0] if len(audiences) == 1 else AnyOf(audiences)


class _Nobody:
    """The empty audience, for any kind of buyer (hashable or not)."""

    __slots__ = ()

    def __contains__(self, buyer: object) -> bool:
        return False


NOBODY = _Nobody()


Check = Callable[[B_contra | None], Decision]
"""The decision for one specification, for a buyer (None: an unknown account)."""


A_co = TypeVar("A_co", covariant=True)


class Audiences(Protocol[A_co]):
    """How a store represents each kind of audience R3 names: as a membership test of one
    buyer (deciding), or as a whole set of accounts (an impact's set algebra)."""

    def nobody(self) -> A_co:
        """No account at all (an associated setting with nothing associated)."""
        ...

    def of_type(self, account_type: AccountType) -> A_co:
        """The accounts of this type (the `enterprise` and `individual` targets)."""
        ...

    def on_product_list(self, product_id: str) -> A_co:
        """The product's specified-user list."""
        ...

    def on_specification_list(self, specification_id: str) -> A_co:
        """The specification's specified-user list."""
        ...

    def bought_any_product(self, product_ids: frozenset[str]) -> A_co:
        """R10: counted buyers of any of these (never empty) products."""
        ...

    def bought_any_specification(self, specification_ids: frozenset[str]) -> A_co:
        """R10: counted buyers of any of these (never empty) specifications."""
        ...


def _audience(target: Target, offer: Offer, audiences: Audiences[A], *, own: bool) -> A | None:
    """R3: one target's audience; None for `all` (everyone).

    `own` picks the specification's own list and associations rather than its product's.
    """
    if target is Target.ALL:
        return None
    if target is Target.ENTERPRISE:
        return audiences.of_type(AccountType.ENTERPRISE)
    if target is Target.INDIVIDUAL:
        return audiences.of_type(AccountType.INDIVIDUAL)
    if target is Target.SPECIFIED:
        if own:
            return audiences.on_specification_list(offer.specification_id)
        return audiences.on_product_list(offer.product_id)
    # Associated: an empty association list admits nobody.
    if own:
        linked = offer.associated_specifications
        return audiences.bought_any_specification(linked) if linked else audiences.nobody()
    linked = offer.associated_products
    return audiences.bought_any_product(linked) if linked else audiences.nobody()


def audience_levels(offer: Offer, audiences: Audiences[A]) -> tuple[A | None, A | None]:
    """R3: the audience of the product's target, and of the specification's own explicit
    setting (None where a level admits everyone: `all`, or `same_as_product`).

    The specification's audience is the intersection of the two: a specification setting only
    ever narrows its product.
    """
    at_product = _audience(offer.product_target, offer, audiences, own=False)
    explicit = offer.setting.as_target()
    at_specification = None if explicit is None else _audience(explicit, offer, audiences, own=True)
    return at_product, at_specification


def _unknown_specification(_buyer: object) -> Decision:
    return SPECIFICATION_NOT_FOUND


LapseTest = Callable[[B_contra], "tuple[Lapse, datetime] | None"]
"""R16: why a buyer's entries on one list, all outside their windows, do not admit it now
(`domain.windows.lapse_of`); None if it has no such entry."""


class Lapses(Protocol[B_contra]):
    """How a store finds a refused buyer's entries outside their windows (R16) on a list."""

    def of_product_list(self, product_id: str) -> LapseTest[B_contra] | None:
        """None where the list has no entry with a window (nothing can lapse)."""
        ...

    def of_specification_list(self, specification_id: str) -> LapseTest[B_contra] | None: ...


def compile_offer(
    offer: Offer | None,
    audiences: Audiences[Members[B_contra]],
    lapses: Lapses[B_contra] | None = None,
) -> Check[B_contra]:
    """R3, R12: the decision function of one specification, for any buyer of this store.

    The product level is judged first, then the specification's own explicit setting: a
    specification setting only ever narrows its product. `None` stands for an unknown
    specification, which is reported before an unknown account. With `lapses`, a refusal by a
    specified-user list whose entries for the buyer are outside their windows says so (R16).
    """
    if offer is None:
        return _unknown_specification
    at_product, at_specification = audience_levels(offer, audiences)
    explicit = offer.setting.as_target()
    level = Level.PRODUCT if explicit is None else Level.SPECIFICATION
    product_lapse = specification_lapse = None
    if lapses is not None:
        if offer.product_target is Target.SPECIFIED:
            product_lapse = lapses.of_product_list(offer.product_id)
        if explicit is Target.SPECIFIED:
            specification_lapse = lapses.of_specification_list(offer.specification_id)
    return _specialise(
        (at_product, _refusal(offer.product_target, Level.PRODUCT), product_lapse),
        (at_specification, _refusal(explicit, Level.SPECIFICATION), specification_lapse),
        _DECISIONS[(Reason.ALLOWED, level)],
    )


def _refusal(target: Target | None, level: Level) -> Decision | None:
    """R12: how a target refuses at a level; None where it refuses nobody."""
    reason = _REFUSAL.get(target) if target is not None else None
    return None if reason is None else _DECISIONS[(reason, level)]


# One level of a compiled offer: its audience (None: everyone), its refusal, and where the
# level's list has windows, why a refused buyer's entries do not count now (R16).
_Level = tuple[Members[B_contra] | None, Decision | None, LapseTest[B_contra] | None]


def _specialise(
    product: _Level[B_contra], specification: _Level[B_contra], allowed: Decision
) -> Check[B_contra]:
    """One small closure per shape, so that a check runs no test it does not need: each
    audience is a container asked with `in`, each plain refusal a constant.

    Only this function orders the levels; the four shapes are the same rule with absent
    audiences (`all`, `same_as_product`) left out.
    """
    at_product, refused_at_product, product_lapse = product
    at_spec, refused_at_spec, spec_lapse = specification
    if at_product is None and at_spec is None:

        def everyone(buyer: B_contra | None) -> Decision:
            return ACCOUNT_NOT_FOUND if buyer is None else allowed

        return everyone
    if at_spec is None:
        assert at_product is not None and refused_at_product is not None
        product_members, product_refused = at_product, refused_at_product

        def product_only(buyer: B_contra | None) -> Decision:
            if buyer is None:
                return ACCOUNT_NOT_FOUND
            if buyer in product_members:
                return allowed
            return (
                product_refused
                if product_lapse is None
                else _lapsed(product_refused, product_lapse, buyer)
            )

        return product_only
    assert refused_at_spec is not None
    spec_members, spec_refused = at_spec, refused_at_spec
    if at_product is None:

        def specification_only(buyer: B_contra | None) -> Decision:
            if buyer is None:
                return ACCOUNT_NOT_FOUND
            if buyer in spec_members:
                return allowed
            return spec_refused if spec_lapse is None else _lapsed(spec_refused, spec_lapse, buyer)

        return specification_only
    assert refused_at_product is not None
    product_members, product_refused = at_product, refused_at_product

    def both(buyer: B_contra | None) -> Decision:
        if buyer is None:
            return ACCOUNT_NOT_FOUND
        if buyer not in product_members:
            return (
                product_refused
                if product_lapse is None
                else _lapsed(product_refused, product_lapse, buyer)
            )
        if buyer in spec_members:
            return allowed
        return spec_refused if spec_lapse is None else _lapsed(spec_refused, spec_lapse, buyer)

    return both


def _lapsed(refused: Decision, lapse: LapseTest[B_contra], buyer: B_contra) -> Decision:
    """A level's refusal; R16's own when the buyer's entries on its list are out of window."""
    why = lapse(buyer)
    if why is None:
        return refused
    assert refused.level is not None  # a level's refusal names its level
    return lapsed(why, refused.level)


class _LazyFacts:
    """`Audiences` over `BuyerFacts`: each test asks the buyer only when the check runs."""

    def nobody(self) -> Members[BuyerFacts]:
        return NOBODY

    def of_type(self, account_type: AccountType) -> Members[BuyerFacts]:
        return Asked(lambda buyer: buyer.account_type is account_type)

    def on_product_list(self, product_id: str) -> Members[BuyerFacts]:
        return Asked(lambda buyer: buyer.on_product_list(product_id))

    def on_specification_list(self, specification_id: str) -> Members[BuyerFacts]:
        return Asked(lambda buyer: buyer.on_specification_list(specification_id))

    def bought_any_product(self, product_ids: frozenset[str]) -> Members[BuyerFacts]:
        return Asked(lambda buyer: buyer.bought_any_product(product_ids))

    def bought_any_specification(self, specification_ids: frozenset[str]) -> Members[BuyerFacts]:
        return Asked(lambda buyer: buyer.bought_any_specification(specification_ids))


class _LazyLapses:
    """`Lapses` over `BuyerFacts`: asked only when a specified-user list refuses."""

    def of_product_list(self, product_id: str) -> LapseTest[BuyerFacts]:
        return lambda buyer: buyer.product_list_lapse(product_id)

    def of_specification_list(self, specification_id: str) -> LapseTest[BuyerFacts]:
        return lambda buyer: buyer.specification_list_lapse(specification_id)


_FACTS = _LazyFacts()
_LAPSE_FACTS = _LazyLapses()


def decide(offer: Offer | None, buyer: BuyerFacts | None) -> Decision:
    """R12 for one specification and one account, from facts read lazily (see `compile_offer`).

    `None` stands for an unknown specification or account. A specification setting only ever
    narrows its product: an account outside A(P) is refused at the product level whatever the
    specification says.
    """
    return compile_offer(offer, _FACTS, _LAPSE_FACTS)(buyer)


def message_for(reason: Reason, level: Level | None) -> str:
    """R12's sentence for a reason at a level."""
    return _MESSAGES[(reason, level)]
