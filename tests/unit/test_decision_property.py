"""SPEC.md R3, R10, R12: `decide` agrees with a naive, set-based reading of R3 on random worlds.

The naive side computes every audience as an explicit set of account IDs, straight from R3's
sentences; `decide` sees the same world only through `Offer` and a `BuyerFacts` view. Entries
may carry R16 windows (whole days around the moment of deciding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from offerscope.domain.decision import Level, Offer, OrderStatus, Reason, decide
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Lapse, Window, lapse_of

# R2, written out by hand from SPEC.md (not read from the code).
R2_ALLOWED: dict[str, list[str]] = {
    "all": ["same_as_product", "all", "enterprise", "individual", "specified", "associated"],
    "enterprise": ["same_as_product", "enterprise", "specified", "associated"],
    "individual": ["same_as_product", "individual", "specified", "associated"],
    "specified": ["same_as_product"],
    "associated": ["same_as_product"],
}

# R12, by hand: the reason a target refuses with.
REFUSAL = {
    "enterprise": "not_enterprise_user",
    "individual": "not_individual_user",
    "specified": "not_specified_user",
    "associated": "no_associated_purchase",
}


@dataclass(frozen=True)
class Product:
    product_id: str
    seller_id: str
    target: str
    specified_users: frozenset[str]
    associated_products: frozenset[str]


@dataclass(frozen=True)
class Spec:
    specification_id: str
    product_id: str
    setting: str
    specified_users: frozenset[str]
    associated_specifications: frozenset[str]


@dataclass(frozen=True)
class Order:
    account_id: str
    specification_id: str
    status: OrderStatus


NOW = datetime(2027, 1, 1, tzinfo=UTC)
Days = tuple[int | None, int | None]  # an R16 window in whole days from NOW; None: open


@dataclass(frozen=True)
class World:
    accounts: dict[str, str]  # account_id -> account type
    products: dict[str, Product]
    specs: dict[str, Spec]
    orders: tuple[Order, ...]
    # R16: (product or specification ID, account ID) -> the window of that entry, if any.
    windows: dict[tuple[str, str], Days] = field(default_factory=dict)

    def window(self, owner_id: str, account_id: str) -> Window:
        start, end = self.windows.get((owner_id, account_id), (None, None))
        return Window(_day(start), _day(end))


def _day(offset: int | None) -> datetime | None:
    return None if offset is None else NOW + timedelta(days=offset)


@st.composite
def spans(draw: st.DrawFn) -> Days:
    start = draw(st.none() | st.integers(-3, 3))
    end = draw(st.none() | st.integers(-3, 3))
    if start is not None and end is not None and end <= start:
        start, end = end - 1, start + 1  # R16: a window ends after it starts
    return start, end


@st.composite
def worlds(draw: st.DrawFn) -> World:
    account_ids = [f"a{i}" for i in range(draw(st.integers(1, 5)))]
    accounts = {a: draw(st.sampled_from(["enterprise", "individual"])) for a in account_ids}
    users = st.frozensets(st.sampled_from(account_ids))

    # Products, each with 1-3 specifications; lists are drawn whatever the target, since R5
    # keeps an inactive list (and it must then not count).
    product_ids = [f"p{i}" for i in range(draw(st.integers(1, 4)))]
    sellers = {p: draw(st.sampled_from(["s0", "s1"])) for p in product_ids}
    spec_ids_of: dict[str, list[str]] = {
        p: [f"{p}s{j}" for j in range(draw(st.integers(1, 3)))] for p in product_ids
    }

    products: dict[str, Product] = {}
    specs: dict[str, Spec] = {}
    for p in product_ids:
        target = draw(st.sampled_from(sorted(R2_ALLOWED)))
        siblings = [q for q in product_ids if q != p and sellers[q] == sellers[p]]  # R7
        products[p] = Product(
            product_id=p,
            seller_id=sellers[p],
            target=target,
            specified_users=draw(users),
            associated_products=draw(
                st.frozensets(st.sampled_from(siblings)) if siblings else st.just(frozenset())
            ),
        )
        for s in spec_ids_of[p]:
            sibling_specs = [t for t in spec_ids_of[p] if t != s]  # R8
            specs[s] = Spec(
                specification_id=s,
                product_id=p,
                setting=draw(st.sampled_from(R2_ALLOWED[target])),
                specified_users=draw(users),
                associated_specifications=draw(
                    st.frozensets(st.sampled_from(sibling_specs))
                    if sibling_specs
                    else st.just(frozenset())
                ),
            )

    orders = draw(
        st.lists(
            st.builds(
                Order,
                account_id=st.sampled_from(account_ids),
                specification_id=st.sampled_from(sorted(specs)),
                status=st.sampled_from([OrderStatus.PAID, OrderStatus.REFUNDED]),
            ),
            max_size=8,
        )
    )
    windows: dict[tuple[str, str], Days] = {}
    for owner_id, listed in [
        *((p.product_id, p.specified_users) for p in products.values()),
        *((s.specification_id, s.specified_users) for s in specs.values()),
    ]:
        for account_id in sorted(listed):
            if draw(st.booleans()):
                windows[(owner_id, account_id)] = draw(spans())
    return World(accounts, products, specs, tuple(orders), windows)


# --- the naive reading of R3 ----------------------------------------------------------------


def counted_buyers_of_specs(world: World, spec_ids: frozenset[str]) -> set[str]:
    """R10: accounts with a paid order of one of these specifications."""
    return {
        o.account_id for o in world.orders if o.status == "paid" and o.specification_id in spec_ids
    }


def counted_buyers_of_products(world: World, product_ids: frozenset[str]) -> set[str]:
    """R10: buying a specification counts as buying its product."""
    spec_ids = frozenset(
        s.specification_id for s in world.specs.values() if s.product_id in product_ids
    )
    return counted_buyers_of_specs(world, spec_ids)


def counting(world: World, owner_id: str, listed: frozenset[str]) -> set[str]:
    """R16: the listed accounts whose entry's window holds NOW (valid_from <= NOW < until)."""
    found = set()
    for account_id in listed:
        start, end = world.windows.get((owner_id, account_id), (None, None))
        if (start is None or start <= 0) and (end is None or end > 0):
            found.add(account_id)
    return found


