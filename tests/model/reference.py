"""A naive reference of SPEC.md §3, written apart from `offerscope.domain`: sets and dicts.

Audiences are computed as whole sets of account IDs, straight from R3's wording, and the
decision (R12) reads them; nothing here calls offerscope's code. The stateful test runs the
same operations against this model and the real server and compares every decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TARGETS = ("all", "enterprise", "individual", "specified", "associated")
SETTINGS = ("same_as_product", *TARGETS)

# R2, seed Table 1: what a specification may be set to under each product target.
ALLOWED = {
    "all": set(SETTINGS),
    "enterprise": {"same_as_product", "enterprise", "specified", "associated"},
    "individual": {"same_as_product", "individual", "specified", "associated"},
    "specified": {"same_as_product"},
    "associated": {"same_as_product"},
}
REFUSAL = {
    "enterprise": "not_enterprise_user",
    "individual": "not_individual_user",
    "specified": "not_specified_user",
    "associated": "no_associated_purchase",
}


@dataclass
class Account:
    name: str
    type: str


@dataclass
class Product:
    seller: str
    target: str = "all"  # R1
    users: dict[str, str] = field(default_factory=dict)  # account ID -> name entered
    associated: set[str] = field(default_factory=set)
    specs: list[str] = field(default_factory=list)


@dataclass
class Spec:
    product: str
    setting: str = "same_as_product"  # R1
    users: dict[str, str] = field(default_factory=dict)
    associated: set[str] = field(default_factory=set)


@dataclass
class Order:
    account: str
    spec: str
    product: str
    paid: bool = True


@dataclass
class Model:
    """The marketplace as SPEC.md §3 describes it."""

    accounts: dict[str, Account] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    specs: dict[str, Spec] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    # --- R3 audiences, as sets of account IDs ---------------------------------------------

    def _of_type(self, account_type: str) -> set[str]:
        return {a for a, account in self.accounts.items() if account.type == account_type}

    def _buyers_of_products(self, product_ids: set[str]) -> set[str]:
        """R10: counted (paid) purchases of any specification of these products."""
        return {o.account for o in self.orders.values() if o.paid and o.product in product_ids}

    def _buyers_of_specs(self, spec_ids: set[str]) -> set[str]:
        return {o.account for o in self.orders.values() if o.paid and o.spec in spec_ids}

    def product_audience(self, product_id: str) -> set[str]:
        product = self.products[product_id]
        by_target = {
            "all": lambda: set(self.accounts),
            "enterprise": lambda: self._of_type("enterprise"),
            "individual": lambda: self._of_type("individual"),
            "specified": lambda: set(product.users),
            "associated": lambda: self._buyers_of_products(product.associated),
        }
        return by_target[product.target]()

    def own_audience(self, spec_id: str) -> set[str]:
        """The audience of a specification's own explicit setting (not yet narrowed)."""
        spec = self.specs[spec_id]
        by_setting = {
            "all": lambda: set(self.accounts),
            "enterprise": lambda: self._of_type("enterprise"),
            "individual": lambda: self._of_type("individual"),
            "specified": lambda: set(spec.users),
            "associated": lambda: self._buyers_of_specs(spec.associated),
        }
        return by_setting[spec.setting]()

    def spec_audience(self, spec_id: str) -> set[str]:
        spec = self.specs[spec_id]
        product_audience = self.product_audience(spec.product)
        if spec.setting == "same_as_product":
            return product_audience
        return product_audience & self.own_audience(spec_id)

    # --- R12 ------------------------------------------------------------------------------

    def decide(self, account_id: str, spec_id: str) -> tuple[bool, str, str | None]:
        """(allowed, reason, level): the product level is judged first."""
        if spec_id not in self.specs:
            return False, "specification_not_found", None
        if account_id not in self.accounts:
            return False, "account_not_found", None
        spec = self.specs[spec_id]
        product = self.products[spec.product]
        if account_id not in self.product_audience(spec.product):
            return False, REFUSAL[product.target], "product"
        if spec.setting == "same_as_product":
            return True, "allowed", "product"
        if account_id not in self.own_audience(spec_id):
            return False, REFUSAL[spec.setting], "specification"
        assert account_id in self.spec_audience(spec_id)
        return True, "allowed", "specification"
