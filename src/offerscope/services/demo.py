"""A small demo marketplace: every product target, every specification setting, both account
types, lists, associations and a few orders, built through the ordinary use cases."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from offerscope.domain.errors import Conflict
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import (
    accounts,
    associations,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database

DEMO_SELLER = "Northwind Cloud Apps"

# (account_id, account_name, type): fixed, so that the README's examples work on every demo.
ACCOUNTS = [
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "acme_corp", AccountType.ENTERPRISE),
    ("1b2c3d4e5f60718293a4b5c6d7e8f90a", "globex-ltd", AccountType.ENTERPRISE),
    ("2c3d4e5f60718293a4b5c6d7e8f90a1b", "alice_wang", AccountType.INDIVIDUAL),
    ("3d4e5f60718293a4b5c6d7e8f90a1b2c", "bob_li", AccountType.INDIVIDUAL),
]


@dataclass(frozen=True)
class DemoMarketplace:
    seller_id: str
    tokens: dict[str, str]
    specifications: dict[str, str]
    products: dict[str, str]


def load_demo(db: Database) -> DemoMarketplace:
    """Create the demo marketplace and fresh tokens for each role."""
    for account_id, name, account_type in ACCOUNTS:
        with suppress(Conflict):  # loaded before: keep it, issue new tokens below
            accounts.register_account(db, account_id, name, account_type)
    seller = sellers.create_seller(db, DEMO_SELLER)
    seller_actor = sellers.seller_actor(db, seller.seller_id)
    made: dict[str, str] = {}
    specs: dict[str, str] = {}

    def product(name: str, spec_names: list[str]) -> str:
        view = products.create_product(db, seller_actor, name, spec_names)
        made[name] = view.product_id
        for spec in view.specifications:
            specs[f"{name} / {spec.name}"] = spec.specification_id
        return view.product_id

    def setting(product_name: str, spec_name: str, value: Setting) -> str:
        spec_id = specs[f"{product_name} / {spec_name}"]
        targets.set_specification_setting(db, seller_actor, made[product_name], spec_id, value)
        return spec_id

    acme, globex, alice, bob = ((a[0], a[1]) for a in ACCOUNTS)

    # All users, with one specification of every setting.
    cloud = product(
        "CloudDB",
        ["Basic", "Enterprise Edition", "Personal Edition", "Beta", "Upgrade", "Standard"],
    )
    setting("CloudDB", "Standard", Setting.ALL)
    setting("CloudDB", "Enterprise Edition", Setting.ENTERPRISE)
    setting("CloudDB", "Personal Edition", Setting.INDIVIDUAL)
    beta = setting("CloudDB", "Beta", Setting.SPECIFIED)
    specified_users.add_specified_user(db, seller_actor, cloud, beta, *alice)
    specified_users.add_specified_user(db, seller_actor, cloud, beta, *acme)
    upgrade = setting("CloudDB", "Upgrade", Setting.ASSOCIATED)
    associations.add_associations(db, seller_actor, cloud, upgrade, [specs["CloudDB / Basic"]])

    # Enterprise users, narrowed by a list of enterprise accounts and by an association.
    suite = product("Enterprise Suite", ["Standard", "Gold", "Renewal"])
    targets.set_product_target(db, seller_actor, suite, Target.ENTERPRISE)
    gold = setting("Enterprise Suite", "Gold", Setting.SPECIFIED)
    specified_users.add_specified_user(db, seller_actor, suite, gold, *globex)
    renewal = setting("Enterprise Suite", "Renewal", Setting.ASSOCIATED)
    associations.add_associations(
        db, seller_actor, suite, renewal, [specs["Enterprise Suite / Standard"]]
    )

    # Individual users.
    student = product("Student Pack", ["Monthly", "Yearly"])
    targets.set_product_target(db, seller_actor, student, Target.INDIVIDUAL)
    setting("Student Pack", "Yearly", Setting.INDIVIDUAL)

    # Specified users: the specifications follow the product.
    preview = product("Private Preview", ["Preview"])
    targets.set_product_target(db, seller_actor, preview, Target.SPECIFIED)
    specified_users.add_specified_user(db, seller_actor, preview, None, *bob)

    # Associated product buyers: only those who bought CloudDB.
    backup = product("Backup Plus", ["Daily", "Hourly"])
    targets.set_product_target(db, seller_actor, backup, Target.ASSOCIATED)
    associations.add_associations(db, seller_actor, backup, None, [cloud])

    issued = {
        "operator": tokens.create_token(db, Role.OPERATOR),
        "seller": tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id),
        "enterprise buyer (acme_corp)": tokens.create_token(db, Role.BUYER, account_id=acme[0]),
        "individual buyer (alice_wang)": tokens.create_token(db, Role.BUYER, account_id=alice[0]),
        "individual buyer (bob_li)": tokens.create_token(db, Role.BUYER, account_id=bob[0]),
    }
    # A few orders: alice and acme bought CloudDB Basic, which unlocks Backup Plus and Upgrade.
    for account_id, _name, _type in (ACCOUNTS[0], ACCOUNTS[2]):
        buyer = tokens.authenticate(db, issued[_token_key(account_id)])
        assert buyer is not None
        orders.place_order(db, buyer, specs["CloudDB / Basic"])
    return DemoMarketplace(seller.seller_id, issued, specs, made)


def _token_key(account_id: str) -> str:
    name = next(name for aid, name, _type in ACCOUNTS if aid == account_id)
    kind = next(t for aid, _n, t in ACCOUNTS if aid == account_id).value
    return f"{kind} buyer ({name})"
