"""A deterministic marketplace of a given scale, and the checks the benchmark asks about it.

Scale 1: 200,000 accounts, 2,000 products with 1-6 specifications each, every product target
and every specification setting R2 allows, about 100,000 specified-user entries, 300,000
orders (a tenth refunded). The same seed always makes the same world.

`bench.offerscope_api.Offerscope.write_world` stores it (bulk inserts, explicit keys).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# R2, written out from SPEC.md for the generator (settings a specification may take).
ALLOWED = {
    "all": ["same_as_product", "all", "enterprise", "individual", "specified", "associated"],
    "enterprise": ["same_as_product", "enterprise", "specified", "associated"],
    "individual": ["same_as_product", "individual", "specified", "associated"],
    "specified": ["same_as_product"],
    "associated": ["same_as_product"],
}
TARGET_WEIGHTS = {"all": 30, "enterprise": 15, "individual": 15, "specified": 20, "associated": 20}


@dataclass
class Product:
    pk: int
    product_id: str
    seller: int
    target: str
    users: list[int] = field(default_factory=list)  # account pks
    associated: list[int] = field(default_factory=list)  # product pks
    specs: list[int] = field(default_factory=list)


@dataclass
class Spec:
    pk: int
    specification_id: str
    product: int
    setting: str
    users: list[int] = field(default_factory=list)
    associated: list[int] = field(default_factory=list)  # specification pks


@dataclass
class World:
    scale: float
    accounts: list[tuple[str, str, str]]  # (account_id, name, type); pk = position + 1
    sellers: int
    products: dict[int, Product]
    specs: dict[int, Spec]
    orders: list[tuple[int, int, int, str]]  # (account pk, spec pk, product pk, status)

    @property
    def list_entries(self) -> int:
        return sum(len(p.users) for p in self.products.values()) + sum(
            len(s.users) for s in self.specs.values()
        )


def generate(scale: float, seed: int = 20261128) -> World:
    rng = random.Random(seed)
    n_accounts = max(50, round(200_000 * scale))
    n_products = max(10, round(2_000 * scale))
    accounts = [
        (
            f"{rng.getrandbits(128):032x}",
            f"acct_{n:07d}",
            "enterprise" if rng.random() < 0.4 else "individual",
        )
        for n in range(1, n_accounts + 1)
    ]
    by_type: dict[str, list[int]] = {"enterprise": [], "individual": []}
    for pk, (_, _, kind) in enumerate(accounts, 1):
        by_type[kind].append(pk)
    sellers = max(2, n_products // 40)
    products: dict[int, Product] = {}
    specs: dict[int, Spec] = {}
    targets = list(TARGET_WEIGHTS)
    weights = list(TARGET_WEIGHTS.values())
    for pk in range(1, n_products + 1):
        seller, target = rng.randrange(sellers), rng.choices(targets, weights)[0]
        if pk <= 2:  # seller 0 always has one of each that the write measurements use
            seller, target = 0, ("specified", "all")[pk - 1]
        product = Product(pk, f"prd_{pk:08x}", seller, target)
        products[pk] = product
        for _ in range(rng.randint(1, 6)):
            spec_pk = len(specs) + 1
            setting = rng.choice(ALLOWED[product.target])
            specs[spec_pk] = Spec(spec_pk, f"spc_{spec_pk:08x}", pk, setting)
            product.specs.append(spec_pk)
    _associate(rng, products, specs)
    _fill_lists(rng, scale, n_accounts, by_type, products, specs)
    orders = []
    spec_pks = list(specs)
    for _ in range(max(100, round(300_000 * scale))):
        spec = specs[rng.choice(spec_pks)]
        status = "refunded" if rng.random() < 0.1 else "paid"
        orders.append((rng.randint(1, n_accounts), spec.pk, spec.product, status))
    return World(scale, accounts, sellers, products, specs, orders)


def _associate(rng: random.Random, products: dict[int, Product], specs: dict[int, Spec]) -> None:
    """R7, R8: other products of the same seller; other specifications of the same product."""
    by_seller: dict[int, list[int]] = {}
    for product in products.values():
        by_seller.setdefault(product.seller, []).append(product.pk)
    for product in products.values():
        # Kept when the target is not `associated` too (R7): inactive sets must not count.
        if product.target == "associated" or rng.random() < 0.05:
            others = [pk for pk in by_seller[product.seller] if pk != product.pk]
            product.associated = rng.sample(others, min(len(others), rng.randint(0, 3)))
    for spec in specs.values():
        if spec.setting == "associated" or rng.random() < 0.02:
            siblings = [pk for pk in products[spec.product].specs if pk != spec.pk]
            spec.associated = rng.sample(siblings, min(len(siblings), rng.randint(0, 2)))


def _fill_lists(
    rng: random.Random,
    scale: float,
    n_accounts: int,
    by_type: dict[str, list[int]],
    products: dict[int, Product],
    specs: dict[int, Spec],
) -> None:
    """About 100,000 entries at scale 1 over the active lists, plus a few inactive ones."""
    owners: list[Product | Spec] = [p for p in products.values() if p.target == "specified"]
    owners += [s for s in specs.values() if s.setting == "specified"]
    inactive: list[Product | Spec] = [
        p for p in products.values() if p.target != "specified" and rng.random() < 0.05
    ]
    average = max(2, round(100_000 * scale / max(1, len(owners) + len(inactive))))
    everyone = list(range(1, n_accounts + 1))
    for owner in owners + inactive:
        pool = everyone
        if isinstance(owner, Spec):
            target = products[owner.product].target
            if target in ("enterprise", "individual"):  # R6: only accounts of that type
                pool = by_type[target]
        size = min(len(pool), rng.randint(1, 2 * average))
        owner.users = sorted(rng.sample(pool, size))


def checks(world: World, count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(account_id, specification_id) pairs: half drawn from who is listed or bought (to hit
    every reason), the rest at random, and a few unknown IDs.

    The IDs are new string objects, as a decoded request's are. Handing a peer the very
    objects it was compiled from would let its hash look-ups stop at an identity test that no
    real check ever passes: the plain-Python limit ran a third faster on them than on equal
    strings from a request."""
    rng = random.Random(seed)
    spec_list = list(world.specs.values())
    buyers: dict[int, list[int]] = {}
    for account_pk, spec_pk, product_pk, status in world.orders:
        if status == "paid":
            buyers.setdefault(product_pk, []).append(account_pk)
            buyers.setdefault(-spec_pk, []).append(account_pk)
    n_accounts = len(world.accounts)
    pairs = []
    for _ in range(count):
        spec = rng.choice(spec_list)
        product = world.products[spec.product]
        roll = rng.random()
        if roll < 0.005:
            pairs.append((f"{rng.getrandbits(128):032x}", spec.specification_id))
            continue
        if roll < 0.01:
            pairs.append((world.accounts[0][0], f"spc_missing_{rng.randrange(10**6)}"))
            continue
        pool: list[int] = []
        if roll < 0.55:
            candidates = [product.users, spec.users]
            candidates += [buyers.get(pk, []) for pk in product.associated]
            candidates += [buyers.get(-pk, []) for pk in spec.associated]
            pool = rng.choice([c for c in candidates if c] or [[]])
        account_pk = rng.choice(pool) if pool else rng.randint(1, n_accounts)
        pairs.append((world.accounts[account_pk - 1][0], spec.specification_id))
    return [(_as_received(account_id), _as_received(spec_id)) for account_id, spec_id in pairs]


def _as_received(text: str) -> str:
    """An equal string that is not `text` itself: what decoding a request yields."""
    return text.encode().decode()
