"""What a team would otherwise use, each modelling R3/R10/R12 on its own (none calls offerscope).

Every peer answers a check with (allowed, reason, level) so that the run can hold it to
offerscope's answer, reason and level included.

- `PlainPython`: dicts and sets, one closure per specification compiled ahead: the ceiling.
- `Sqlite`: one indexed SQL query per decision over offerscope's own tables.
- `Casbin`: a role model (account -> type/list/bought roles), one policy set per level.
- `Cedar`: entities (accounts in groups, specifications in products) and forbid policies
  whose IDs name the reason.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.world import World

Answer = tuple[bool, str, str | None]

REFUSAL = {
    "enterprise": "not_enterprise_user",
    "individual": "not_individual_user",
    "specified": "not_specified_user",
    "associated": "no_associated_purchase",
}
NO_SPEC: Answer = (False, "specification_not_found", None)
NO_ACCOUNT: Answer = (False, "account_not_found", None)


def _buyers(world: World) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """R10: accounts with at least one paid order, per product and per specification."""
    by_product: dict[int, set[int]] = {}
    by_spec: dict[int, set[int]] = {}
    for account, spec, product, status in world.orders:
        if status == "paid":
            by_product.setdefault(product, set()).add(account)
            by_spec.setdefault(spec, set()).add(account)
    return by_product, by_spec


# --- plain Python ---------------------------------------------------------------------------


class PlainPython:
    """The ceiling: everything precomputed into sets, one closure per specification."""

    name = "plain Python, compiled ahead"

    def __init__(self, world: World) -> None:
        by_product, by_spec = _buyers(world)
        self.types = {pk: kind for pk, (_, _, kind) in enumerate(world.accounts, 1)}
        self.accounts = {account_id: pk for pk, (account_id, _, _) in enumerate(world.accounts, 1)}
        self.checks: dict[str, Callable[[int], Answer]] = {}
        for spec in world.specs.values():
            product = world.products[spec.product]
            at_product = self._audience(
                product.target, set(product.users), product.associated, by_product
            )
            at_spec = None
            if spec.setting != "same_as_product":
                at_spec = self._audience(spec.setting, set(spec.users), spec.associated, by_spec)
            self.checks[spec.specification_id] = self._compile(
                at_product, product.target, at_spec, spec.setting
            )

    def _audience(
        self, target: str, listed: set[int], linked: list[int], buyers: dict[int, set[int]]
    ) -> Callable[[int], bool] | None:
        types = self.types
        if target == "all":
            return None
        if target in ("enterprise", "individual"):
            return lambda pk: types[pk] == target
        if target == "specified":
            return listed.__contains__
        union: set[int] = set().union(*(buyers.get(pk, set()) for pk in linked))
        return union.__contains__

    @staticmethod
    def _compile(
        at_product: Callable[[int], bool] | None,
        target: str,
        at_spec: Callable[[int], bool] | None,
        setting: str,
    ) -> Callable[[int], Answer]:
        product_no: Answer = (False, REFUSAL.get(target, ""), "product")
        spec_no: Answer = (False, REFUSAL.get(setting, ""), "specification")
        yes: Answer = (
            True,
            "allowed",
            "product" if setting == "same_as_product" else "specification",
        )

        def check(pk: int) -> Answer:
            if at_product is not None and not at_product(pk):
                return product_no
            if at_spec is not None and not at_spec(pk):
                return spec_no
            return yes

        return check

    def decide(self, account_id: str, spec_id: str) -> Answer:
        check = self.checks.get(spec_id)
        if check is None:
            return NO_SPEC
        pk = self.accounts.get(account_id)
        return NO_ACCOUNT if pk is None else check(pk)

    def decide_many(self, pairs: list[tuple[str, str]]) -> list[Answer]:
        checks, accounts = self.checks, self.accounts
        out: list[Answer] = []
        for account_id, spec_id in pairs:
            check = checks.get(spec_id)
            if check is None:
                out.append(NO_SPEC)
                continue
            pk = accounts.get(account_id)
            out.append(NO_ACCOUNT if pk is None else check(pk))
        return out


# --- sqlite3 --------------------------------------------------------------------------------

_AUDIENCE_SQL = """
CASE {column}
  WHEN 'all' THEN 1
  WHEN 'enterprise' THEN a.account_type = 'enterprise'
  WHEN 'individual' THEN a.account_type = 'individual'
  WHEN 'specified' THEN EXISTS (
    SELECT 1 FROM lists l JOIN list_entries u ON u.list_pk = l.pk
    WHERE l.{owner} = {owner_pk} AND u.account_pk = a.pk)
  WHEN 'associated' THEN EXISTS (
    SELECT 1 FROM {links} x JOIN orders o ON o.{bought} = x.{linked}
    WHERE x.{owner} = {owner_pk} AND o.account_pk = a.pk AND o.status = 'paid')
  ELSE 1
