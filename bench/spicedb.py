"""SpiceDB as a peer: the real SpiceDB (v1.54.0, embedded in this process through the
`spicedb-embedded` binding, spoken to with its standard gRPC messages) on its in-memory
datastore, the only one the embedded build can use without a migrated database.

Set-up is `bench.spicedb_setup` (binding from PyPI, native library from npm, nothing committed).

The model (`schema()`) keeps every fact a seller or buyer enters as its own relationship, as a
platform team would feed them from their write path, and lets the target choose which counts:

- `product:P#specified_user`, `#associated_product` (R5, R7) and `specification:S#...` (R5,
  R8): the lists, kept whatever the target, so that an inactive list is stored but not read.
- `specification:S#buyer@account:X`: a paid, not refunded, order (R10). A product's buyers are
  derived (`purchased = specification->buyer`): buying a specification counts as buying its
  product, and one order is one relationship.
- `product:P#audience` / `specification:S#narrowing`: the target or setting, as exactly one
  relationship pointing at the audience it selects: `account:*` for `all` (and for
  `same_as_product`), the owner's own `#specified_user` or `#associated_buyer` subject set, or
  an account type. Changing a target rewrites that one relationship; the lists stay.
- `specification#buy = product->buy & narrowing`: R3's intersection, a setting only narrows.

Account types come in two models. `caveat` (the default): `account:*` under the caveat
`account_type_is`, the account's current type passed in each check's context from the
caller's account record (R6: judged by its current type). `relationships`:
`account_type:T#member@account:X` for every account. Both answer the same; the caveat is much
faster here because the in-memory datastore answers every lookup by scanning all
relationships with the same resource type and relation, and `account_type#member` holds one
per account.

The decision (R12) is derived from which part fails, the product level first: `product:P#buy`
for the product level; when that admits and the specification has an explicit setting,
`specification:S#narrowing` for the specification level. The refusal reason is named by the
target or setting that failed (held by the peer, as every peer does). `decide` asks with
`CheckPermission` (one or two calls); `decide_many` asks both levels of every pair in one
`CheckBulkPermissions` request. Unknown IDs are answered from the peer's own dictionaries
before SpiceDB is asked, like the other peers: SpiceDB answers "no permission" for an object
it has never seen and cannot tell unknown from refused.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from bench import spicedb_setup
from bench.memory import rss_bytes
from bench.peers import NO_ACCOUNT, NO_SPEC, REFUSAL, Answer
from bench.report import Report, Row, chunks, disagreements
from bench.world import World

AccountTypes = Literal["caveat", "relationships"]

# Where the two account-type models differ: (extra definitions, the type audience's subject type).
_TYPE_MODELS: dict[AccountTypes, tuple[str, str]] = {
    "caveat": (
        """
/** R3: an account's type is the caller's record of it, compared here at check time. */
caveat account_type_is(account_type string, wanted string) {
    account_type == wanted
}
""",
        "account:* with account_type_is",
    ),
    "relationships": (
        """
/** R3: accounts of one type, one relationship per account. */
definition account_type {
    relation member: account
}
""",
        "account_type#member",
    ),
}


def schema(account_types: AccountTypes = "caveat") -> str:
    definitions, by_type = _TYPE_MODELS[account_types]

    def audience(owner: str) -> str:  # one line: the schema language allows no break in it
        return f"account:* | {by_type} | {owner}#specified_user | {owner}#associated_buyer"

    return f"""
definition account {{}}
{definitions}
definition product {{
    relation specification: specification
    relation specified_user: account
    relation associated_product: product
    /** The target: one relationship to the audience it selects. */
    relation audience: {audience("product")}

    /** R10: a paid order of any of its specifications. */
    permission purchased = specification->buyer
    permission associated_buyer = associated_product->purchased
    permission buy = audience
}}

