"""Specified-user lists and associations: SPEC.md R5, R6, R7 and R8.

These functions judge a requested change against the facts the caller has loaded; they never
load anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offerscope.domain.errors import Conflict, Invalid
from offerscope.domain.targets import LABELS, AccountType, Setting, Target
from offerscope.domain.windows import ALWAYS, EntryStatus, Window, moment_text


@dataclass(frozen=True, slots=True)
class RegisteredAccount:
    account_id: str
    account_name: str
    account_type: AccountType


def list_is_active(owner_setting: Target | Setting) -> bool:
    """R5: a list counts, and takes new users, only while its owner's setting is `specified`;
    otherwise it is kept, inactive."""
    return owner_setting.value == Target.SPECIFIED.value


def why_not_counted(
    owner_setting: Target | Setting,
    product_target: Target,
    account_type: AccountType,
    *,
    of_specification: bool,
    window: Window = ALWAYS,
    now: datetime | None = None,
) -> str | None:
    """Why an entry of a list does not count at `now` (R5 inactive, R6 type, R16 window), or
    None if it does."""
    if not list_is_active(owner_setting):
        return (
            "The list is kept but does not count: the target customers are "
            f"{LABELS[owner_setting.value].lower()}."
        )
    typed = product_target in (Target.ENTERPRISE, Target.INDIVIDUAL)
    if of_specification and typed and account_type.value != product_target.value:
        return (
            f"This is an {account_type.value} account, and the product is sold only to "
            f"{LABELS[product_target].lower()}."
        )
    return why_window_not_counted(window, now)


def why_window_not_counted(window: Window, now: datetime | None) -> str | None:
    """R16: why an entry does not count at `now` by its window alone, or None."""
    status = window.status(now) if now is not None else EntryStatus.ACTIVE
    if status is EntryStatus.SCHEDULED:
        assert window.valid_from is not None
        return f"This entry counts from {moment_text(window.valid_from)}."
    if status is EntryStatus.EXPIRED:
        assert window.valid_until is not None
        return f"This entry stopped counting at {moment_text(window.valid_until)}."
    return None


def check_list_open(owner_setting: Target | Setting) -> None:
    """R5: a list takes new users only while its owner's own setting is `specified`."""
    if not list_is_active(owner_setting):
        raise Conflict(
            "add_user_not_available",
            "Users can be added only while the target customers are set to specified users; "
            f"they are now {LABELS[owner_setting.value].lower()}.",
        )


def match_account(account_name: str, by_id: RegisteredAccount | None) -> RegisteredAccount:
    """R5: the ID and the name entered must belong to one and the same registered account."""
    if by_id is None:
        raise Invalid(
            "account_not_found",
            "No customer account has this account ID. Ask the customer to copy it from "
            "My Credentials.",
            field="account_id",
        )
    if not names_the_account(account_name, by_id.account_name):
        raise Invalid(
            "account_mismatch",
            "This account name does not belong to the account with this ID. Ask the customer "
            "to copy both from My Credentials.",
            field="account_name",
        )
    return by_id


def names_the_account(account_name: str, registered_name: str) -> bool:
    """R5: the name entered is the account's registered name, exactly."""
    return account_name == registered_name


def required_account_type(product_target: Target | None) -> str | None:
    """R6: the account type (its value) a specification's list of a product with this target
    takes, or None where any type fits (and for a product's own list: `None`)."""
    return product_target.value if product_target in _TYPED_TARGETS else None


_TYPED_TARGETS = (Target.ENTERPRISE, Target.INDIVIDUAL)


def type_fits(required_type: str | None, account_type: str) -> bool:
    """R6: an account of `account_type` (its value) fits a list requiring `required_type`."""
    return required_type is None or account_type == required_type


def check_type_fit(product_target: Target, account: RegisteredAccount) -> None:
    """R6: a specification of an enterprise (individual) product lists only such accounts."""
    if not type_fits(required_account_type(product_target), account.account_type.value):
        raise Invalid(
            "account_type_not_allowed",
            f"This product is sold only to {LABELS[product_target].lower()}, and this "
            f"account is an {account.account_type.value} account.",
            field="account_id",
        )


def associations_are_active(owner_setting: Target | Setting) -> bool:
    """R7, R8: associations count, and take additions, only while the setting is `associated`."""
    return owner_setting.value == Target.ASSOCIATED.value


def check_association_open(owner_setting: Target | Setting) -> None:
    """R7, R8: associations can be added only while the owner's setting is `associated`."""
    if not associations_are_active(owner_setting):
        raise Conflict(
            "association_not_available",
            "Associations can be added only while the target customers are set to "
            f"associated product buyers; they are now {LABELS[owner_setting.value].lower()}.",
        )


def check_association(owner_id: str, candidate_id: str, candidate_is_sibling: bool) -> None:
    """R7, R8: only another product of the same seller (specification of the same product).

    The same message whatever the cause, so that no seller learns of another's products.
    """
    if candidate_id == owner_id or not candidate_is_sibling:
        raise Invalid(
            "association_not_allowed",
            f"{candidate_id!r} cannot be associated: only other products of your own (or other "
            "specifications of the same product) can be.",
            id=candidate_id,
        )
