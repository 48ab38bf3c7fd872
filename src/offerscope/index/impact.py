"""R14: a change's impact, from the decision index with set algebra.

Audiences are roaring bitmaps of account keys: every account, each type, each list, each set
of buyers (`IndexState`). A specification's audience is R3's intersection of its two levels
(`domain.decision.audience_levels`, the same choice of audiences that deciding uses), here
evaluated as sets. The state a change would produce is an `Overlay` over the index: the
changes a write recorded, applied copy-on-write, so the index itself is never touched. The
impact is then the difference of each affected specification's audience before and after.

A change that moves one account (its type, one purchase) is judged for that account alone,
through the decision functions, rather than by comparing whole audiences.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import assert_never

from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.domain.decision import NOBODY, Members, Offer, any_of, audience_levels
from offerscope.domain.impact import SAMPLE, Figure, Impact, SpecificationImpact
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.index.state import IndexState, ProductEntry, SpecificationEntry, span_of
from offerscope.storage.bulk import BulkIo
from offerscope.storage.changes import (
    AccountSet,
    AccountsReloaded,
    Change,
    GroupAttached,
    LinkEdited,
    ListEdited,
    ListReloaded,
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
from offerscope.storage.lists import ENTRIES, WINDOWED, counts_at
from offerscope.storage.orders import counted_purchases, products_bought_by
from offerscope.storage.tables import AccountRow, ListEntryRow


class View:
    """What an audience is made of, read from the index as it stands, at the moment its lists
    are right for (`now`, epoch seconds: R16's windows are judged then)."""

    def __init__(self, state: IndexState) -> None:
        self.state = state
        self.now = state.as_of
        self._counted: dict[int, BitMap] = {}  # unions made, until the view changes

    def everyone(self) -> BitMap:
        return self.state.everyone

    def of_type(self, account_type: AccountType) -> BitMap:
        return self.state.of_type[account_type]

    def product(self, pk: int) -> ProductEntry | None:
        return self.state.products.get(pk)

    def specification(self, pk: int) -> SpecificationEntry | None:
        return self.state.specifications.get(pk)

    def product_pk(self, product_id: str) -> int:
        return self.state.product_pks[product_id]

    def specification_pk(self, specification_id: str) -> int:
        return self.state.specification_pks[specification_id]

    def list_members(self, list_pk: int) -> BitMap:
        return self.state.list_members(list_pk)

    def groups_on(self, list_pk: int) -> frozenset[int]:
        return self.state.groups_on(list_pk)

    def counted(self, list_pk: int) -> BitMap:
        """R3 with R17: a specified-user list's accounts and its groups' members."""
        groups = self.groups_on(list_pk)
        own = self.list_members(list_pk)
        if not groups:
            return own
        found = self._counted.get(list_pk)
        if found is None:
            found = BitMap.union(own, *(self.list_members(group) for group in groups))
            self._counted[list_pk] = found
        return found

    def counts_on(self, list_pk: int) -> Members[int]:
        """Whether one account counts on a list (its entries or its groups'), with no union."""
        return any_of([self.list_members(pk) for pk in (list_pk, *self.groups_on(list_pk))])

    def product_buyers(self, pk: int) -> BitMap:
        return self.state.product_buyer_sets.get(pk) or BitMap()

    def specification_buyers(self, pk: int) -> BitMap:
        return self.state.specification_buyer_sets.get(pk) or BitMap()

    def specifications_of(self, product_pk: int) -> list[int]:
        product = self.product(product_pk)
        return list(product.specifications) if product else []

    def offer(self, spec_pk: int) -> Offer | None:
        spec = self.specification(spec_pk)
        product = self.product(spec.product_pk) if spec else None
        if spec is None or product is None:
            return None
        return Offer(
            product_id=product.product_id,
            specification_id=spec.specification_id,
            product_target=product.target,
            setting=spec.setting,
            associated_products=frozenset(
                linked.product_id for pk in product.associated if (linked := self.product(pk))
            ),
            associated_specifications=frozenset(
                other.specification_id
                for pk in spec.associated
                if (other := self.specification(pk))
            ),
        )

    def is_new_account(self, pk: int) -> bool:
        return pk not in self.state.everyone


class _Sets:
    """`domain.decision.Audiences` as sets of account keys, over a view."""

    def __init__(self, view: View) -> None:
        self._view = view

    def nobody(self) -> BitMap:
        return BitMap()

    def of_type(self, account_type: AccountType) -> BitMap:
        return self._view.of_type(account_type)

    def on_product_list(self, product_id: str) -> BitMap:
        product = self._view.product(self._view.product_pk(product_id))
        return self._view.counted(product.list_pk) if product else BitMap()

    def on_specification_list(self, specification_id: str) -> BitMap:
        spec = self._view.specification(self._view.specification_pk(specification_id))
        return self._view.counted(spec.list_pk) if spec else BitMap()

    def bought_any_product(self, product_ids: frozenset[str]) -> BitMap:
        view = self._view
        return BitMap.union(
            BitMap(), *(view.product_buyers(view.product_pk(i)) for i in product_ids)
        )

    def bought_any_specification(self, specification_ids: frozenset[str]) -> BitMap:
        view = self._view
        return BitMap.union(
            BitMap(),
            *(view.specification_buyers(view.specification_pk(i)) for i in specification_ids),
        )


class _Member:
    """`domain.decision.Audiences` as membership tests of one account key, over a view."""

    def __init__(self, view: View) -> None:
        self._sets = _Sets(view)
        self._view = view

    def nobody(self) -> Members[int]:
        return NOBODY

    def of_type(self, account_type: AccountType) -> Members[int]:
        return self._sets.of_type(account_type)

    def on_product_list(self, product_id: str) -> Members[int]:
        product = self._view.product(self._view.product_pk(product_id))
        return self._view.counts_on(product.list_pk) if product else NOBODY

    def on_specification_list(self, specification_id: str) -> Members[int]:
        spec = self._view.specification(self._view.specification_pk(specification_id))
        return self._view.counts_on(spec.list_pk) if spec else NOBODY

    def bought_any_product(self, product_ids: frozenset[str]) -> Members[int]:
        return self._sets.bought_any_product(product_ids)

    def bought_any_specification(self, specification_ids: frozenset[str]) -> Members[int]:
        return self._sets.bought_any_specification(specification_ids)


def audience(view: View, spec_pk: int) -> BitMap:
    """The accounts that may buy a specification (R3), as a set; empty for an unknown one."""
    offer = view.offer(spec_pk)
    if offer is None:
        return BitMap()
    at_product, at_specification = audience_levels(offer, _Sets(view))
    if at_product is None and at_specification is None:
        return view.everyone()
    if at_product is None or at_specification is None:
        return at_product if at_specification is None else at_specification  # type: ignore[return-value]
    return at_product & at_specification


def product_audience(view: View, product_pk: int) -> BitMap:
    """The accounts the product's own target admits (A(P) of R3)."""
    specs = view.specifications_of(product_pk)
    product = view.product(product_pk)
    if product is None:
        return BitMap()
    if not specs:  # no offer to read the product's level from: judge the target alone
        probe = Offer(product.product_id, "", product.target, Setting.SAME_AS_PRODUCT)
    else:
        found = view.offer(specs[0])
        assert found is not None
        probe = replace(found, setting=Setting.SAME_AS_PRODUCT)
    at_product, _ = audience_levels(probe, _Sets(view))
    return view.everyone() if at_product is None else at_product


class Overlay(View):
    """The index as a write would leave it: its changes applied copy-on-write."""

    def __init__(self, state: IndexState, session: Session | None) -> None:
        super().__init__(state)
        self._session = session
        self._products: dict[int, ProductEntry] = {}
        self._specs: dict[int, SpecificationEntry] = {}
        self._lists: dict[int, BitMap] = {}
        self._groups: dict[int, frozenset[int]] = {}  # groups on a list, as changed
        self._product_buyers: dict[int, BitMap] = {}
        self._spec_buyers: dict[int, BitMap] = {}
        self._product_pks: dict[str, int] = {}
        self._spec_pks: dict[str, int] = {}
        self._held: dict[tuple[bool, int, int], int] = {}  # purchases counted, as changed
        self._everyone: BitMap | None = None
        self._types: dict[AccountType, BitMap] = {}
        self.affected: set[int] = set()  # specifications whose audience may move
        self.accounts: BitMap | None = None  # when only these accounts can move
        self.unknowable = False

    # --- reading through the changes ----------------------------------------------------

    def everyone(self) -> BitMap:
        return self._everyone if self._everyone is not None else super().everyone()

    def of_type(self, account_type: AccountType) -> BitMap:
        return self._types.get(account_type) or super().of_type(account_type)

    def product(self, pk: int) -> ProductEntry | None:
        return self._products.get(pk) or super().product(pk)

    def specification(self, pk: int) -> SpecificationEntry | None:
        return self._specs.get(pk) or super().specification(pk)

    def product_pk(self, product_id: str) -> int:
        return self._product_pks.get(product_id) or super().product_pk(product_id)

    def specification_pk(self, specification_id: str) -> int:
        return self._spec_pks.get(specification_id) or super().specification_pk(specification_id)

    def list_members(self, list_pk: int) -> BitMap:
        found = self._lists.get(list_pk)
        return found if found is not None else super().list_members(list_pk)

    def groups_on(self, list_pk: int) -> frozenset[int]:
        found = self._groups.get(list_pk)
        return found if found is not None else super().groups_on(list_pk)

    def product_buyers(self, pk: int) -> BitMap:
        found = self._product_buyers.get(pk)
        return found if found is not None else super().product_buyers(pk)

    def specification_buyers(self, pk: int) -> BitMap:
        found = self._spec_buyers.get(pk)
        return found if found is not None else super().specification_buyers(pk)

    # --- applying --------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        match change:
            case AccountSet(pk, _account_id, account_type):
                self._set_accounts([(pk, account_type)])
            case AccountsReloaded(first_pk, last_pk):
                self._set_accounts(self._read_accounts(first_pk, last_pk))
            case SellerSet() | TokenSet() | TokenRevoked() | WindowsPassed():
                pass  # no decision reads them
            case ProductSet(pk, product_id, seller_pk, name, target, list_pk):
                self._set_product(pk, product_id, seller_pk, name, Target(target), list_pk)
            case SpecificationSet(pk, spec_id, product_pk, name, setting, list_pk):
                self._set_specification(pk, spec_id, product_pk, name, Setting(setting), list_pk)
            case ListEdited(list_pk, account_pks, present, valid_from, valid_until):
                members = BitMap(self.list_members(list_pk))
                span = span_of(valid_from, valid_until)
                if present and (span is None or span[0] <= self.now < span[1]):
                    members.update(account_pks)
                else:  # removed, or added with a window that does not hold now (R16)
                    members.difference_update(BitMap(account_pks))
                self._set_list(list_pk, members)
            case ListReloaded(list_pk):
                self._set_list(list_pk, self._read_list(list_pk))
            case GroupAttached(list_pk, group_list_pk, present):
                self._attach(list_pk, group_list_pk, present)
            case LinkEdited(owner, owner_pk, other_pk, present):
                self._set_link(owner == "product", owner_pk, other_pk, present)
            case PurchaseCounted(account_pk, spec_pk, product_pk, delta):
                self._count_purchase(account_pk, spec_pk, product_pk, delta)
            case PurchasesSet(owner, pk, account_pks, counts):
                self._set_purchases(owner == "product", pk, account_pks, counts)
            case Rebuild():
                self.unknowable = True
            case _:
                assert_never(change)

    def _only(self, account_pks: Iterable[int]) -> None:
        """This change moves only these accounts (unless another moves more)."""
        more = BitMap(account_pks)
        self.accounts = more if self.accounts is None else self.accounts | more

    def _everything(self) -> None:
        """A change that can move any account of the affected specifications."""
        self.accounts = BitMap(self.everyone())  # a copy: later account changes add to it

    def _set_accounts(self, accounts: Sequence[tuple[int, str]]) -> None:
        everyone = self._everyone = BitMap(self.everyone())
        types = {kind: BitMap(self.of_type(kind)) for kind in AccountType}
        self._types = types
        for pk, account_type in accounts:
            everyone.add(pk)
            for kind, members in types.items():
                if kind.value == account_type:
                    members.add(pk)
                else:
                    members.discard(pk)
        self.affected.update(self.state.specifications)
        self._only(pk for pk, _ in accounts)

    def _set_product(
        self, pk: int, product_id: str, seller_pk: int, name: str, target: Target, list_pk: int
    ) -> None:
        found = self.product(pk)
        if found is None:
            self._products[pk] = ProductEntry(pk, product_id, seller_pk, name, target, list_pk)
            self._product_pks[product_id] = pk
        else:
            self._products[pk] = replace(found, target=target)
        self.affected.update(self.specifications_of(pk))
        self._everything()

    def _set_specification(
        self, pk: int, spec_id: str, product_pk: int, name: str, setting: Setting, list_pk: int
    ) -> None:
        found = self.specification(pk)
        if found is None:
            self._specs[pk] = SpecificationEntry(pk, spec_id, product_pk, name, setting, list_pk)
            self._spec_pks[spec_id] = pk
            product = self.product(product_pk)
            assert product is not None
            siblings = sorted({*product.specifications, pk})
            self._products[product_pk] = replace(product, specifications=siblings)
        else:
            self._specs[pk] = replace(found, setting=setting)
        self.affected.add(pk)
        self._everything()

    def _set_list(self, list_pk: int, members: BitMap) -> None:
        before = self.list_members(list_pk)
        self._lists[list_pk] = members
        self._counted.clear()
        self._reading(list_pk)
        # R17: a group's list reaches the lists holding it (as held after this write's own
        # attachments too).
        holders = {*self.state.holders.get(list_pk, ()), *self._groups}
        for holder in holders:
            if list_pk in self.groups_on(holder):
                self._reading(holder)
        self._only(before ^ members)

    def _reading(self, list_pk: int) -> None:
        """The specifications that read a specified-user list are affected."""
        for product in [*self.state.products.values(), *self._products.values()]:
            if product.list_pk == list_pk:
                self.affected.update(self.specifications_of(product.pk))
        for spec in [*self.state.specifications.values(), *self._specs.values()]:
            if spec.list_pk == list_pk:
                self.affected.add(spec.pk)

    def _attach(self, list_pk: int, group_list_pk: int, present: bool) -> None:
        """R17: a group on a list, or off it: its members may move there."""
        before = self.counted(list_pk)
        groups = set(self.groups_on(list_pk))
        if present:
            groups.add(group_list_pk)
        else:
            groups.discard(group_list_pk)
        self._groups[list_pk] = frozenset(groups)
        self._counted.clear()
        self._reading(list_pk)
        self._only(before ^ self.counted(list_pk))

    def _set_link(self, of_product: bool, owner_pk: int, other_pk: int, present: bool) -> None:
        entry: ProductEntry | SpecificationEntry | None
        entry = self.product(owner_pk) if of_product else self.specification(owner_pk)
        assert entry is not None
        links = set(entry.associated)
        if present:
            links.add(other_pk)
        else:
            links.discard(other_pk)
        if isinstance(entry, ProductEntry):
            self._products[owner_pk] = replace(entry, associated=links)
            self.affected.update(self.specifications_of(owner_pk))
        else:
            self._specs[owner_pk] = replace(entry, associated=links)
            self.affected.add(owner_pk)
        self._everything()

    def _set_purchases(
        self, of_product: bool, pk: int, account_pks: Sequence[int], counts: Sequence[int]
    ) -> None:
        """Every counted purchase of one product or specification, as the database holds it
        (recorded before the association that makes them count, so nothing moves yet)."""
        buyers = BitMap()
        for account_pk, count in zip(account_pks, counts, strict=True):
            self._held[(of_product, pk, account_pk)] = count
            if count > 0:
                buyers.add(account_pk)
        table = self._product_buyers if of_product else self._spec_buyers
        table[pk] = buyers

    def _count_purchase(self, account_pk: int, spec_pk: int, product_pk: int, delta: int) -> None:
        for of_product, pk in ((False, spec_pk), (True, product_pk)):
            key = (of_product, pk, account_pk)
            held = self._held.get(key, _counted(self.state, of_product, pk, account_pk)) + delta
            self._held[key] = held
            table = self._product_buyers if of_product else self._spec_buyers
            buyers = BitMap(
                self.product_buyers(pk) if of_product else self.specification_buyers(pk)
            )
            if held > 0:
                buyers.add(account_pk)
            else:
                buyers.discard(account_pk)
            table[pk] = buyers
        for product in self.state.products.values():
            if product_pk in product.associated:
                self.affected.update(product.specifications)
        for spec in self.state.specifications.values():
            if spec_pk in spec.associated:
                self.affected.add(spec.pk)
        self._only([account_pk])

    # --- bulk changes read what the write's own transaction wrote --------------------------

    def _read_accounts(self, first_pk: int, last_pk: int) -> list[tuple[int, str]]:
        assert self._session is not None, "a bulk change's impact reads its transaction"
        rows = BulkIo(self._session).accounts_from(first_pk, last_pk)
        return [(pk, account_type) for pk, _, account_type in rows]

    def _read_list(self, list_pk: int) -> BitMap:
        """The list's entries that count now, as this transaction left them: every entry
        (through the driver: a million in a fraction of a second), less the few windowed
        ones whose window does not hold now."""
        assert self._session is not None, "a bulk change's impact reads its transaction"
        now = datetime.fromtimestamp(self.now, UTC)
        members = BitMap(
            BulkIo(self._session).column_where(ENTRIES, "account_pk", "list_pk", list_pk)
        )
        outside = self._session.scalars(
            select(ListEntryRow.account_pk)
            .where(ListEntryRow.list_pk == list_pk)
            .where(WINDOWED)
            .where(~counts_at(now))
        )
        members.difference_update(BitMap(outside))
        return members


def _counted(state: IndexState, of_product: bool, pk: int, account_pk: int) -> int:
    table = state.product_buyers if of_product else state.specification_buyers
    return table.get(pk, {}).get(account_pk, 0)


# --- the impact ---------------------------------------------------------------------------


@dataclass
class _Tally:
    gains: BitMap
    losses: BitMap
    losing: BitMap


class _Customers:
    """Who had a counted purchase of a product (R10) before the write, for R14's customers
    losing. Read in the write's own transaction where there is one (the index keeps the
    purchases of products nobody associates only as far as the change log carried them,
    `services.orders`), then taken back to before the write by its own purchase changes."""

    def __init__(
        self,
        before: View,
        session: Session | None,
        few: BitMap | None,
        changes: Sequence[Change],
    ) -> None:
        self._before = before
        self._session = session
        self._few = few  # when only these accounts can move: their purchases, in one query
        self._after: dict[int, dict[int, int]] | None = None  # product -> account -> count
        self._undo: dict[int, dict[int, int]] = {}  # the write's own changes of counts
        for change in changes:
            if isinstance(change, PurchaseCounted):
                moved = self._undo.setdefault(change.product_pk, {})
                moved[change.account_pk] = moved.get(change.account_pk, 0) + change.delta

    def __call__(self, product_pk: int) -> BitMap:
        if self._session is None:
            return self._before.product_buyers(product_pk)
        counts = dict(self._counts_after(product_pk))
        for account_pk, delta in self._undo.get(product_pk, {}).items():
            counts[account_pk] = counts.get(account_pk, 0) - delta
        return BitMap(pk for pk, count in counts.items() if count > 0)

    def _counts_after(self, product_pk: int) -> dict[int, int]:
        assert self._session is not None
        if self._after is None:
            self._after = {}
            if self._few is not None:
                self._after = products_bought_by(self._session, list(self._few))
        if self._few is None and product_pk not in self._after:
            accounts, counts = counted_purchases(self._session, True, product_pk)
            self._after[product_pk] = dict(zip(accounts, counts, strict=True))
        return self._after.get(product_pk, {})


def impact(state: IndexState, changes: Sequence[Change], session: Session | None) -> Impact | None:
    """The impact of a write's changes on the index as it stands; None when it cannot be told
    without reading everything again (a rebuild)."""
    state.advance(state.clock())  # before and after at the present moment (R16)
    after = Overlay(state, session)
    for change in changes:
        after.apply(change)
    if after.unknowable:
        return None
    before = View(state)
    tally = _Tally(BitMap(), BitMap(), BitMap())
    per_spec: list[SpecificationImpact] = []
    nobody: list[str] = []
    few = after.accounts is not None and len(after.accounts) <= _FEW
    customers = _Customers(before, session, after.accounts if few else None, changes)
    whole = len(after.affected) <= _WHOLE  # few enough to say which are left with nobody
    for spec_pk in sorted(after.affected):
        spec = after.specification(spec_pk)
        assert spec is not None
        if few:
            assert after.accounts is not None
            was = _allowed_among(before, spec_pk, after.accounts)
            now = _allowed_among(after, spec_pk, after.accounts)
            if whole and not audience(after, spec_pk):
                nobody.append(spec.specification_id)
        else:
            was, now = audience(before, spec_pk), audience(after, spec_pk)
            if not now:
                nobody.append(spec.specification_id)
        gains, losses = now - was, was - now
        losing = losses & customers(spec.product_pk) if losses else BitMap()
        if gains or losses:
            per_spec.append(
                SpecificationImpact(spec.specification_id, len(gains), len(losses), len(losing))
            )
            tally.gains |= gains
            tally.losses |= losses
            tally.losing |= losing
    return Impact(
        gains=_figure(after, tally.gains),
        losses=_figure(after, tally.losses),
        customers_losing=_figure(after, tally.losing),
        specifications=tuple(per_spec),
        left_with_nobody=tuple(nobody),
    )


# Up to this many moving accounts, each is judged alone rather than whole audiences compared.
_FEW = 64
# Up to this many affected specifications, each one's whole audience after is looked at too.
_WHOLE = 100


def _allowed_among(view: View, spec_pk: int, accounts: BitMap) -> BitMap:
    """Those of `accounts` that R12 allows to buy the specification, over a view: R3's two
    levels as membership tests, nothing compiled."""
    offer = view.offer(spec_pk)
    if offer is None:
        return BitMap()
    at_product, at_specification = audience_levels(offer, _Member(view))
    everyone = view.everyone()
    return BitMap(
        pk
        for pk in accounts
        if pk in everyone
        and (at_product is None or pk in at_product)
        and (at_specification is None or pk in at_specification)
    )


def _figure(view: Overlay, accounts: BitMap) -> Figure:
    """The count, and the first SAMPLE account IDs in ascending order."""
    if not accounts:
        return Figure()
    return Figure(len(accounts), tuple(_smallest_ids(view, accounts)))


def _smallest_ids(view: Overlay, accounts: BitMap) -> list[str]:
    state = view.state
    ids = state.account_ids
    if len(accounts) <= 4 * _SORTED_SCAN:
        # Every setting change figures a few of these: the IDs the index knows are read
        # straight from its list, and only the SAMPLE smallest are put in order.
        size = len(ids)
        found = [known for pk in accounts if pk < size and (known := ids[pk])]
        if len(found) < len(accounts):  # accounts this very write registers
            found += [_id_of(view, pk) for pk in accounts if pk >= size or not ids[pk]]
        return heapq.nsmallest(SAMPLE, found)
    # Dense: walk every account in ID order until SAMPLE members are found.
    picked: list[str] = []
    for account_id in _sorted_ids(state):
        if state.accounts[account_id] in accounts:
            picked.append(account_id)
            if len(picked) == SAMPLE:
                break
    if len(picked) < SAMPLE:  # accounts this very write registers sort in among them
        extra = [_id_of(view, pk) for pk in accounts if pk >= len(ids) or not ids[pk]]
        picked = sorted([*picked, *extra])[:SAMPLE]
    return picked


_SORTED_SCAN = 1024


def _sorted_ids(state: IndexState) -> list[str]:
    """Every account ID in ascending order, kept with the state until an account is added."""
    if state.sorted_account_ids is None:
        state.sorted_account_ids = sorted(state.accounts)
    return state.sorted_account_ids


def _id_of(view: Overlay, pk: int) -> str:
    """An account's ID: from the index, or for one this write registers, from the write's own
    transaction."""
    ids = view.state.account_ids
    known = ids[pk] if pk < len(ids) else None
    if known is not None:
        return known
    session = view._session
    assert session is not None
    found = session.scalar(select(AccountRow.account_id).where(AccountRow.pk == pk))
    assert found is not None
    return found


def sizes(state: IndexState, product_pk: int) -> tuple[int, dict[int, int]]:
    """R14's audience sizes: how many accounts may buy the product, and each specification,
    now (R16)."""
    state.advance(state.clock())
    view = View(state)
    return (
        len(product_audience(view, product_pk)),
        {pk: len(audience(view, pk)) for pk in view.specifications_of(product_pk)},
    )