definition specification {{
    relation product: product
    relation specified_user: account
    relation associated_specification: specification
    relation buyer: account
    /** The setting: `account:*` for same_as_product and all, else as a product's audience. */
    relation narrowing: {audience("specification")}

    permission associated_buyer = associated_specification->buyer
    permission buy = product->buy & narrowing
}}
"""


WRITE_LIMIT = 1_000  # SpiceDB's default maximum of updates in one WriteRelationships call
BULK_LIMIT = 1_000  # items per CheckBulkPermissions request
_NO_PERMISSION = 1  # CheckPermissionResponse.PERMISSIONSHIP_NO_PERMISSION
_HAS_PERMISSION = 2  # CheckPermissionResponse.PERMISSIONSHIP_HAS_PERMISSION

# (resource type, resource ID), relation, (subject type, subject ID, subject relation or ""),
# caveat's `wanted` type or None
Fact = tuple[tuple[str, str], str, tuple[str, str, str], str | None]


def _api() -> tuple[Any, Any, Any]:
    """The binding, the API messages and protobuf's Struct, once set-up found the library."""
    spicedb_setup.ensure(install=False)
    binding = importlib.import_module("spicedb_embedded")
    # 0.7.1 declares the error-string free as taking `char *` but hands it an int, so every
    # error SpiceDB reports would surface as a ctypes TypeError; declare it as a pointer.
    library = importlib.import_module("spicedb_embedded.ffi")._get_lib()
    library.spicedb_free.argtypes = [ctypes.c_void_p]
    struct = importlib.import_module("google.protobuf.struct_pb2").Struct
    return binding, importlib.import_module("authzed.api.v1"), struct


