"""SPEC.md R5-R8 (lists and associations) and §2's identifier and name shapes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offerscope.domain.errors import Conflict, Invalid
from offerscope.domain.lists import (
    RegisteredAccount,
    check_association,
    check_association_open,
    check_list_open,
    check_type_fit,
    match_account,
)
from offerscope.domain.names import (
    check_display_name,
    normalize_account_id,
    normalize_account_name,
)
from offerscope.domain.targets import AccountType, Setting, Target

REORDERING = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ALICE = RegisteredAccount("0123456789abcdef0123456789abcdef", "alice_01", AccountType.ENTERPRISE)
BOB = RegisteredAccount("fedcba9876543210fedcba9876543210", "Bob-Two", AccountType.INDIVIDUAL)

OWNER_VALUES: list[Target | Setting] = [*Target, *Setting]


# --- R5 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("owner_setting", OWNER_VALUES, ids=lambda v: f"{type(v).__name__}.{v}")
def test_r5_list_open_only_while_specified(owner_setting: Target | Setting) -> None:
    if owner_setting.value == "specified":
        check_list_open(owner_setting)
        return
    with pytest.raises(Conflict) as caught:
        check_list_open(owner_setting)
    assert caught.value.code == "add_user_not_available"
    assert caught.value.message.strip()


def test_r5_match_account_ok() -> None:
    assert match_account(ALICE.account_name, ALICE) == ALICE


def test_r5_match_account_unknown_id_is_account_not_found() -> None:
    with pytest.raises(Invalid) as caught:
        match_account("nobody1", None)
    assert caught.value.code == "account_not_found"
    assert caught.value.details["field"] == "account_id"


def test_r5_match_account_unknown_id_with_a_known_name_is_still_account_not_found() -> None:
    # The ID is what the seller mistyped: say so, rather than blame the name.
    with pytest.raises(Invalid) as caught:
        match_account(ALICE.account_name, None)
    assert caught.value.code == "account_not_found"


@pytest.mark.parametrize("name", [BOB.account_name, "unknown_name", "Alice_x"])
def test_r5_match_account_name_of_another_or_no_account_is_a_mismatch(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        match_account(name, ALICE)
    assert caught.value.code == "account_mismatch"
    assert caught.value.details["field"] == "account_name"


def test_r5_match_account_compares_names_exactly() -> None:
    # §2: names are compared exactly (after trimming, which normalize_account_name does).
    with pytest.raises(Invalid) as caught:
        match_account(BOB.account_name.upper(), BOB)
    assert caught.value.code == "account_mismatch"


# --- R6 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product_target", "account", "fits"),
    [
        (Target.ENTERPRISE, ALICE, True),
        (Target.ENTERPRISE, BOB, False),
        (Target.INDIVIDUAL, BOB, True),
        (Target.INDIVIDUAL, ALICE, False),
        (Target.ALL, ALICE, True),
        (Target.ALL, BOB, True),
        (Target.SPECIFIED, ALICE, True),
        (Target.SPECIFIED, BOB, True),
        (Target.ASSOCIATED, ALICE, True),
        (Target.ASSOCIATED, BOB, True),
    ],
)
def test_r6_type_fit(product_target: Target, account: RegisteredAccount, fits: bool) -> None:
    if fits:
        check_type_fit(product_target, account)
        return
    with pytest.raises(Invalid) as caught:
        check_type_fit(product_target, account)
    assert caught.value.code == "account_type_not_allowed"
    assert product_target.value in caught.value.message.lower()


# --- R7 / R8 --------------------------------------------------------------------------------


@pytest.mark.parametrize("owner_setting", OWNER_VALUES, ids=lambda v: f"{type(v).__name__}.{v}")
def test_r7_r8_association_open_only_while_associated(owner_setting: Target | Setting) -> None:
    if owner_setting.value == "associated":
        check_association_open(owner_setting)
        return
    with pytest.raises(Conflict) as caught:
        check_association_open(owner_setting)
    assert caught.value.code == "association_not_available"
    assert caught.value.message.strip()


def test_r7_r8_association_of_a_sibling_is_allowed() -> None:
    check_association("p1", "p2", candidate_is_sibling=True)


def test_r7_r8_association_with_itself_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        check_association("p1", "p1", candidate_is_sibling=True)
    assert caught.value.code == "association_not_allowed"


def test_r7_r8_association_with_a_non_sibling_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        check_association("p1", "p9", candidate_is_sibling=False)
    assert caught.value.code == "association_not_allowed"


def _refusal(owner_id: str, candidate_id: str, sibling: bool) -> Invalid:
    with pytest.raises(Invalid) as caught:
        check_association(owner_id, candidate_id, candidate_is_sibling=sibling)
    return caught.value


def test_r7_r8_self_and_foreign_refusals_read_the_same() -> None:
    # Same candidate ID refused as "itself" and as "not a sibling" (another seller's, unknown).
    as_self = _refusal("p1", "p1", sibling=True)
    as_foreign = _refusal("p2", "p1", sibling=False)
    assert (as_self.code, as_self.message, as_self.details) == (
        as_foreign.code,
        as_foreign.message,
        as_foreign.details,
    )


def test_r7_r8_refusal_message_has_one_shape_whatever_the_id() -> None:
    a = _refusal("p1", "p1", sibling=True)
    b = _refusal("p1", "other-sellers-product", sibling=False)
    assert a.message.replace("p1", "<id>") == b.message.replace("other-sellers-product", "<id>")


# --- §2 names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("  0123456789abcdef0123456789abcdef\n", "0123456789abcdef0123456789abcdef"),
        ("\t" + "a" * 32 + " ", "a" * 32),
    ],
)
def test_s2_account_id_valid_and_trimmed(raw: str, expected: str) -> None:
    assert normalize_account_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a" * 31,
        "a" * 33,
        "0123456789ABCDEF0123456789abcdef",  # upper case
        "0123456789abcdeg0123456789abcdef",  # not hex
        "0123456789abcdef 123456789abcdef",  # inner space
        "0123456789abcdef-0123456789abcde",
        "\uff10" * 32,  # full-width digits
        "0123456789abcdef0123456789abcdef\x00",
    ],
)
def test_s2_account_id_invalid(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_account_id(raw)
    assert caught.value.code == "invalid_request"
    assert caught.value.details.get("field") == "account_id"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
def test_s2_every_32_lowercase_hex_id_is_accepted(account_id: str) -> None:
    assert normalize_account_id(account_id) == account_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice1", "alice1"),  # 6 characters
        ("A" + "b" * 31, "A" + "b" * 31),  # 32 characters
        ("Bob-Two_3", "Bob-Two_3"),  # case kept
        ("  alice_01\t", "alice_01"),  # trimmed
        ("x-----", "x-----"),
        ("z_____", "z_____"),
    ],
)
def test_s2_account_name_valid(raw: str, expected: str) -> None:
    assert normalize_account_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "alice",  # 5 characters
        "a" * 33,
        "1alice",  # starts with a digit
        "-alice",
        "_alice",
        "ali ce1",  # inner space
        "alice.1",
        "alicé01",  # not an ASCII letter
        "alice01\n2",
    ],
)
def test_s2_account_name_invalid(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_account_name(raw)
    assert caught.value.code == "invalid_request"
    assert caught.value.details.get("field") == "account_name"


@pytest.mark.parametrize(
    "name",
    [
        "x",
        "n" * 100,
        "é" * 100,  # 100 characters, more than 100 bytes
        "  Spaced  Name  ",  # not trimmed
        "製品 ✓ <b>&amp;</b>",
        " ",
    ],
)
def test_s2_display_name_stored_exactly(name: str) -> None:
    assert check_display_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "n" * 101,
        "line\nbreak",
        "tab\there",
        "nul\x00",
        "del\x7f",
        "c1\x85control",
        "\r",
        "line\u2028separator",
        "paragraph\u2029separator",
        "spec \u202egnp.exe",  # right-to-left override: would show as "exe.png"
        "\u202aembedded\u202c",
        "\u2067isolated\u2069",
    ],
)
def test_s2_display_name_invalid(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_display_name(name, field="product_name")
    assert caught.value.code == "invalid_request"
    assert caught.value.details.get("field") == "product_name"


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            exclude_categories=["Cc", "Cs", "Zl", "Zp"], exclude_characters=REORDERING
        ),
        min_size=1,
        max_size=100,
    )
)
def test_s2_any_name_without_control_or_reordering_characters_is_kept_as_sent(name: str) -> None:
    assert check_display_name(name) == name
