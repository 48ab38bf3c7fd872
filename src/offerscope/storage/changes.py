"""The change vocabulary between processes: what a committed write tells every decision index.

Write use cases record these typed, frozen records with `uow.record_change(...)`; the change
log (`storage.changelog`) stores them with the commit's revision, encoded here and nowhere
else; each process's index decodes and applies them in revision order. `Change` is a closed
union: code that handles changes matches on it and ends with `assert_never`, so mypy names
every place a new kind must reach.

Values are absolute (a target, a type) or sets (list and link edits), so replaying one is
harmless, except `Purchase`, which counts and is applied exactly once per revision. Bulk edits
name what to reload rather than list a million keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import MISSING, Field, asdict, dataclass, fields
from typing import Any, Literal, assert_never

from offerscope.domain.windows import Window

Owner = Literal["product", "specification"]


@dataclass(frozen=True, slots=True)
class AccountSet:
    """An account registered, or its type changed."""

    pk: int
    account_id: str
    account_type: str


@dataclass(frozen=True, slots=True)
class AccountsReloaded:
    """Accounts with a key in `first_pk .. last_pk` were registered or changed in bulk."""

    first_pk: int
    last_pk: int


@dataclass(frozen=True, slots=True)
class SellerSet:
    pk: int
    name: str


@dataclass(frozen=True, slots=True)
class ProductSet:
    """A product created, or its target changed; `list_pk` is its specified-user list."""

    pk: int
    product_id: str
    seller_pk: int
    name: str
    target: str
    list_pk: int


@dataclass(frozen=True, slots=True)
class SpecificationSet:
    """A specification created, or its setting changed; `list_pk` is its own list."""

    pk: int
    specification_id: str
    product_pk: int
    name: str
    setting: str
    list_pk: int


@dataclass(frozen=True, slots=True)
class ListEdited:
    """Accounts added to (`present`) or removed from a specified-user list; added ones count
    only within the window, in epoch seconds (R16; None: open on that side)."""

    list_pk: int
    account_pks: tuple[int, ...]
    present: bool
    valid_from: float | None = None
    valid_until: float | None = None


def list_edited(list_pk: int, account_pks: Sequence[int], window: Window) -> ListEdited:
    """Accounts put on a list, counting within `window` (R16)."""
    start, end = window.seconds()
    return ListEdited(
        list_pk,
        tuple(account_pks),
        True,
        valid_from=None if window.valid_from is None else start,
        valid_until=None if window.valid_until is None else end,
    )


@dataclass(frozen=True, slots=True)
class ListReloaded:
    """A list changed in bulk (an import): read it again."""

    list_pk: int


@dataclass(frozen=True, slots=True)
class GroupAttached:
    """R17: a customer group put on (`present`) or taken off a specified-user list; both are
    named by their lists (a group's members are the entries of its own list)."""

    list_pk: int
    group_list_pk: int
    present: bool


@dataclass(frozen=True, slots=True)
class LinkEdited:
    """An association added (`present`) or removed (R7, R8)."""

    owner: Owner
    owner_pk: int
    other_pk: int
    present: bool


@dataclass(frozen=True, slots=True)
class PurchaseCounted:
    """R10: a paid order (+1) or its refund (-1)."""

    account_pk: int
    specification_pk: int
    product_pk: int
    delta: int


@dataclass(frozen=True, slots=True)
class PurchasesSet:
    """R10 as of this revision: every counted purchase of one product or specification, as
    account keys and their counts. Recorded when one is put on an association list, since
    orders of what nobody associates leave no change (`services.orders`) where the store
    serialises writers."""

    owner: Owner
    pk: int
    account_pks: tuple[int, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A token issued: its digest and whom it speaks for (authentication from memory)."""

    token_hash: str
    role: str
    seller_pk: int | None
    seller_id: str | None
    account_pk: int | None
    account_id: str | None


@dataclass(frozen=True, slots=True)
class TokenRevoked:
    token_hash: str


@dataclass(frozen=True, slots=True)
class WindowsPassed:
    """R18: window boundaries up to `until_ms` (epoch milliseconds) were published to the
    change feed. Indexes need nothing from it (R16 decides by the clock); it gives the
    publication its revision."""

    until_ms: int


@dataclass(frozen=True, slots=True)
class Rebuild:
    """Anything else (data loaded behind the use cases' back): build the index anew."""


Change = (
    AccountSet
    | AccountsReloaded
    | SellerSet
    | ProductSet
    | SpecificationSet
    | ListEdited
    | ListReloaded
    | GroupAttached
    | LinkEdited
    | PurchaseCounted
    | PurchasesSet
    | TokenSet
    | TokenRevoked
    | WindowsPassed
    | Rebuild
)

_KINDS: dict[str, type[Change]] = {
    "account": AccountSet,
    "accounts_reloaded": AccountsReloaded,
    "seller": SellerSet,
    "product": ProductSet,
    "specification": SpecificationSet,
    "list": ListEdited,
    "list_reloaded": ListReloaded,
    "group_attached": GroupAttached,
    "link": LinkEdited,
    "purchase": PurchaseCounted,
    "purchases": PurchasesSet,
    "token": TokenSet,
    "token_revoked": TokenRevoked,
    "windows_passed": WindowsPassed,
    "rebuild": Rebuild,
}
_TAGS: dict[type[Change], str] = {kind: tag for tag, kind in _KINDS.items()}


def needs_database(change: Change) -> bool:
    """Whether applying `change` reads the database (a bulk reload or a rebuild)."""
    match change:
        case AccountsReloaded() | ListReloaded() | Rebuild():
            return True
        case (
            AccountSet()
            | SellerSet()
            | ProductSet()
            | SpecificationSet()
            | ListEdited()
            | GroupAttached()
            | LinkEdited()
            | PurchaseCounted()
            | PurchasesSet()
            | TokenSet()
            | TokenRevoked()
            | WindowsPassed()
        ):
            return False
        case _:
            assert_never(change)


def _optional(found: Field[Any]) -> bool:
    return found.default is not MISSING


def encode(changes: Sequence[Change]) -> str:
    """One revision's changes as the change log stores them (JSON, one object a change)."""
    return json.dumps([{"kind": _TAGS[type(change)], **asdict(change)} for change in changes])


def decode(payload: str) -> list[Change]:
    """The changes of one revision, as `encode` stored them."""
    return [_decoded(item) for item in json.loads(payload)]


def _decoded(item: dict[str, Any]) -> Change:
    kind = _KINDS[item.pop("kind")]
    # A field added later with a default may be missing from what an older release wrote.
    values = {f.name: item[f.name] for f in fields(kind) if f.name in item or not _optional(f)}
    for sequence in ("account_pks", "counts"):
        if sequence in values:
            values[sequence] = tuple(values[sequence])
    return kind(**values)