class SpiceDB:
    """One embedded SpiceDB on its in-memory datastore, loaded with the world."""

    def __init__(self, world: World, *, account_types: AccountTypes = "caveat") -> None:
        binding, self._v1, self._struct = _api()
        v1 = self._v1
        self.account_types = account_types
        self.name = "SpiceDB embedded" + (
            "" if account_types == "caveat" else ", account types as relationships"
        )
        gc.collect()
        before = rss_bytes()
        started = time.perf_counter()
        self._engine: Any = binding.EmbeddedSpiceDB.start()
        self._permissions: Any = self._engine.permissions()
        self._engine.schema().WriteSchema(v1.WriteSchemaRequest(schema=schema(account_types)))
        self.relationships = 0
        self._last_written: Any = None
        batch: list[Any] = []
        for fact in _facts(world, account_types):
            batch.append(self._update(*fact))
            if len(batch) == WRITE_LIMIT:
                self._write(batch)
                batch = []
        if batch:
            self._write(batch)
        self.load_seconds = time.perf_counter() - started
        gc.collect()
        self.rss_growth = rss_bytes() - before
        # The caller's account records: ID -> the check context that carries its type.
        self._contexts = {
            account_id: self._context({"account_type": kind})
            for account_id, _, kind in world.accounts
        }
        # specification ID -> (product ID, product target, specification setting)
        self.specs = {
            s.specification_id: (
                world.products[s.product].product_id,
                world.products[s.product].target,
                s.setting,
            )
            for s in world.specs.values()
        }
        self.consistency(fully_consistent=True)

    def consistency(self, *, fully_consistent: bool) -> None:
        """Read at the newest revision (`fully_consistent`) or at a recent one SpiceDB may
        already have cached results for (`minimize_latency`)."""
        self.fully_consistent = fully_consistent
        self._consistency = (
            self._v1.Consistency(fully_consistent=True)
            if fully_consistent
            else self._v1.Consistency(minimize_latency=True)
        )
        if not fully_consistent:
            self._until_loaded_world_is_read()

    def _until_loaded_world_is_read(self, timeout_s: float = 60) -> None:
        """`minimize_latency` reads a revision SpiceDB rounds down (by its quantization
        interval, seconds), which may precede the load's last writes: right after a load it
        refuses buyers the world admits. Wait until that revision holds the last relationship
        written, and so every one before it: the peer is then timed on the whole world."""
        last = self._last_written
        if last is None:
            return
        deadline = time.monotonic() + timeout_s
        request = self._v1.CheckPermissionRequest(
            consistency=self._consistency,
            resource=last.resource,
            permission=last.relation,
            subject=last.subject,
        )
        while self._permissions.CheckPermission(request).permissionship == _NO_PERMISSION:
            if time.monotonic() > deadline:
                raise RuntimeError(f"SpiceDB never read its own writes in {timeout_s:g} s")
            time.sleep(0.1)

    def _context(self, values: dict[str, str]) -> Any:
        context = self._struct()
        context.update(values)
        return context

    def _update(
        self,
        resource: tuple[str, str],
        relation: str,
        subject: tuple[str, str, str],
        wanted: str | None,
    ) -> Any:
        v1 = self._v1
        caveat = None
        if wanted is not None:
            caveat = v1.ContextualizedCaveat(
                caveat_name="account_type_is", context=self._context({"wanted": wanted})
            )
        return v1.RelationshipUpdate(
            operation=v1.RelationshipUpdate.Operation.OPERATION_CREATE,
            relationship=v1.Relationship(
                resource=v1.ObjectReference(object_type=resource[0], object_id=resource[1]),
                relation=relation,
                subject=v1.SubjectReference(
                    object=v1.ObjectReference(object_type=subject[0], object_id=subject[1]),
                    optional_relation=subject[2],
                ),
                optional_caveat=caveat,
            ),
        )

    def _write(self, batch: list[Any]) -> None:
        self._permissions.WriteRelationships(self._v1.WriteRelationshipsRequest(updates=batch))
        self.relationships += len(batch)
        self._last_written = batch[-1].relationship

    # --- decisions ------------------------------------------------------------------------

    def _item(self, kind: str, object_id: str, permission: str, account_id: str) -> Any:
        """The fields of one check; the caveat's context is sent in either model (unused by
        the relationships one) so that both do the same work on the way in."""
        v1 = self._v1
        return {
            "resource": v1.ObjectReference(object_type=kind, object_id=object_id),
            "permission": permission,
            "subject": v1.SubjectReference(
                object=v1.ObjectReference(object_type="account", object_id=account_id)
            ),
            "context": self._contexts[account_id],
        }

    def _check(self, kind: str, object_id: str, permission: str, account_id: str) -> bool:
        reply = self._permissions.CheckPermission(
            self._v1.CheckPermissionRequest(
                consistency=self._consistency,
                **self._item(kind, object_id, permission, account_id),
            )
        )
        return bool(reply.permissionship == _HAS_PERMISSION)

    def decide(self, account_id: str, spec_id: str) -> Answer:
        spec = self.specs.get(spec_id)
        if spec is None:
            return NO_SPEC
        if account_id not in self._contexts:
            return NO_ACCOUNT
        product_id, target, setting = spec
        if not self._check("product", product_id, "buy", account_id):
            return (False, _refusal(target), "product")
        if setting == "same_as_product":
            return (True, "allowed", "product")
        if not self._check("specification", spec_id, "narrowing", account_id):
            return (False, _refusal(setting), "specification")
        return (True, "allowed", "specification")

    def decide_many(self, pairs: list[tuple[str, str]]) -> list[Answer]:
        """Both levels of every known pair, in requests of up to `BULK_LIMIT` items."""
        item = self._v1.CheckBulkPermissionsRequestItem
        answers: list[Answer | None] = []
        items: list[Any] = []
        asked: list[tuple[int, bool]] = []  # (pair index, has a specification-level item)
        for account_id, spec_id in pairs:
            spec = self.specs.get(spec_id)
            if spec is None or account_id not in self._contexts:
                answers.append(NO_SPEC if spec is None else NO_ACCOUNT)
                continue
            product_id, _, setting = spec
            items.append(item(**self._item("product", product_id, "buy", account_id)))
            narrowed = setting != "same_as_product"
            if narrowed:
                items.append(item(**self._item("specification", spec_id, "narrowing", account_id)))
            asked.append((len(answers), narrowed))
            answers.append(None)
        results = iter(self._check_bulk(items))
        for index, narrowed in asked:
            _, target, setting = self.specs[pairs[index][1]]
            at_product = next(results)
            at_spec = next(results) if narrowed else True
            if not at_product:
                answers[index] = (False, _refusal(target), "product")
            elif not narrowed:
                answers[index] = (True, "allowed", "product")
            elif not at_spec:
                answers[index] = (False, _refusal(setting), "specification")
            else:
                answers[index] = (True, "allowed", "specification")
        return [answer for answer in answers if answer is not None]

    def _check_bulk(self, items: list[Any]) -> Iterator[bool]:
        for start in range(0, len(items), BULK_LIMIT):
            reply = self._permissions.CheckBulkPermissions(
                self._v1.CheckBulkPermissionsRequest(
                    consistency=self._consistency, items=items[start : start + BULK_LIMIT]
                )
            )
            for pair in reply.pairs:
                if pair.HasField("error"):
                    raise RuntimeError(f"SpiceDB check failed: {pair.error.message}")
                yield pair.item.permissionship == _HAS_PERMISSION

    def buys(self, account_id: str, spec_id: str) -> bool:
        """The model's one permission, `specification#buy` (R3 whole): for tests."""
        return self._check("specification", spec_id, "buy", account_id)

    def close(self) -> None:
        self._engine.close()