END"""

DECISION_SQL = f"""
SELECT s.pk IS NOT NULL, a.pk IS NOT NULL, p.target, s.setting,
  {
    _AUDIENCE_SQL.format(
        column="p.target",
        owner="product_pk",
        owner_pk="p.pk",
        links="product_associations",
        bought="product_pk",
        linked="associated_product_pk",
    )
},
  {
    _AUDIENCE_SQL.format(
        column="s.setting",
        owner="specification_pk",
        owner_pk="s.pk",
        links="specification_associations",
        bought="specification_pk",
        linked="associated_specification_pk",
    )
}
FROM (SELECT 1)
LEFT JOIN specifications s ON s.specification_id = ?
LEFT JOIN products p ON p.pk = s.product_pk
LEFT JOIN accounts a ON a.account_id = ?
"""


class Sqlite:
    """One query per decision, over offerscope's SQLite file, read-only."""

    name = "sqlite3, one indexed query per decision"

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def decide(self, account_id: str, spec_id: str) -> Answer:
        found_spec, found_account, target, setting, in_product, in_spec = self.connection.execute(
            DECISION_SQL, (spec_id, account_id)
        ).fetchone()
        if not found_spec:
            return NO_SPEC
        if not found_account:
            return NO_ACCOUNT
        if not in_product:
            return (False, REFUSAL[target], "product")
        if setting == "same_as_product":
            return (True, "allowed", "product")
        if not in_spec:
            return (False, REFUSAL[setting], "specification")
        return (True, "allowed", "specification")

    def close(self) -> None:
        self.connection.close()


# --- casbin ---------------------------------------------------------------------------------

CASBIN_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && (p.sub == "*" || g(r.sub, p.sub))
"""


def _roles(world: World) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(policies, groupings): who may reach each product (P:) and specification (S:)."""
    by_product, by_spec = _buyers(world)
    groupings = [(f"{pk}", f"type:{kind}") for pk, (_, _, kind) in enumerate(world.accounts, 1)]
    for product in world.products.values():
        groupings += [(f"{a}", f"list:P{product.pk}") for a in product.users]
    for spec in world.specs.values():
        groupings += [(f"{a}", f"list:S{spec.pk}") for a in spec.users]
    for pk, accounts in by_product.items():
        groupings += [(f"{a}", f"bought:P{pk}") for a in accounts]
    for pk, accounts in by_spec.items():
        groupings += [(f"{a}", f"bought:S{pk}") for a in accounts]
    policies: list[tuple[str, str]] = []
    for product in world.products.values():
        policies += _grants(product.target, f"P{product.pk}", "P", product.associated)
    for spec in world.specs.values():
        if spec.setting != "same_as_product":
            policies += _grants(spec.setting, f"S{spec.pk}", "S", spec.associated)
    return policies, groupings


def _grants(target: str, obj: str, kind: str, linked: list[int]) -> list[tuple[str, str]]:
    if target == "all":
        return [("*", obj)]
    if target in ("enterprise", "individual"):
        return [(f"type:{target}", obj)]
    if target == "specified":
        return [(f"list:{obj}", obj)]
    return [(f"bought:{kind}{pk}", obj) for pk in linked]


class Casbin:
    """casbin's FastEnforcer (policies filtered by object), or the plain Enforcer."""

    def __init__(self, world: World, *, fast: bool = True) -> None:
        import casbin  # type: ignore[import-untyped]

        self.name = "casbin FastEnforcer" if fast else "casbin Enforcer (plain)"
        policies, groupings = _roles(world)
        self._directory = tempfile.TemporaryDirectory()
        model = Path(self._directory.name) / "model.conf"
        model.write_text(CASBIN_MODEL)
        rules = Path(self._directory.name) / "policy.csv"
        with rules.open("w") as target:
            target.writelines(f"p, {sub}, {obj}\n" for sub, obj in policies)
            target.writelines(f"g, {who}, {role}\n" for who, role in groupings)
        if fast:
            self.enforcer = casbin.FastEnforcer(str(model), str(rules), cache_key_order=[1])
        else:
            self.enforcer = casbin.Enforcer(str(model), str(rules))
        self.accounts = {
            account_id: f"{pk}" for pk, (account_id, _, _) in enumerate(world.accounts, 1)
        }
        self.specs = {s.specification_id: s for s in world.specs.values()}
        self.targets = {p.pk: p.target for p in world.products.values()}

    def decide(self, account_id: str, spec_id: str) -> Answer:
        spec = self.specs.get(spec_id)
        if spec is None:
            return NO_SPEC
        who = self.accounts.get(account_id)
        if who is None:
            return NO_ACCOUNT
        target = self.targets[spec.product]
        if not self.enforcer.enforce(who, f"P{spec.product}"):
            return (False, REFUSAL[target], "product")
        if spec.setting == "same_as_product":
            return (True, "allowed", "product")
        if not self.enforcer.enforce(who, f"S{spec.pk}"):
            return (False, REFUSAL[spec.setting], "specification")
        return (True, "allowed", "specification")

    def close(self) -> None:
        self._directory.cleanup()


# --- cedar ----------------------------------------------------------------------------------


