"""SPEC.md R1, R2 and R4: defaults, allowed specification settings, product target changes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from offerscope.domain.errors import Conflict, Invalid, OfferscopeError
from offerscope.domain.targets import (
    DEFAULT_PRODUCT_TARGET,
    DEFAULT_SETTING,
    LABELS,
    Setting,
    SpecificationSetting,
    Target,
    allowed_settings,
    check_product_target_change,
    check_setting,
    conflicting_specifications,
    effective_target,
    is_editable,
)

# SPEC.md §3, written out by hand (not read from the code).
PRODUCT_TARGETS = ["all", "enterprise", "individual", "specified", "associated"]
SETTINGS = ["same_as_product", "all", "enterprise", "individual", "specified", "associated"]

# R2, copied from SPEC.md's table: None means "non-editable: always same_as_product".
R2_ROWS: dict[str, set[str] | None] = {
    "all": {"same_as_product", "all", "enterprise", "individual", "specified", "associated"},
    "enterprise": {"same_as_product", "enterprise", "specified", "associated"},
    "individual": {"same_as_product", "individual", "specified", "associated"},
    "specified": None,
    "associated": None,
}

OK = "allowed"
NOT_ALLOWED = "target_not_allowed"
NON_EDITABLE = "non_editable"

# R2, one line per (product target, specification setting) pair: 5 x 6 = 30.
R2_TABLE: list[tuple[str, str, str]] = [
    ("all", "same_as_product", OK),
    ("all", "all", OK),
    ("all", "enterprise", OK),
    ("all", "individual", OK),
    ("all", "specified", OK),
    ("all", "associated", OK),
    ("enterprise", "same_as_product", OK),
    ("enterprise", "all", NOT_ALLOWED),
    ("enterprise", "enterprise", OK),
    ("enterprise", "individual", NOT_ALLOWED),
    ("enterprise", "specified", OK),
    ("enterprise", "associated", OK),
    ("individual", "same_as_product", OK),
    ("individual", "all", NOT_ALLOWED),
    ("individual", "enterprise", NOT_ALLOWED),
    ("individual", "individual", OK),
    ("individual", "specified", OK),
    ("individual", "associated", OK),
    ("specified", "same_as_product", NON_EDITABLE),
    ("specified", "all", NON_EDITABLE),
    ("specified", "enterprise", NON_EDITABLE),
    ("specified", "individual", NON_EDITABLE),
    ("specified", "specified", NON_EDITABLE),
    ("specified", "associated", NON_EDITABLE),
    ("associated", "same_as_product", NON_EDITABLE),
    ("associated", "all", NON_EDITABLE),
    ("associated", "enterprise", NON_EDITABLE),
    ("associated", "individual", NON_EDITABLE),
    ("associated", "specified", NON_EDITABLE),
    ("associated", "associated", NON_EDITABLE),
]


def test_r2_table_covers_every_pair_once() -> None:
    pairs = [(target, setting) for target, setting, _ in R2_TABLE]
    assert len(pairs) == 30
    assert set(pairs) == set(itertools.product(PRODUCT_TARGETS, SETTINGS))


def test_r2_enums_have_exactly_the_spec_values() -> None:
    assert sorted(t.value for t in Target) == sorted(PRODUCT_TARGETS)
    assert sorted(s.value for s in Setting) == sorted(SETTINGS)


def test_s3_console_labels_are_the_seed_words() -> None:
    assert LABELS == {
        "all": "All users",
        "enterprise": "Enterprise users",
        "individual": "Individual users",
        "specified": "Specified users",
        "associated": "Associated product buyers",
        "same_as_product": "Same as product",
    }


# --- R1 ------------------------------------------------------------------------------------


def test_r1_new_product_sells_to_all() -> None:
    assert DEFAULT_PRODUCT_TARGET is Target.ALL


def test_r1_new_specification_is_same_as_product() -> None:
    assert DEFAULT_SETTING is Setting.SAME_AS_PRODUCT


def test_r1_defaults_are_a_valid_r2_pair() -> None:
    check_setting(DEFAULT_PRODUCT_TARGET, DEFAULT_SETTING)
    assert effective_target(DEFAULT_PRODUCT_TARGET, DEFAULT_SETTING) is Target.ALL


# --- R2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("product_target", "setting", "expected"), R2_TABLE)
def test_r2_check_setting(product_target: str, setting: str, expected: str) -> None:
    target, value = Target(product_target), Setting(setting)
    if expected == OK:
        check_setting(target, value)  # must not raise
        return
    with pytest.raises(OfferscopeError) as caught:
        check_setting(target, value)
    error = caught.value
    assert error.code == expected
    assert error.message
    if expected == NOT_ALLOWED:
        assert type(error) is Invalid
        row = R2_ROWS[product_target]
        assert row is not None
        assert set(error.details["allowed_settings"]) == row
        assert len(error.details["allowed_settings"]) == len(row)
    else:
        assert type(error) is Conflict
        assert error.details["allowed_settings"] == ["same_as_product"]


@pytest.mark.parametrize(("product_target", "setting", "expected"), R2_TABLE)
def test_r2_allowed_settings_agrees_with_the_table(
    product_target: str, setting: str, expected: str
) -> None:
    offered = {value.value for value in allowed_settings(Target(product_target))}
    if expected == OK:
        assert setting in offered
    elif expected == NOT_ALLOWED:
        assert setting not in offered
    else:
        # Non-editable: the only value shown is "same as product".
        assert offered == {"same_as_product"}


@pytest.mark.parametrize("product_target", PRODUCT_TARGETS)
def test_r2_allowed_settings_rows(product_target: str) -> None:
    offered = allowed_settings(Target(product_target))
    assert all(isinstance(value, Setting) for value in offered)
    assert len(set(offered)) == len(offered)
    row = R2_ROWS[product_target]
    assert {value.value for value in offered} == (row if row is not None else {"same_as_product"})


@pytest.mark.parametrize(
    ("product_target", "editable"),
    [
        ("all", True),
        ("enterprise", True),
        ("individual", True),
        ("specified", False),
        ("associated", False),
    ],
)
def test_r2_is_editable(product_target: str, editable: bool) -> None:
    assert is_editable(Target(product_target)) is editable


@pytest.mark.parametrize("product_target", PRODUCT_TARGETS)
def test_r2_effective_target_of_same_as_product_is_the_product_target(
    product_target: str,
) -> None:
    assert effective_target(Target(product_target), Setting.SAME_AS_PRODUCT) is Target(
        product_target
    )


@pytest.mark.parametrize(
    ("product_target", "setting"),
    [(t, s) for t, s, expected in R2_TABLE if expected == OK and s != "same_as_product"],
)
def test_r2_effective_target_of_an_explicit_setting_is_that_setting(
    product_target: str, setting: str
) -> None:
    assert effective_target(Target(product_target), Setting(setting)) is Target(setting)


@pytest.mark.parametrize("setting", SETTINGS)
def test_r2_setting_as_target(setting: str) -> None:
    expected = None if setting == "same_as_product" else Target(setting)
    assert Setting(setting).as_target() is expected


# --- R4 ------------------------------------------------------------------------------------


def _specs(*settings: str) -> list[SpecificationSetting]:
    return [SpecificationSetting(f"spec-{i}", Setting(value)) for i, value in enumerate(settings)]


@pytest.mark.parametrize(("new_target", "setting", "expected"), R2_TABLE)
def test_r4_a_specification_conflicts_iff_its_setting_leaves_the_new_row(
    new_target: str, setting: str, expected: str
) -> None:
    # Under a non-editable row only same_as_product survives; elsewhere exactly the OK cells.
    survives = expected == OK or (expected == NON_EDITABLE and setting == "same_as_product")
    found = conflicting_specifications(Target(new_target), _specs(setting))
    assert found == ([] if survives else ["spec-0"])


@pytest.mark.parametrize("new_target", ["specified", "associated"])
def test_r4_switching_to_specified_or_associated_makes_every_explicit_setting_conflict(
    new_target: str,
) -> None:
    specs = _specs(*SETTINGS)  # spec-0 is same_as_product, spec-1..5 the explicit settings
    assert conflicting_specifications(Target(new_target), specs) == [
        "spec-1",
        "spec-2",
        "spec-3",
        "spec-4",
        "spec-5",
    ]


def test_r4_conflicting_specifications_keeps_input_order() -> None:
    specs = [
        SpecificationSetting("z", Setting.ALL),
        SpecificationSetting("a", Setting.SAME_AS_PRODUCT),
        SpecificationSetting("m", Setting.INDIVIDUAL),
        SpecificationSetting("b", Setting.ENTERPRISE),
    ]
    assert conflicting_specifications(Target.ENTERPRISE, specs) == ["z", "m"]


def test_r4_change_without_reset_raises_conflict_listing_the_ids() -> None:
    specs = _specs("same_as_product", "all", "enterprise", "individual", "specified")
    with pytest.raises(Conflict) as caught:
        check_product_target_change(Target.INDIVIDUAL, specs, reset_conflicting=False)
    assert caught.value.code == "conflicting_specifications"
    assert caught.value.details["conflicting_specifications"] == ["spec-1", "spec-2"]
    assert "reset_conflicting_specifications" in caught.value.message


def test_r4_change_with_reset_returns_the_ids_to_send_back() -> None:
    specs = _specs("same_as_product", "all", "enterprise", "individual", "specified")
    assert check_product_target_change(Target.INDIVIDUAL, specs, reset_conflicting=True) == [
        "spec-1",
        "spec-2",
    ]


@pytest.mark.parametrize("reset", [False, True])
def test_r4_change_without_conflicts_passes_and_resets_nothing(reset: bool) -> None:
    specs = _specs("same_as_product", "enterprise", "specified", "associated")
    assert check_product_target_change(Target.ENTERPRISE, specs, reset_conflicting=reset) == []


@pytest.mark.parametrize("new_target", ["specified", "associated"])
def test_r4_switch_to_non_editable_target_conflicts_on_every_explicit_setting(
    new_target: str,
) -> None:
    specs = _specs("associated", "same_as_product", "specified")
    with pytest.raises(Conflict) as caught:
        check_product_target_change(Target(new_target), specs, reset_conflicting=False)
    assert caught.value.code == "conflicting_specifications"
    assert caught.value.details["conflicting_specifications"] == ["spec-0", "spec-2"]
    assert check_product_target_change(Target(new_target), specs, reset_conflicting=True) == [
        "spec-0",
        "spec-2",
    ]


def test_r4_accepts_a_one_shot_iterable() -> None:
    def generate() -> Iterator[SpecificationSetting]:
        yield SpecificationSetting("s1", Setting.ALL)
        yield SpecificationSetting("s2", Setting.SAME_AS_PRODUCT)

    assert check_product_target_change(Target.SPECIFIED, generate(), reset_conflicting=True) == [
        "s1"
    ]
    with pytest.raises(Conflict) as caught:
        check_product_target_change(Target.SPECIFIED, generate(), reset_conflicting=False)
    assert caught.value.details["conflicting_specifications"] == ["s1"]


def test_r4_a_product_with_no_specifications_never_conflicts() -> None:
    for target in Target:
        assert check_product_target_change(target, [], reset_conflicting=False) == []


def test_r2_a_refused_setting_names_the_allowed_ones_in_the_consoles_words() -> None:
    """The sentence is read on the console's pages too: labels, not API values (the values
    are in `allowed_settings`)."""
    with pytest.raises(Invalid) as refused:
        check_setting(Target.ENTERPRISE, Setting.INDIVIDUAL)
    assert refused.value.message.endswith(
        "Allowed: Same as product, Enterprise users, Specified users, Associated product buyers."
    )
    assert refused.value.details["allowed_settings"] == [
        "same_as_product",
        "enterprise",
        "specified",
        "associated",
    ]