def _refusal(audience: str) -> str:
    """R12's reason for a level SpiceDB refused at; where the level's target refuses nobody,
    a reason no rule gives, so that the run reports the disagreement."""
    return REFUSAL.get(audience, f"refused although {audience}")


def _facts(world: World, account_types: AccountTypes) -> Iterator[Fact]:
    """Every relationship the world makes."""
    account_ids = [account_id for account_id, _, _ in world.accounts]
    if account_types == "relationships":
        for account_id, _, kind in world.accounts:
            yield ("account_type", kind), "member", ("account", account_id, ""), None
    products, specs = world.products, world.specs
    for product in products.values():
        here = ("product", product.product_id)
        yield here, "audience", *_audience(product.target, here, account_types)
        for pk in product.users:
            yield here, "specified_user", ("account", account_ids[pk - 1], ""), None
        for pk in product.associated:
            yield here, "associated_product", ("product", products[pk].product_id, ""), None
        for pk in product.specs:
            yield here, "specification", ("specification", specs[pk].specification_id, ""), None
    for spec in specs.values():
        here = ("specification", spec.specification_id)
        yield here, "product", ("product", products[spec.product].product_id, ""), None
        yield here, "narrowing", *_audience(spec.setting, here, account_types)
        for pk in spec.users:
            yield here, "specified_user", ("account", account_ids[pk - 1], ""), None
        for pk in spec.associated:
            linked = ("specification", specs[pk].specification_id, "")
            yield here, "associated_specification", linked, None
    # R10: a paid order counts; a refunded one does not; two paid orders are one purchase.
    bought = {(account, spec) for account, spec, _, status in world.orders if status == "paid"}
    for account, spec_pk in sorted(bought):
        here = ("specification", specs[spec_pk].specification_id)
        yield here, "buyer", ("account", account_ids[account - 1], ""), None


def _audience(
    target: str, owner: tuple[str, str], account_types: AccountTypes
) -> tuple[tuple[str, str, str], str | None]:
    """The subject (and caveat's wanted type) a target or setting points its audience at."""
    if target in ("all", "same_as_product"):
        return ("account", "*", ""), None
    if target in ("enterprise", "individual"):
        if account_types == "caveat":
            return ("account", "*", ""), target
        return ("account_type", target, "member"), None
    relation = "specified_user" if target == "specified" else "associated_buyer"
    return (owner[0], owner[1], relation), None


# --- in the benchmark -----------------------------------------------------------------------


