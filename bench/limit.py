"""The plain-Python limit: how fast a decision can be in Python at all, written independently
of offerscope from the generated world (R3, R10, R12).

Each specification is compiled ahead to its audience: None for anyone registered, else a
frozenset of account IDs, so that "allowed?" is one dict look-up and one set look-up. The R12
variant keeps the two levels apart (product first, then specification, each refusal's answer
built ahead) and needs at most one more set look-up to name the reason; it also answers
account_not_found and specification_not_found exactly as R12 does.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.peers import NO_ACCOUNT, NO_SPEC, REFUSAL, Answer, _buyers
from bench.world import World

Audience = frozenset[str] | None
NOBODY: frozenset[str] = frozenset()
# (product audience, its refusal, specification audience or None, its refusal, the yes answer)
Entry = tuple[frozenset[str], Answer, Audience, Answer, Answer]


class _Audiences:
    """R3 audiences of the world as frozensets of account IDs, shared where they are equal."""

    def __init__(self, world: World) -> None:
        ids = [account_id for account_id, _, _ in world.accounts]
        self.registered = frozenset(ids)
        self.by_type = {
            kind: frozenset(a for a, _, k in world.accounts if k == kind)
            for kind in ("enterprise", "individual")
        }
        by_product, by_spec = _buyers(world)
        self._ids = ids
        self._bought_product = by_product
        self._bought_spec = by_spec
        self._meets: dict[tuple[int, int], frozenset[str]] = {}

    def _of(self, pks: list[int] | set[int]) -> frozenset[str]:
        ids = self._ids
        return frozenset(ids[pk - 1] for pk in pks)

    def of_setting(
        self, target: str, listed: list[int], linked: list[int], *, product: bool
    ) -> Audience:
        """The audience of one level's own setting; None for everyone registered."""
        if target in ("all", "same_as_product"):
            return None
        if target in self.by_type:
            return self.by_type[target]
        if target == "specified":
            return self._of(listed)
        bought = self._bought_product if product else self._bought_spec
        return self._of(set().union(*(bought.get(pk, set()) for pk in linked)))

    def meet(self, first: Audience, second: Audience) -> Audience:
        """A(P) ∩ X: shared type sets are intersected once, not once per specification."""
        if first is None or second is None:
            return second if first is None else first
        if first is second:
            return first
        shared = self.by_type.values()
        if not any(first is s for s in shared) or not any(second is s for s in shared):
            return first & second
        # Both are long-lived type sets, so their ids stay theirs for the cache's life.
        key = (id(first), id(second))
        met = self._meets.get(key)
        if met is None:
            met = self._meets[key] = first & second
        return met


class LimitAllowed:
    """Allowed or refused, nothing more: one dict look-up, one set look-up."""

    name = "plain-Python limit (allowed only)"

    def __init__(self, world: World) -> None:
        sets = _Audiences(world)
        self.registered = sets.registered
        self.audiences: dict[str, Audience] = {}
        for spec in world.specs.values():
            product = world.products[spec.product]
            at_product = sets.of_setting(
                product.target, product.users, product.associated, product=True
            )
            at_spec = sets.of_setting(spec.setting, spec.users, spec.associated, product=False)
            self.audiences[spec.specification_id] = sets.meet(at_product, at_spec)

    def decide(self, account_id: str, spec_id: str) -> bool:
        audience = self.audiences.get(spec_id, NOBODY)
        return account_id in (self.registered if audience is None else audience)

    def decide_many(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        get, registered = self.audiences.get, self.registered
        return [
            account_id in (registered if (audience := get(spec_id, NOBODY)) is None else audience)
            for account_id, spec_id in pairs
        ]


class LimitR12:
    """R12's whole answer: the product level, then the specification level, each refusal
    prepared ahead; a refused account costs one more look-up to tell unknown from refused."""

    name = "plain-Python limit (R12 answers)"

    def __init__(self, world: World) -> None:
        sets = _Audiences(world)
        registered = self.registered = sets.registered
        self.entries: dict[str, Entry] = {}
        for spec in world.specs.values():
            product = world.products[spec.product]
            at_product = sets.of_setting(
                product.target, product.users, product.associated, product=True
            )
            at_spec = sets.of_setting(spec.setting, spec.users, spec.associated, product=False)
            # Everyone registered is the 'all' product's audience: an unknown account is then
            # refused at this level, and the one more look-up names it account_not_found.
            self.entries[spec.specification_id] = (
                registered if at_product is None else at_product,
                (False, REFUSAL.get(product.target, "account_not_found"), "product"),
                at_spec,
                (False, REFUSAL.get(spec.setting, ""), "specification"),
                (
                    True,
                    "allowed",
                    "product" if spec.setting == "same_as_product" else "specification",
                ),
            )

    def decide(self, account_id: str, spec_id: str) -> Answer:
        entry = self.entries.get(spec_id)
        if entry is None:
            return NO_SPEC
        at_product, product_no, at_spec, spec_no, yes = entry
        if account_id not in at_product:
            return product_no if account_id in self.registered else NO_ACCOUNT
        if at_spec is not None and account_id not in at_spec:
            return spec_no
        return yes

    def decide_many(self, pairs: Sequence[tuple[str, str]]) -> list[Answer]:
        get, registered = self.entries.get, self.registered
        out: list[Answer] = []
        append = out.append
        for account_id, spec_id in pairs:
            entry = get(spec_id)
            if entry is None:
                append(NO_SPEC)
                continue
            at_product, product_no, at_spec, spec_no, yes = entry
            if account_id not in at_product:
                append(product_no if account_id in registered else NO_ACCOUNT)
            elif at_spec is not None and account_id not in at_spec:
                append(spec_no)
            else:
                append(yes)
        return out
