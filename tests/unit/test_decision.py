"""SPEC.md R3 (audiences), R10 (counted purchase) and R12 (decisions), on an in-memory fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from offerscope.domain.decision import (
    Decision,
    Level,
    Offer,
    OrderStatus,
    Reason,
    counts_as_purchase,
    decide,
    message_for,
)
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import EntryStatus, Lapse, Window, lapse_of

ENT = AccountType.ENTERPRISE
IND = AccountType.INDIVIDUAL


@dataclass
class FakeBuyer:
    """BuyerFacts over plain sets; `orders` are (product_id, specification_id, status)."""

    account_type: AccountType
    product_lists: set[str] = field(default_factory=set)
    specification_lists: set[str] = field(default_factory=set)
    orders: list[tuple[str, str, OrderStatus]] = field(default_factory=list)
    # R16: entries with a window, by product or specification ID, judged at `now`.
    product_windows: dict[str, Window] = field(default_factory=dict)
    specification_windows: dict[str, Window] = field(default_factory=dict)
    now: datetime = datetime(2027, 1, 1, tzinfo=UTC)

    def on_product_list(self, product_id: str) -> bool:
        window = self.product_windows.get(product_id)
        if window is not None:
            return window.status(self.now) is EntryStatus.ACTIVE
        return product_id in self.product_lists

    def on_specification_list(self, specification_id: str) -> bool:
        window = self.specification_windows.get(specification_id)
        if window is not None:
            return window.status(self.now) is EntryStatus.ACTIVE
        return specification_id in self.specification_lists

    def product_list_lapse(self, product_id: str) -> tuple[Lapse, datetime] | None:
        window = self.product_windows.get(product_id)
        return None if window is None else lapse_of([window], self.now)

    def specification_list_lapse(self, specification_id: str) -> tuple[Lapse, datetime] | None:
        window = self.specification_windows.get(specification_id)
        return None if window is None else lapse_of([window], self.now)

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        # R10: buying a specification counts as buying its product; only paid orders count.
        return any(
            product in product_ids and status == "paid" for product, _, status in self.orders
        )

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        return any(
            spec in specification_ids and status == "paid" for _, spec, status in self.orders
        )


def offer(
    target: Target,
    setting: Setting = Setting.SAME_AS_PRODUCT,
    *,
    products: frozenset[str] = frozenset(),
    specifications: frozenset[str] = frozenset(),
) -> Offer:
    return Offer(
        product_id="P",
        specification_id="S",
        product_target=target,
        setting=setting,
        associated_products=products,
        associated_specifications=specifications,
    )


def assert_decision(decision: Decision, allowed: bool, reason: str, level: str | None) -> None:
    assert (decision.allowed, decision.reason.value, decision.level) == (
        allowed,
        reason,
        None if level is None else Level(level),
    )


# --- R3 product level: every product target x account type ---------------------------------

# (product target, account type, on P's list, bought an associated product) -> reason or "allowed"
PRODUCT_LEVEL: list[tuple[Target, AccountType, bool, bool, str]] = [
    (Target.ALL, ENT, False, False, "allowed"),
    (Target.ALL, IND, False, False, "allowed"),
    (Target.ENTERPRISE, ENT, False, False, "allowed"),
    (Target.ENTERPRISE, IND, True, True, "not_enterprise_user"),
    (Target.INDIVIDUAL, ENT, True, True, "not_individual_user"),
    (Target.INDIVIDUAL, IND, False, False, "allowed"),
    (Target.SPECIFIED, ENT, True, False, "allowed"),
    (Target.SPECIFIED, IND, True, False, "allowed"),
    (Target.SPECIFIED, ENT, False, True, "not_specified_user"),
    (Target.SPECIFIED, IND, False, True, "not_specified_user"),
    (Target.ASSOCIATED, ENT, False, True, "allowed"),
    (Target.ASSOCIATED, IND, False, True, "allowed"),
    (Target.ASSOCIATED, ENT, True, False, "no_associated_purchase"),
    (Target.ASSOCIATED, IND, True, False, "no_associated_purchase"),
]


@pytest.mark.parametrize(("target", "account_type", "listed", "bought", "reason"), PRODUCT_LEVEL)
def test_r3_product_audience_for_every_target_and_account_type(
    target: Target, account_type: AccountType, listed: bool, bought: bool, reason: str
) -> None:
    buyer = FakeBuyer(
        account_type,
        product_lists={"P"} if listed else set(),
        orders=[("Q", "Q1", OrderStatus.PAID)] if bought else [],
    )
    decision = decide(offer(target, products=frozenset({"Q"})), buyer)
    assert_decision(decision, reason == "allowed", reason, "product")


def test_r3_specified_product_ignores_other_products_lists_and_the_spec_list() -> None:
    buyer = FakeBuyer(ENT, product_lists={"OTHER"}, specification_lists={"S"})
    assert_decision(decide(offer(Target.SPECIFIED), buyer), False, "not_specified_user", "product")


def test_r3_associated_product_counts_a_purchase_of_any_listed_product() -> None:
    buyer = FakeBuyer(IND, orders=[("Q2", "Q2-small", OrderStatus.PAID)])
    o = offer(Target.ASSOCIATED, products=frozenset({"Q1", "Q2", "Q3"}))
    assert_decision(decide(o, buyer), True, "allowed", "product")


def test_r3_associated_product_does_not_count_a_purchase_of_an_unlisted_product() -> None:
    buyer = FakeBuyer(IND, orders=[("X", "X1", OrderStatus.PAID), ("P", "S", OrderStatus.PAID)])
    o = offer(Target.ASSOCIATED, products=frozenset({"Q1"}))
    assert_decision(decide(o, buyer), False, "no_associated_purchase", "product")


def test_r3_associated_product_with_empty_association_set_refuses() -> None:
    buyer = FakeBuyer(ENT, orders=[("Q", "Q1", OrderStatus.PAID), ("P", "S", OrderStatus.PAID)])
    assert_decision(
        decide(offer(Target.ASSOCIATED), buyer), False, "no_associated_purchase", "product"
    )


def test_r3_associated_specification_with_empty_association_set_refuses() -> None:
    buyer = FakeBuyer(ENT, orders=[("P", "S2", OrderStatus.PAID), ("P", "S", OrderStatus.PAID)])
    assert_decision(
        decide(offer(Target.ALL, Setting.ASSOCIATED), buyer),
        False,
        "no_associated_purchase",
        "specification",
    )


# --- R3 specification level: a setting only narrows ------------------------------------------

# (product target, spec setting, buyer) -> (allowed, reason, level)
SPEC_LEVEL: list[tuple[Target, Setting, FakeBuyer, bool, str, str]] = [
    # same_as_product: the product decides, also when allowing.
    (Target.ALL, Setting.SAME_AS_PRODUCT, FakeBuyer(IND), True, "allowed", "product"),
    # explicit settings under `all`
    (Target.ALL, Setting.ALL, FakeBuyer(IND), True, "allowed", "specification"),
    (Target.ALL, Setting.ENTERPRISE, FakeBuyer(ENT), True, "allowed", "specification"),
    (Target.ALL, Setting.ENTERPRISE, FakeBuyer(IND), False, "not_enterprise_user", "specification"),
    (Target.ALL, Setting.INDIVIDUAL, FakeBuyer(IND), True, "allowed", "specification"),
    (Target.ALL, Setting.INDIVIDUAL, FakeBuyer(ENT), False, "not_individual_user", "specification"),
    (
        Target.ALL,
        Setting.SPECIFIED,
        FakeBuyer(IND, specification_lists={"S"}),
        True,
        "allowed",
        "specification",
    ),
    (
        Target.ALL,
        Setting.SPECIFIED,
        # on the product's list and another specification's list, not this one's
        FakeBuyer(IND, product_lists={"P"}, specification_lists={"S-other"}),
        False,
        "not_specified_user",
        "specification",
    ),
    (
        Target.ALL,
        Setting.ASSOCIATED,
        FakeBuyer(ENT, orders=[("P", "S2", OrderStatus.PAID)]),
        True,
        "allowed",
        "specification",
    ),
    (
        Target.ALL,
        Setting.ASSOCIATED,
        # bought the associated product through an unlisted specification: not enough
        FakeBuyer(ENT, orders=[("P", "S3", OrderStatus.PAID), ("Q", "Q1", OrderStatus.PAID)]),
        False,
        "no_associated_purchase",
        "specification",
    ),
    # under `enterprise`
    (Target.ENTERPRISE, Setting.ENTERPRISE, FakeBuyer(ENT), True, "allowed", "specification"),
    (
        Target.ENTERPRISE,
        Setting.SPECIFIED,
        FakeBuyer(ENT, specification_lists={"S"}),
        True,
        "allowed",
        "specification",
    ),
    (
        Target.ENTERPRISE,
        Setting.SPECIFIED,
        FakeBuyer(ENT),
        False,
        "not_specified_user",
        "specification",
    ),
    (
        Target.ENTERPRISE,
        Setting.ASSOCIATED,
        FakeBuyer(ENT),
        False,
        "no_associated_purchase",
        "specification",
    ),
    # under `individual`
    (
        Target.INDIVIDUAL,
        Setting.ASSOCIATED,
        FakeBuyer(IND, orders=[("P", "S2", OrderStatus.PAID)]),
        True,
        "allowed",
        "specification",
    ),
    (
        Target.INDIVIDUAL,
        Setting.ASSOCIATED,
        FakeBuyer(IND, orders=[("P", "S2", OrderStatus.REFUNDED)]),
        False,
        "no_associated_purchase",
        "specification",
    ),
    # Product level first: refused by the product even where the spec would also refuse.
    (
        Target.ENTERPRISE,
        Setting.SPECIFIED,
        FakeBuyer(IND),
        False,
        "not_enterprise_user",
        "product",
    ),
    (
        Target.INDIVIDUAL,
        Setting.ASSOCIATED,
        FakeBuyer(ENT),
        False,
        "not_individual_user",
        "product",
    ),
    (Target.ALL, Setting.ENTERPRISE, FakeBuyer(IND), False, "not_enterprise_user", "specification"),
    # ... and where the spec alone would admit (R6: the account's type changed after listing).
    (
        Target.ENTERPRISE,
        Setting.SPECIFIED,
        FakeBuyer(IND, specification_lists={"S"}),
        False,
        "not_enterprise_user",
        "product",
    ),
    (
        Target.INDIVIDUAL,
        Setting.ASSOCIATED,
        FakeBuyer(ENT, orders=[("P", "S2", OrderStatus.PAID)]),
        False,
        "not_individual_user",
        "product",
    ),
    # Non-editable products: their lists decide, the (always same_as_product) spec follows.
    (
        Target.SPECIFIED,
        Setting.SAME_AS_PRODUCT,
        FakeBuyer(IND, specification_lists={"S"}),
        False,
        "not_specified_user",
        "product",
    ),
    (
        Target.ASSOCIATED,
        Setting.SAME_AS_PRODUCT,
        FakeBuyer(IND, orders=[("P", "S2", OrderStatus.PAID)]),
        False,
        "no_associated_purchase",
        "product",
    ),
]


@pytest.mark.parametrize(("target", "setting", "buyer", "allowed", "reason", "level"), SPEC_LEVEL)
def test_r3_r12_specification_setting_narrows_and_product_is_judged_first(
    target: Target, setting: Setting, buyer: FakeBuyer, allowed: bool, reason: str, level: str
) -> None:
    o = offer(target, setting, products=frozenset({"Q"}), specifications=frozenset({"S2"}))
    assert_decision(decide(o, buyer), allowed, reason, level)


@pytest.mark.parametrize("setting", list(Setting))
@pytest.mark.parametrize("account_type", list(AccountType))
def test_r3_a_specification_never_admits_an_account_its_product_refuses(
    setting: Setting, account_type: AccountType
) -> None:
    # A buyer who would satisfy every specification-level rule, under a product that refuses.
    buyer = FakeBuyer(
        account_type,
        specification_lists={"S"},
        orders=[("P", "S2", OrderStatus.PAID)],
    )
    refusing_target = Target.INDIVIDUAL if account_type is ENT else Target.ENTERPRISE
    for target in (refusing_target, Target.SPECIFIED, Target.ASSOCIATED):
        decision = decide(offer(target, setting, specifications=frozenset({"S2"})), buyer)
        assert decision.allowed is False
        assert decision.level is Level.PRODUCT


# --- R12 unknown IDs ------------------------------------------------------------------------


def test_r12_unknown_specification() -> None:
    decision = decide(None, FakeBuyer(ENT))
    assert_decision(decision, False, "specification_not_found", None)
    assert decision.message


def test_r12_unknown_account() -> None:
    decision = decide(offer(Target.ALL), None)
    assert_decision(decision, False, "account_not_found", None)
    assert decision.message


def test_r12_unknown_account_is_refused_even_where_everyone_may_buy() -> None:
    assert decide(offer(Target.ALL, Setting.ALL), None).allowed is False


def test_r12_unknown_specification_and_account() -> None:
    decision = decide(None, None)
    assert decision.allowed is False
    assert decision.reason in (Reason.SPECIFICATION_NOT_FOUND, Reason.ACCOUNT_NOT_FOUND)
    assert decision.level is None


# --- R12 messages ---------------------------------------------------------------------------

REFUSALS = [
    Reason.NOT_ENTERPRISE_USER,
    Reason.NOT_INDIVIDUAL_USER,
    Reason.NOT_SPECIFIED_USER,
    Reason.NO_ASSOCIATED_PURCHASE,
]


def test_r12_reason_values_are_the_spec_codes() -> None:
    assert {reason.value for reason in Reason} == {
        "allowed",
        "account_not_found",
        "specification_not_found",
        "not_enterprise_user",
        "not_individual_user",
        "not_specified_user",
        "no_associated_purchase",
        "specified_user_expired",
        "specified_user_not_yet_valid",
    }
    assert {level.value for level in Level} == {"product", "specification"}


@pytest.mark.parametrize("reason", REFUSALS)
def test_r12_product_level_messages_name_the_product(reason: Reason) -> None:
    message = message_for(reason, Level.PRODUCT)
    assert message.strip()
    assert "product" in message.lower()
    assert "specification" not in message.lower()


@pytest.mark.parametrize("reason", REFUSALS)
def test_r12_specification_level_messages_name_the_specification(reason: Reason) -> None:
    message = message_for(reason, Level.SPECIFICATION)
    assert message.strip()
    assert "specification" in message.lower()


@pytest.mark.parametrize("level", list(Level))
def test_r12_refusal_messages_differ_by_reason(level: Level) -> None:
    messages = [message_for(reason, level) for reason in REFUSALS]
    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (Reason.NOT_ENTERPRISE_USER, "enterprise"),
        (Reason.NOT_INDIVIDUAL_USER, "individual"),
        (Reason.NOT_SPECIFIED_USER, "specified"),
        (Reason.NO_ASSOCIATED_PURCHASE, "associated"),
    ],
)
@pytest.mark.parametrize("level", list(Level))
def test_r12_refusal_messages_say_who_may_buy(reason: Reason, words: str, level: Level) -> None:
    assert words in message_for(reason, level).lower()


def test_r12_spec_example_sentence() -> None:
    assert "This specification is sold only to specified users" in message_for(
        Reason.NOT_SPECIFIED_USER, Level.SPECIFICATION
    )


def test_r12_decision_message_is_the_sentence_for_its_reason_and_level() -> None:
    decision = decide(offer(Target.ALL, Setting.INDIVIDUAL), FakeBuyer(ENT))
    assert decision.message == message_for(Reason.NOT_INDIVIDUAL_USER, Level.SPECIFICATION)
    decision = decide(offer(Target.ENTERPRISE), FakeBuyer(IND))
    assert decision.message == message_for(Reason.NOT_ENTERPRISE_USER, Level.PRODUCT)
    assert decide(None, None).message.strip()
    assert decide(offer(Target.ALL), FakeBuyer(IND)).message.strip()


# --- R10 ------------------------------------------------------------------------------------


def test_r10_paid_counts() -> None:
    assert counts_as_purchase(OrderStatus.PAID) is True


def test_r10_refunded_does_not_count() -> None:
    assert counts_as_purchase(OrderStatus.REFUNDED) is False


def test_r10_order_status_values() -> None:
    assert {status.value for status in OrderStatus} == {"paid", "refunded"}


def test_r10_a_refunded_associated_purchase_no_longer_admits() -> None:
    o = offer(Target.ASSOCIATED, products=frozenset({"Q"}))
    buyer = FakeBuyer(IND, orders=[("Q", "Q1", OrderStatus.PAID)])
    assert decide(o, buyer).allowed is True
    buyer.orders = [("Q", "Q1", OrderStatus.REFUNDED)]
    assert_decision(decide(o, buyer), False, "no_associated_purchase", "product")


def test_r10_buying_a_specification_counts_as_buying_its_product() -> None:
    # Bought only specification Q7 of product Q; P is sold to buyers of product Q.
    buyer = FakeBuyer(ENT, orders=[("Q", "Q7", OrderStatus.PAID)])
    o = offer(Target.ASSOCIATED, products=frozenset({"Q"}))
    assert_decision(decide(o, buyer), True, "allowed", "product")