def audience_of(world: World, value: str, listed: set[str], bought: set[str]) -> set[str]:
    everyone = set(world.accounts)
    if value == "all":
        return everyone
    if value in ("enterprise", "individual"):
        return {a for a in everyone if world.accounts[a] == value}
    if value == "specified":
        return listed
    assert value == "associated"
    return bought


def product_audience(world: World, product: Product) -> set[str]:
    return audience_of(
        world,
        product.target,
        counting(world, product.product_id, product.specified_users),
        counted_buyers_of_products(world, product.associated_products),
    )


def own_audience(world: World, spec: Spec) -> set[str]:
    """The audience of a specification's explicit setting alone (before intersecting)."""
    return audience_of(
        world,
        spec.setting,
        counting(world, spec.specification_id, spec.specified_users),
        counted_buyers_of_specs(world, spec.associated_specifications),
    )


def refusal(world: World, target: str, owner_id: str, listed: frozenset[str], account: str) -> str:
    """R12 with R16: a listed account refused by its list has a window that does not hold
    NOW: not yet open (it starts after NOW) or closed."""
    if target == "specified" and account in listed:
        start, _end = world.windows[(owner_id, account)]
        return (
            "specified_user_not_yet_valid"
            if start is not None and start > 0
            else ("specified_user_expired")
        )
    return REFUSAL[target]


def spec_audience(world: World, spec: Spec) -> set[str]:
    a_p = product_audience(world, world.products[spec.product_id])
    if spec.setting == "same_as_product":
        return a_p
    return a_p & own_audience(world, spec)