def _timed(
    decide_all: Callable[[], list[Answer]], expected: list[Answer], repeat: int, name: str
) -> tuple[float, float, int]:
    """(median rate, first run's rate, disagreements): every run is held to offerscope's
    answers, the first included, since SpiceDB may answer a repeated check from its cache."""
    rates, wrong = [], 0
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        got = decide_all()
        rates.append(len(expected) / (time.perf_counter() - started))
        wrong = max(wrong, disagreements(expected, got, name))
    return statistics.median(rates), rates[0], wrong


def _load(report: Report, world: World, account_types: AccountTypes) -> SpiceDB | None:
    """The loaded peer, or None with a skip line when the native SpiceDB fails to start."""
    try:
        return SpiceDB(world, account_types=account_types)
    except Exception as error:  # a broken native build must not end the whole benchmark
        print(f"(SpiceDB skipped: {error.__class__.__name__}: {error})", file=sys.stderr)
        report.figures.append(("SpiceDB", f"not measured: {error.__class__.__name__}: {error}"))
        return None


def bench_spicedb(
    report: Report,
    world: World,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
    sample_size: int,
) -> None:
    """SpiceDB's rows and figures, on the first `sample_size` checks; a skip line instead when
    it cannot be set up here."""
    try:
        spicedb_setup.ensure()
    except spicedb_setup.Unavailable as error:
        print(f"(SpiceDB skipped: {error})", file=sys.stderr)
        report.figures.append(("SpiceDB", f"not measured: {error}"))
        return
    sample, wanted = pairs[:sample_size], expected[:sample_size]
    print(f"SpiceDB: loading the scale {world.scale:g} world", file=sys.stderr)
    peer = _load(report, world, "caveat")
    if peer is None:
        return
    report.figures.append(
        (
            "SpiceDB load time (embedded, in-memory datastore, WriteRelationships "
            f"{WRITE_LIMIT:,} a call)",
            f"{peer.load_seconds:.1f} s for {peer.relationships:,} relationships",
        )
    )
    report.figures.append(
        (
            "SpiceDB memory",
            f"{peer.rss_growth / 2**20:,.0f} MB resident growth of the process "
            "(Go runtime, native library and data)",
        )
    )
    try:
        for fully_consistent in (True, False):
            peer.consistency(fully_consistent=fully_consistent)
            _rows(report, peer, sample, wanted, repeat, single=True)
    finally:
        peer.close()
    # What the caveat saves: the same checks with account types as relationships.
    peer = _load(report, world, "relationships")
    if peer is not None:
        try:
            _rows(report, peer, sample[:200], wanted[:200], repeat, single=False)
        finally:
            peer.close()


def _rows(
    report: Report,
    peer: SpiceDB,
    sample: list[tuple[str, str]],
    wanted: list[Answer],
    repeat: int,
    *,
    single: bool,
) -> None:
    """A CheckBulkPermissions row (and a CheckPermission one if `single`) at the peer's
    consistency."""
    mode = "fully_consistent" if peer.fully_consistent else "minimize_latency"
    where = f"sample of {len(sample):,}, {repeat} runs"
    if peer.account_types == "relationships":
        where += f"; loaded in {peer.load_seconds:.1f} s"
    if single:
        name = f"{peer.name} (CheckPermission, {mode})"
        rate, first, wrong = _timed(
            lambda: [peer.decide(a, s) for a, s in sample], wanted, repeat, name
        )
        report.rows.append(
            Row(name, "single", len(sample), rate, wrong, f"{where}; first {first:,.0f}/s")
        )
    batch = BULK_LIMIT // 2  # pairs a request: up to two items each
    name = f"{peer.name} (CheckBulkPermissions, {mode})"
    rate, first, wrong = _timed(
        lambda: [a for part in chunks(sample, batch) for a in peer.decide_many(list(part))],
        wanted,
        repeat,
        name,
    )
    note = f"{where}; first {first:,.0f}/s; {batch:,} pairs a request"
    report.rows.append(Row(name, "batch", len(sample), rate, wrong, note))
