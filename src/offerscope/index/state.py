"""The decision index's data, in compact form, and how each change edits it.

Integer surrogate keys (the tables' `pk`s) throughout. A specified-user list is a roaring
bitmap of account keys (a few bytes an entry, one C call a membership test); account types
are two flag arrays indexed by account key; purchases are counts per (product, account) and
(specification, account), so a refund takes one back. Each specification holds its compiled
decision function (`domain.decision.compile_offer`); the sets and arrays it tests are edited
in place, so only a change of target, setting or association compiles anything again.

R16: a list's bitmap holds its entries that count at `as_of`: those without window, and the
windowed ones (kept beside it as epoch seconds per account) whose window holds then. The
moments at which some window opens or closes wait in a heap; before answering, the index
brings the bitmaps to the present when the clock has passed the next of them (`advance`), so
a window opens and closes at its very instant on every process, with nothing written then,
while a check stays one bitmap test.
"""

from __future__ import annotations

import bisect
import heapq
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from typing import assert_never

from pyroaring import BitMap

from offerscope.domain.decision import (
    Check,
    LapseTest,
    Members,
    Offer,
    any_of,
    compile_offer,
)
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Lapse, lapse_among, moment_of
from offerscope.storage.changes import (
    AccountSet,
    AccountsReloaded,
    Change,
    GroupAttached,
    LinkEdited,
    ListEdited,
    ListReloaded,
    Owner,
    ProductSet,
    PurchaseCounted,
    PurchasesSet,
    Rebuild,
    SellerSet,
    SpecificationSet,
    TokenRevoked,
    TokenSet,
    WindowsPassed,
)
from offerscope.storage.tokens import TokenHolder


@dataclass(slots=True)
class ProductEntry:
    pk: int
    product_id: str
    seller_pk: int
    name: str
    target: Target
    list_pk: int
    specifications: list[int] = field(default_factory=list)  # pks, ascending
    associated: set[int] = field(default_factory=set)


@dataclass(slots=True)
class SpecificationEntry:
    pk: int
    specification_id: str
    product_pk: int
    name: str
    setting: Setting
    list_pk: int
    associated: set[int] = field(default_factory=set)


Counts = dict[int, int]  # account pk -> number of paid orders
ListOwner = tuple[Owner, int]  # ("product" | "specification", its pk)
Span = tuple[float, float]  # a window in epoch seconds, open ends as infinities
Clock = Callable[[], float]  # epoch seconds now

# A bitmap's Python object, C header and its owner's dict slot, beyond its containers.
_BITMAP_OVERHEAD = 160
# A container's own allocation beyond its values: its C struct, the key, type code and
# pointer slot in the bitmap's arrays, and the allocator's header (measured: ~70 bytes).
_CONTAINER_OVERHEAD = 64