def naive_decision(world: World, account_id: str, spec: Spec) -> tuple[bool, str, str]:
    product = world.products[spec.product_id]
    if account_id not in product_audience(world, product):
        why = refusal(
            world, product.target, product.product_id, product.specified_users, account_id
        )
        return False, why, "product"
    if spec.setting == "same_as_product":
        return True, "allowed", "product"
    if account_id not in own_audience(world, spec):
        why = refusal(world, spec.setting, spec.specification_id, spec.specified_users, account_id)
        return False, why, "specification"
    return True, "allowed", "specification"


# --- the world as `decide` sees it ----------------------------------------------------------


@dataclass(frozen=True)
class WorldBuyer:
    """BuyerFacts for one account, answered by scanning the world's rows."""

    world: World
    account_id: str

    @property
    def account_type(self) -> AccountType:
        return AccountType(self.world.accounts[self.account_id])

    def _entry(self, owner_id: str, listed: frozenset[str]) -> Window | None:
        return self.world.window(owner_id, self.account_id) if self.account_id in listed else None

    def _product_entry(self, product_id: str) -> Window | None:
        return self._entry(product_id, self.world.products[product_id].specified_users)

    def _specification_entry(self, specification_id: str) -> Window | None:
        return self._entry(specification_id, self.world.specs[specification_id].specified_users)

    def on_product_list(self, product_id: str) -> bool:
        entry = self._product_entry(product_id)
        return entry is not None and lapse_of([entry], NOW) is None

    def on_specification_list(self, specification_id: str) -> bool:
        entry = self._specification_entry(specification_id)
        return entry is not None and lapse_of([entry], NOW) is None

    def product_list_lapse(self, product_id: str) -> tuple[Lapse, datetime] | None:
        entry = self._product_entry(product_id)
        return None if entry is None else lapse_of([entry], NOW)

    def specification_list_lapse(self, specification_id: str) -> tuple[Lapse, datetime] | None:
        entry = self._specification_entry(specification_id)
        return None if entry is None else lapse_of([entry], NOW)

    def _paid(self) -> list[Order]:
        return [
            o
            for o in self.world.orders
            if o.account_id == self.account_id and o.status is OrderStatus.PAID
        ]

    def bought_any_product(self, product_ids: frozenset[str]) -> bool:
        return any(
            self.world.specs[o.specification_id].product_id in product_ids for o in self._paid()
        )

    def bought_any_specification(self, specification_ids: frozenset[str]) -> bool:
        return any(o.specification_id in specification_ids for o in self._paid())


def offer_of(world: World, spec: Spec) -> Offer:
    product = world.products[spec.product_id]
    return Offer(
        product_id=product.product_id,
        specification_id=spec.specification_id,
        product_target=Target(product.target),
        setting=Setting(spec.setting),
        associated_products=product.associated_products,
        associated_specifications=spec.associated_specifications,
    )


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_r3_r10_r12_decide_agrees_with_naive_audiences(world: World) -> None:
    for spec in world.specs.values():
        audience = spec_audience(world, spec)
        o = offer_of(world, spec)
        for account_id in world.accounts:
            decision = decide(o, WorldBuyer(world, account_id))
            assert decision.allowed == (account_id in audience), (account_id, spec)
            allowed, reason, level = naive_decision(world, account_id, spec)
            assert decision.allowed == allowed
            assert decision.reason == Reason(reason), (account_id, spec)
            assert decision.level == Level(level), (account_id, spec)
            assert decision.message


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_r3_spec_audience_is_a_subset_of_its_product_audience(world: World) -> None:
    for spec in world.specs.values():
        o = offer_of(world, spec)
        product = world.products[spec.product_id]
        for account_id in world.accounts:
            if decide(o, WorldBuyer(world, account_id)).allowed:
                assert account_id in product_audience(world, product)
