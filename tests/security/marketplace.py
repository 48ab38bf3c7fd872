"""A small seeded marketplace with every kind of object, for the fuzzer and the role matrix.

Set up through the use cases (fast); everything under test then goes over HTTP. Seller "own"
and seller "other" each have products, so that every endpoint can be asked about one's own
object and about another seller's (R9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import (
    accounts,
    associations,
    groups,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
    webhooks,
)
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database

ENTERPRISE = ("e0000000000000000000000000000001", "ent_account")
INDIVIDUAL = ("a0000000000000000000000000000002", "ind_account")
SPARE = ("a0000000000000000000000000000003", "spare_account")


@dataclass
class Marketplace:
    """Tokens of every role, and the public IDs of everything seeded."""

    tokens: dict[str, str]
    seller_id: str
    other_seller_id: str
    account_ids: list[str]
    own_product: str
    own_specification: str
    own_products: list[str]
    own_specifications: list[str]
    other_product: str
    other_specification: str
    paid_order: str
    refunded_order: str
    ids: dict[str, list[str]] = field(default_factory=dict)
    # R17: a group with ENTERPRISE on Vault's list, an empty one on Lab's, one on no list.
    own_groups: list[str] = field(default_factory=list)
    webhook_id: str = ""  # R18: an operator's endpoint (never called: no delivery runs here)


def seed(db: Database) -> Marketplace:
    """Two sellers, three accounts, products of every target, a paid and a refunded order."""
    for account_id, name in (ENTERPRISE, INDIVIDUAL):
        account_type = AccountType.ENTERPRISE if name.startswith("ent") else AccountType.INDIVIDUAL
        accounts.register_account(db, account_id, name, account_type)
    accounts.register_account(db, SPARE[0], SPARE[1], AccountType.INDIVIDUAL)
    own = sellers.create_seller(db, "Own Seller").seller_id
    other = sellers.create_seller(db, "Other Seller").seller_id
    seller = sellers.seller_actor(db, own)
    rival = sellers.seller_actor(db, other)

    compute = products.create_product(db, seller, "Compute", ["Basic", "Pro", "Lab", "Club"])
    basic, pro, lab, club = (s.specification_id for s in compute.specifications)
    pid = compute.product_id
    targets.set_specification_setting(db, seller, pid, pro, Setting.ENTERPRISE)
    targets.set_specification_setting(db, seller, pid, lab, Setting.SPECIFIED)
    targets.set_specification_setting(db, seller, pid, club, Setting.ASSOCIATED)
    specified_users.add_specified_user(db, seller, pid, lab, INDIVIDUAL[0], INDIVIDUAL[1])
    associations.add_associations(db, seller, pid, club, [basic])

    vault = products.create_product(db, seller, "Vault", ["Vault One"])
    targets.set_product_target(db, seller, vault.product_id, Target.SPECIFIED)
    specified_users.add_specified_user(
        db, seller, vault.product_id, None, ENTERPRISE[0], ENTERPRISE[1]
    )

    backup = products.create_product(db, seller, "Backup", ["Daily"])
    targets.set_product_target(db, seller, backup.product_id, Target.ASSOCIATED)
    associations.add_associations(db, seller, backup.product_id, None, [pid])

    theirs = products.create_product(db, rival, "Theirs", ["Their Spec"])

    partners, pilots, spare_group = (
        groups.create_group(db, seller, name).group_id for name in ("Partners", "Pilots", "Spare")
    )
    groups.add_member(db, seller, partners, ENTERPRISE[0], ENTERPRISE[1])
    groups.attach_group(db, seller, vault.product_id, None, partners)
    groups.attach_group(db, seller, pid, lab, pilots)

    issued = {
        "operator": tokens.create_token(db, Role.OPERATOR),
        "seller": tokens.create_token(db, Role.SELLER, seller_id=own),
        "other_seller": tokens.create_token(db, Role.SELLER, seller_id=other),
        "buyer": tokens.create_token(db, Role.BUYER, account_id=INDIVIDUAL[0]),
        "enterprise_buyer": tokens.create_token(db, Role.BUYER, account_id=ENTERPRISE[0]),
    }
    individual = tokens.authenticate(db, issued["buyer"])
    enterprise = tokens.authenticate(db, issued["enterprise_buyer"])
    assert individual is not None and enterprise is not None
    paid = orders.place_order(db, individual, basic).order_id
    refunded = orders.place_order(db, enterprise, basic).order_id
    orders.refund_order(db, refunded)

    own_products = [pid, vault.product_id, backup.product_id]
    own_specifications = [
        basic,
        pro,
        lab,
        club,
        vault.specifications[0].specification_id,
        backup.specifications[0].specification_id,
    ]
    market = Marketplace(
        tokens=issued,
        seller_id=own,
        other_seller_id=other,
        account_ids=[ENTERPRISE[0], INDIVIDUAL[0], SPARE[0]],
        own_product=pid,
        own_specification=basic,
        own_products=own_products,
        own_specifications=own_specifications,
        other_product=theirs.product_id,
        other_specification=theirs.specifications[0].specification_id,
        paid_order=paid,
        refunded_order=refunded,
    )
    market.own_groups = [partners, pilots, spare_group]
    market.ids = {
        "group_id": market.own_groups,
        "product_id": [*own_products, market.other_product],
        "other_product_id": [*own_products, market.other_product],
        "specification_id": [*own_specifications, market.other_specification],
        "other_specification_id": [*own_specifications, market.other_specification],
        "account_id": market.account_ids,
        "order_id": [paid, refunded],
    }
    hook = webhooks.register(db, "http://127.0.0.1:9/hook", ["*"], "s" * 32)
    market.webhook_id = hook.webhook_id
    market.ids["webhook_id"] = [hook.webhook_id]
    return market