class IndexState:
    """Everything one index knows. Mutated only under the index's lock."""

    def __init__(self, revision: int = 0, clock: Clock = time.time) -> None:
        self.revision = revision
        self.clock = clock
        self.accounts: dict[str, int] = {}
        self.account_ids: list[str | None] = []  # at a pk, its account ID (an impact's samples)
        self.sorted_account_ids: list[str] | None = None  # made when an impact needs it
        # The accounts as sets: what a decision asks (R3's type targets) and an impact's set
        # algebra (R14) counts.
        self.everyone = BitMap()
        self.of_type: dict[AccountType, BitMap] = {kind: BitMap() for kind in AccountType}
        self.sellers: dict[int, str] = {}
        self.products: dict[int, ProductEntry] = {}
        self.product_order: list[int] = []
        self.product_pks: dict[str, int] = {}
        self.specifications: dict[int, SpecificationEntry] = {}
        self.specification_pks: dict[str, int] = {}
        self.lists: dict[int, BitMap] = {}  # list pk -> account pks counting at `as_of`
        self.windowed: dict[int, dict[int, Span]] = {}  # list pk -> account pk -> its window
        self.windowed_count = 0
        # R17: the customer groups (by their own lists) on each specified-user list, the
        # lists holding each group, and whose list each specified-user list is.
        self.list_groups: dict[int, set[int]] = {}
        self.holders: dict[int, set[int]] = {}
        self.list_owners: dict[int, ListOwner] = {}
        # R16: (moment, list pk, account pk) at which an entry's window opens or closes.
        self.boundaries: list[tuple[float, int, int]] = []
        self.as_of = clock()  # the moment the bitmaps are right for
        self.next_boundary = math.inf
        self.product_buyers: dict[int, Counts] = {}
        self.specification_buyers: dict[int, Counts] = {}
        # Who has a counted purchase (R10) of each product and specification, as sets.
        self.product_buyer_sets: dict[int, BitMap] = {}
        self.specification_buyer_sets: dict[int, BitMap] = {}
        self.checks: dict[str, Check[int]] = {}
        # Token digest -> whom it speaks for: requests authenticate from memory, kept as fresh
        # as decisions by the same revisions.
        self.tokens: dict[str, TokenHolder] = {}
        self.unknown: Check[int] = compile_offer(None, _Audiences(self))
        # Specifications whose check a change made stale: compiled once the whole revision is
        # in, so that no check ever sees half of one (a target change and its resets).
        self.stale: set[int] = set()

    # --- reading -------------------------------------------------------------------------

    def offer(self, spec: SpecificationEntry) -> Offer:
        product = self.products[spec.product_pk]
        return Offer(
            product_id=product.product_id,
            specification_id=spec.specification_id,
            product_target=product.target,
            setting=spec.setting,
            associated_products=frozenset(
                self.products[pk].product_id for pk in product.associated if pk in self.products
            ),
            associated_specifications=frozenset(
                self.specifications[pk].specification_id
                for pk in spec.associated
                if pk in self.specifications
            ),
        )

    def list_entries(self) -> int:
        windowed = sum(len(w) for w in self.windowed.values())
        return sum(len(m) for m in self.lists.values()) + windowed

    def list_bytes(self) -> int:
        """Approximate bytes the lists take in memory: each bitmap's containers as roaring
        counts them, their allocations, and each bitmap's own overhead. (`sys.getsizeof` of
        a pyroaring bitmap is its serialized size, which leaves the allocations out: a list
        of a million consecutive keys serializes to 230 bytes but takes 1.3 KB of heap.)"""
        bitmaps = sum(bitmap_bytes(m) for m in self.lists.values())
        windows = sum(_span_bytes(w) for w in self.windowed.values())
        heap = sys.getsizeof(self.boundaries) + len(self.boundaries) * _BOUNDARY_BYTES
        return bitmaps + windows + heap

    def list_members(self, list_pk: int) -> BitMap:
        """A list's accounts whose entry counts at `as_of` (see `advance`)."""
        return self.lists.get(list_pk) or BitMap()

    def groups_on(self, list_pk: int) -> frozenset[int]:
        """R17: the lists of the customer groups on a specified-user list."""
        return frozenset(self.list_groups.get(list_pk, ()))

    def specifications_reading(self, list_pk: int) -> list[int]:
        """The specifications whose decision reads a specified-user list (or, for a group's
        list, any list holding the group)."""
        found: list[int] = []
        for holder in (list_pk, *self.holders.get(list_pk, ())):
            owner = self.list_owners.get(holder)
            if owner is None:
                continue
            kind, pk = owner
            if kind == "product":
                found.extend(self.products[pk].specifications)
            else:
                found.append(pk)
        return found

    # --- R16: the bitmaps at the present moment ---------------------------------------------

    def current_at(self, now: float) -> bool:
        """Whether the bitmaps are right for `now`: no window opened or closed in between."""
        return self.as_of <= now < self.next_boundary

    def advance(self, now: float) -> None:
        """Bring every list to `now`: entries whose window opened or closed since `as_of` join
        or leave their bitmap. A clock that went back re-judges every windowed entry."""
        if now < self.as_of:
            self._rejudge_all(now)
            return
        boundaries, windowed = self.boundaries, self.windowed
        while boundaries and boundaries[0][0] <= now:
            _moment, list_pk, pk = heapq.heappop(boundaries)
            span = windowed.get(list_pk, {}).get(pk)
            if span is not None:  # else removed or made permanent since: nothing to move
                self._place(list_pk, pk, span, now)
        self.as_of = now
        self.next_boundary = boundaries[0][0] if boundaries else math.inf

    def _rejudge_all(self, now: float) -> None:
        self.boundaries = []
        for list_pk, spans in self.windowed.items():
            for pk, span in spans.items():
                self._place(list_pk, pk, span, now)
        heapq.heapify(self.boundaries)
        self.as_of = now
        self.next_boundary = self.boundaries[0][0] if self.boundaries else math.inf

    def _place(self, list_pk: int, pk: int, span: Span, now: float) -> None:
        """A windowed entry in or out of its bitmap at `now`; its next moment queued."""
        start, end = span
        members = self.members(list_pk)
        if start <= now < end:
            members.add(pk)
        else:
            members.discard(pk)
        upcoming = start if now < start else end if now < end else None
        if upcoming is not None:
            heapq.heappush(self.boundaries, (upcoming, list_pk, pk))
            self.next_boundary = min(self.next_boundary, upcoming)

    # --- compiling -----------------------------------------------------------------------

    def compile_stale(self) -> None:
        """Compile the checks the last changes made stale; each replaces its old one whole."""
        audiences = _Audiences(self)
        for spec_pk in sorted(self.stale):
            spec = self.specifications[spec_pk]
            self.checks[spec.specification_id] = compile_offer(
                self.offer(spec), audiences, audiences
            )
        self.stale.clear()

    def compile_all(self) -> None:
        audiences = _Audiences(self)
        self.checks = {
            spec.specification_id: compile_offer(self.offer(spec), audiences, audiences)
            for spec in self.specifications.values()
        }
        self.stale.clear()

    # --- editing -------------------------------------------------------------------------

    def set_account(self, pk: int, account_id: str, account_type: str) -> None:
        if pk >= len(self.account_ids):
            grow = max(pk + 1, 2 * len(self.account_ids)) - len(self.account_ids)
            self.account_ids.extend([None] * grow)
        if account_id not in self.accounts:
            self.sorted_account_ids = None
        self.accounts[account_id] = pk
        self.account_ids[pk] = account_id
        self.everyone.add(pk)
        for kind, members in self.of_type.items():
            if kind.value == account_type:
                members.add(pk)
            else:
                members.discard(pk)

    def set_accounts(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """`set_account` for each (pk, account_id, account_type), in bulk: the columns are
        split and every table and set edited from them in C (an accounts import: a million
        rows in a fraction of a second)."""
        if not rows:
            return
        pks, account_ids, types = zip(*rows, strict=True)
        last = max(pks)
        if last >= len(self.account_ids):
            grow = max(last + 1, 2 * len(self.account_ids)) - len(self.account_ids)
            self.account_ids.extend([None] * grow)
        known = len(self.accounts)
        self.accounts.update(zip(account_ids, pks, strict=True))
        if len(self.accounts) != known:
            self.sorted_account_ids = None
        everyone = BitMap(pks)
        self.everyone.update(everyone)
        for kind, members in self.of_type.items():
            flags = bytes(map({kind.value: 1}.get, types, repeat(0)))
            of_kind = BitMap(compress(pks, flags))
            members.update(of_kind)
            members.difference_update(everyone - of_kind)
        _put(self.account_ids, pks, account_ids)

    def set_product(
        self, pk: int, product_id: str, seller_pk: int, name: str, target: str, list_pk: int
    ) -> None:
        entry = self.products.get(pk)
        if entry is None:
            self.products[pk] = ProductEntry(
                pk, product_id, seller_pk, name, Target(target), list_pk
            )
            self.product_pks[product_id] = pk
            self.list_owners[list_pk] = ("product", pk)
            bisect.insort(self.product_order, pk)
        else:
            entry.target = Target(target)
            self.stale.update(entry.specifications)

    def set_specification(
        self, pk: int, spec_id: str, product_pk: int, name: str, setting: str, list_pk: int
    ) -> None:
        entry = self.specifications.get(pk)
        if entry is None:
            self.specifications[pk] = SpecificationEntry(
                pk, spec_id, product_pk, name, Setting(setting), list_pk
            )
            self.specification_pks[spec_id] = pk
            self.list_owners[list_pk] = ("specification", pk)
            bisect.insort(self.products[product_pk].specifications, pk)
        else:
            entry.setting = Setting(setting)
        self.stale.add(pk)

    def members(self, list_pk: int) -> BitMap:
        """A list's accounts, edited in place: compiled checks hold the bitmap itself."""
        found = self.lists.get(list_pk)
        if found is None:
            found = self.lists[list_pk] = BitMap()
        return found

    def windows(self, list_pk: int) -> dict[int, Span]:
        """A list's windowed entries, edited in place: compiled refusals hold the dict itself."""
        found = self.windowed.get(list_pk)
        if found is None:
            found = self.windowed[list_pk] = {}
        return found

    def edit_list(
        self, list_pk: int, account_pks: Iterable[int], present: bool, span: Span | None
    ) -> None:
        """Add (`present`) accounts, each with the window `span` (None: always), or remove them."""
        members, windows = self.members(list_pk), self.windows(list_pk)
        before = len(windows)
        for pk in account_pks:
            if present and span is None:
                members.add(pk)
                windows.pop(pk, None)
            elif present:
                assert span is not None
                windows[pk] = span
                self._place(list_pk, pk, span, self.as_of)
            else:
                members.discard(pk)
                windows.pop(pk, None)
        self.windowed_count += len(windows) - before
        if windows and not before:
            self._first_windows(list_pk)

    def _first_windows(self, list_pk: int) -> None:
        """The list's refusals (and those of every list holding it, R17) may now have to name
        a lapsed window (R16): their checks, compiled without a look at windows, are again."""
        self.stale.update(self.specifications_reading(list_pk))

    def fill_list(self, list_pk: int, always: Iterable[int], spans: dict[int, Span]) -> None:
        """Replace a list's entries in place: compiled checks hold the bitmap and the dict."""
        members, windows = self.members(list_pk), self.windows(list_pk)
        self.windowed_count += len(spans) - len(windows)
        if spans and not windows:
            self._first_windows(list_pk)
        members.clear()
        members.update(always)
        windows.clear()
        windows.update(spans)
        for pk, span in spans.items():
            self._place(list_pk, pk, span, self.as_of)

    def attach_group(self, list_pk: int, group_list_pk: int, present: bool) -> None:
        """R17: a group's list counted on a specified-user list (`present`), or no longer. The
        checks reading the list hold its bitmaps: they are compiled again."""
        groups = self.list_groups.setdefault(list_pk, set())
        holders = self.holders.setdefault(group_list_pk, set())
        if present:
            groups.add(group_list_pk)
            holders.add(list_pk)
        else:
            groups.discard(group_list_pk)
            holders.discard(list_pk)
        self.stale.update(self.specifications_reading(list_pk))

    def set_link(self, owner: Owner, owner_pk: int, other_pk: int, present: bool) -> None:
        if owner == "product":
            links = self.products[owner_pk].associated
        else:
            links = self.specifications[owner_pk].associated
        if present:
            links.add(other_pk)
        else:
            links.discard(other_pk)
        if owner == "product":
            self.stale.update(self.products[owner_pk].specifications)
        else:
            self.stale.add(owner_pk)

    def add_purchases(self, account_pk: int, spec_pk: int, product_pk: int, delta: int) -> None:
        for buyers, buyer_set in (
            (
                _counts(self.specification_buyers, spec_pk),
                _set(self.specification_buyer_sets, spec_pk),
            ),
            (_counts(self.product_buyers, product_pk), _set(self.product_buyer_sets, product_pk)),
        ):
            count = buyers.get(account_pk, 0) + delta
            if count > 0:
                buyers[account_pk] = count
                buyer_set.add(account_pk)
            else:
                buyers.pop(account_pk, None)
                buyer_set.discard(account_pk)

    def set_purchases(
        self, owner: Owner, pk: int, account_pks: Sequence[int], counts: Sequence[int]
    ) -> None:
        """Replace one product's or specification's purchases, in place: compiled checks
        hold the count table itself."""
        if owner == "product":
            buyers, buyer_set = _counts(self.product_buyers, pk), _set(self.product_buyer_sets, pk)
        else:
            buyers = _counts(self.specification_buyers, pk)
            buyer_set = _set(self.specification_buyer_sets, pk)
        buyers.clear()
        buyers.update((a, n) for a, n in zip(account_pks, counts, strict=True) if n > 0)
        buyer_set.clear()
        buyer_set.update(buyers)

    def apply(self, change: Change) -> None:
        """One change that needs nothing from the database (`changes.needs_database`)."""
        match change:
            case AccountSet(pk, account_id, account_type):
                self.set_account(pk, account_id, account_type)
            case SellerSet(pk, name):
                self.sellers[pk] = name
            case ProductSet(pk, product_id, seller_pk, name, target, list_pk):
                self.set_product(pk, product_id, seller_pk, name, target, list_pk)
            case SpecificationSet(pk, specification_id, product_pk, name, setting, list_pk):
                self.set_specification(pk, specification_id, product_pk, name, setting, list_pk)
            case ListEdited(list_pk, account_pks, present, valid_from, valid_until):
                self.edit_list(list_pk, account_pks, present, span_of(valid_from, valid_until))
            case GroupAttached(list_pk, group_list_pk, present):
                self.attach_group(list_pk, group_list_pk, present)
            case LinkEdited(owner, owner_pk, other_pk, present):
                self.set_link(owner, owner_pk, other_pk, present)
            case PurchaseCounted(account_pk, specification_pk, product_pk, delta):
                self.add_purchases(account_pk, specification_pk, product_pk, delta)
            case PurchasesSet(owner, pk, account_pks, counts):
                self.set_purchases(owner, pk, account_pks, counts)
            case TokenSet(token_hash, role, seller_pk, seller_id, account_pk, account_id):
                self.tokens[token_hash] = (role, seller_pk, seller_id, account_pk, account_id)
            case TokenRevoked(token_hash):
                self.tokens.pop(token_hash, None)
            case WindowsPassed():
                pass  # R16: windows are decided by the clock; this only publishes (R18)
            case AccountsReloaded() | ListReloaded() | Rebuild():
                raise ValueError(f"{change!r} reads the database: apply it with a session")
            case _:
                assert_never(change)


def bitmap_bytes(bitmap: BitMap) -> int:
    """The memory one roaring bitmap holds: its containers' values, each container's own
    allocation, and the bitmap's Python object (native memory included)."""
    stats = bitmap.get_statistics()
    values = (
        stats["n_bytes_array_containers"]
        + stats["n_bytes_run_containers"]
        + stats["n_bytes_bitset_containers"]
    )
    return values + stats["n_containers"] * _CONTAINER_OVERHEAD + _BITMAP_OVERHEAD


def _put(table: list[str | None], pks: Sequence[int], values: Sequence[str]) -> None:
    """table[pk] = value for each pair; one slice assignment where the pks are consecutive
    (as an import's are)."""
    if pks[-1] - pks[0] == len(pks) - 1 and list(pks) == list(range(pks[0], pks[-1] + 1)):
        table[pks[0] : pks[-1] + 1] = values
        return
    for pk, value in zip(pks, values, strict=True):
        table[pk] = value


def _set(table: dict[int, BitMap], pk: int) -> BitMap:
    found = table.get(pk)
    if found is None:
        found = table[pk] = BitMap()
    return found


def _counts(table: dict[int, Counts], pk: int) -> Counts:
    found = table.get(pk)
    if found is None:
        found = table[pk] = {}
    return found


_NOBODY: frozenset[int] = frozenset()  # asked with no Python call, unlike `decision.NOBODY`


class _Audiences:
    """`domain.decision.Audiences` over the index: a buyer is an account's integer key, each
    audience a container of keys asked with `in` (bitmaps and dicts kept current in place)."""

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def nobody(self) -> Members[int]:
        return _NOBODY

    def of_type(self, account_type: AccountType) -> Members[int]:
        return self._state.of_type[account_type]

    def on_product_list(self, product_id: str) -> Members[int]:
        return self.list_members(self._product_list(product_id))

    def on_specification_list(self, specification_id: str) -> Members[int]:
        return self.list_members(self._specification_list(specification_id))

    def _product_list(self, product_id: str) -> int:
        return self._state.products[self._state.product_pks[product_id]].list_pk

    def _specification_list(self, specification_id: str) -> int:
        return self._state.specifications[self._state.specification_pks[specification_id]].list_pk

    def list_members(self, list_pk: int) -> Members[int]:
        """R3 with R16: on the list by an entry that counts (the bitmap is kept at the
        present by `IndexState.advance`); R17: or a member of one of its groups, each group's
        bitmap held once, not copied into the lists that hold it."""
        members = self._state.members
        return any_of([members(pk) for pk in (list_pk, *sorted(self._state.groups_on(list_pk)))])

    # --- `domain.decision.Lapses`: why a list refuses an account with windowed entries ------

    def of_product_list(self, product_id: str) -> LapseTest[int] | None:
        return self._lapse(self._product_list(product_id))

    def of_specification_list(self, specification_id: str) -> LapseTest[int] | None:
        return self._lapse(self._specification_list(specification_id))

    def _lapse(self, list_pk: int) -> LapseTest[int] | None:
        """Why an account the list refuses has entries there, its own or its groups' (R17),
        none of which counts now (R16); None while none of them has a window (the check is
        compiled again when one gets its first: `IndexState._first_windows`)."""
        groups = sorted(self._state.groups_on(list_pk))
        every = tuple(self._state.windows(pk) for pk in (list_pk, *groups))
        if not any(every):
            return None
        clock = self._state.clock

        def lapse(pk: int) -> tuple[Lapse, datetime] | None:
            spans = [span for windows in every if (span := windows.get(pk)) is not None]
            found = lapse_among(spans, clock()) if spans else None
            return None if found is None else (found[0], moment_of(found[1]))

        return lapse

    def bought_any_product(self, product_ids: frozenset[str]) -> Members[int]:
        pks = self._state.product_pks
        return any_of([_counts(self._state.product_buyers, pks[i]) for i in product_ids])

    def bought_any_specification(self, specification_ids: frozenset[str]) -> Members[int]:
        pks = self._state.specification_pks
        return any_of(
            [_counts(self._state.specification_buyers, pks[i]) for i in specification_ids]
        )


def span_of(valid_from: float | None, valid_until: float | None) -> Span | None:
    """A change's window as the index keeps it; None for an entry that always counts."""
    if valid_from is None and valid_until is None:
        return None
    return (
        -math.inf if valid_from is None else valid_from,
        math.inf if valid_until is None else valid_until,
    )


# One queued moment: its tuple and its float (the keys are small ints or shared).
_BOUNDARY_BYTES = sys.getsizeof((0.0, 0, 0)) + sys.getsizeof(0.0)


def _span_bytes(windows: dict[int, Span]) -> int:
    """A windowed list's dict, its tuples and floats (small ints are shared)."""
    per_entry = sys.getsizeof((0.0, 0.0)) + 2 * sys.getsizeof(0.0)
    return sys.getsizeof(windows) + len(windows) * per_entry