def _cedar_condition(target: str, owner: str, kind: str, linked: list[int]) -> str | None:
    """The `unless` clause that admits R3's audience; None for everyone."""
    if target == "all":
        return None
    if target in ("enterprise", "individual"):
        return f'principal in Group::"type:{target}"'
    if target == "specified":
        return f'principal in Group::"list:{owner}"'
    if not linked:
        return "false"
    return " || ".join(f'principal in Group::"bought:{kind}{pk}"' for pk in linked)


class Cedar:
    """cedarpy with the policy set and every entity parsed once, ahead of the checks."""

    name = "cedarpy (policies and entities preloaded)"

    def __init__(self, world: World) -> None:
        import cedarpy

        self._cedarpy = cedarpy
        by_product, by_spec = _buyers(world)
        parents: dict[int, list[str]] = {
            pk: [f"type:{kind}"] for pk, (_, _, kind) in enumerate(world.accounts, 1)
        }
        for product in world.products.values():
            for a in product.users:
                parents[a].append(f"list:P{product.pk}")
        for spec in world.specs.values():
            for a in spec.users:
                parents[a].append(f"list:S{spec.pk}")
        for pk, accounts in by_product.items():
            for a in accounts:
                parents[a].append(f"bought:P{pk}")
        for pk, accounts in by_spec.items():
            for a in accounts:
                parents[a].append(f"bought:S{pk}")
        groups = sorted({g for names in parents.values() for g in names})
        entities: list[dict[str, Any]] = [
            {"uid": {"type": "Group", "id": g}, "attrs": {}, "parents": []} for g in groups
        ]
        entities += [
            {
                "uid": {"type": "Account", "id": str(pk)},
                "attrs": {},
                "parents": [{"type": "Group", "id": g} for g in names],
            }
            for pk, names in parents.items()
        ]
        entities += [
            {"uid": {"type": "Product", "id": f"P{p.pk}"}, "attrs": {}, "parents": []}
            for p in world.products.values()
        ]
        entities += [
            {
                "uid": {"type": "Spec", "id": f"S{s.pk}"},
                "attrs": {},
                "parents": [{"type": "Product", "id": f"P{s.product}"}],
            }
            for s in world.specs.values()
        ]
        # Every policy's position names the reason it refuses with: policyN -> (reason, level).
        policies = ["permit(principal, action, resource);"]
        self.reasons: dict[str, tuple[str, str]] = {}
        for product in world.products.values():
            unless = _cedar_condition(product.target, f"P{product.pk}", "P", product.associated)
            if unless is not None:
                self.reasons[f"policy{len(policies)}"] = (REFUSAL[product.target], "product")
                policies.append(
                    f'forbid(principal, action, resource in Product::"P{product.pk}") '
                    f"unless {{ {unless} }};"
                )
        for spec in world.specs.values():
            if spec.setting == "same_as_product":
                continue
            unless = _cedar_condition(spec.setting, f"S{spec.pk}", "S", spec.associated)
            if unless is not None:
                self.reasons[f"policy{len(policies)}"] = (REFUSAL[spec.setting], "specification")
                policies.append(
                    f'forbid(principal, action, resource == Spec::"S{spec.pk}") '
                    f"unless {{ {unless} }};"
                )
        self.policies = cedarpy.PolicySet.from_str("\n".join(policies))
        self.entities = cedarpy.Entities.from_json_str(json.dumps(entities))
        self.accounts = {
            account_id: str(pk) for pk, (account_id, _, _) in enumerate(world.accounts, 1)
        }
        self.specs = {s.specification_id: s for s in world.specs.values()}

    def _request(self, account_id: str, spec_id: str) -> dict[str, Any] | Answer:
        spec = self.specs.get(spec_id)
        if spec is None:
            return NO_SPEC
        who = self.accounts.get(account_id)
        if who is None:
            return NO_ACCOUNT
        return {
            "principal": {"type": "Account", "id": who},
            "action": {"type": "Action", "id": "buy"},
            "resource": {"type": "Spec", "id": f"S{spec.pk}"},
            "context": {},
        }

    def _answer(self, spec_id: str, result: Any) -> Answer:
        if result.allowed:
            level = (
                "product" if self.specs[spec_id].setting == "same_as_product" else "specification"
            )
            return (True, "allowed", level)
        found = [self.reasons[r] for r in result.diagnostics.reasons if r in self.reasons]
        found.sort(key=lambda reason: reason[1] != "product")  # R12: the product level first
        reason, level = found[0]
        return (False, reason, level)

    def decide(self, account_id: str, spec_id: str) -> Answer:
        request = self._request(account_id, spec_id)
        if isinstance(request, tuple):
            return request
        result = self._cedarpy.is_authorized(request, self.policies, self.entities)
        return self._answer(spec_id, result)

    def decide_many(self, pairs: list[tuple[str, str]]) -> list[Answer]:
        requests = [self._request(a, s) for a, s in pairs]
        asked = [(i, r) for i, r in enumerate(requests) if not isinstance(r, tuple)]
        results = self._cedarpy.is_authorized_batch(
            [r for _, r in asked], self.policies, self.entities
        )
        answers: list[Any] = list(requests)
        for (i, _), result in zip(asked, results, strict=True):
            answers[i] = self._answer(pairs[i][1], result)
        return answers
