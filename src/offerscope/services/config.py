"""R19: configuration as code. A seller's whole target-customer state as one document, and
the use case that makes the state equal to a document in one transaction.

The document names products and specifications by ID (names are information only); it never
creates or deletes them (the catalog is separate). Applying it works out a plan (the changes,
in memory, from the state read in the same transaction) and carries each change out through
the very use cases of single edits (`targets.change_*`, `specified_users.add_entry`...), so
R2, R4, R5, R6, R7, R8 and R16 are judged exactly as for one edit, and R13 records each.

What a document leaves out stays as it is:
- a product or specification not named is untouched;
- a `target`/`setting` left out (None) is kept;
- a list or association set left out (None) is kept, even under prune;
- without prune, a list or association set the document gives is only added to: entries and
  associations it gives are added (or their window changed), nothing is removed;
- with `prune`, every list and association set the document gives becomes exactly what it
  gives: entries and associations not in it are removed.
An entry already on a list is kept by its account ID; its name stays as entered (R5).

R4 in a document: a product target change that leaves a specification on a setting the new
target does not allow is refused (409 `conflicting_specifications`) unless the document also
changes that specification's setting; then the specification is reset (as with
`reset_conflicting_specifications`) and set as the document says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from offerscope.domain.errors import Invalid, NotFound, PreconditionFailed
from offerscope.domain.impact import Impact
from offerscope.domain.names import normalize_account_id, normalize_account_name
from offerscope.domain.targets import Setting, Target, conflicting_specifications
from offerscope.domain.targets import SpecificationSetting as SpecSetting
from offerscope.domain.windows import Window, read_window
from offerscope.services import associations, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.services.ownership import (
    PRODUCT_NOT_FOUND,
    SPECIFICATION_NOT_FOUND,
    Owner,
    own_product,
    owner,
)
from offerscope.storage import config as stored
from offerscope.storage.unit_of_work import Database, UnitOfWork

VERSION = 1

Op = Literal["add", "remove", "change"]
Kind = Literal["target", "setting", "specified_user", "association"]


# --- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDoc:
    """One specified user as a document gives it (R5 with R16's window, as text)."""

    account_id: str
    account_name: str
    valid_from: str | None = None
    valid_until: str | None = None


@dataclass(frozen=True)
class OwnerDoc:
    """A product or a specification as a document gives it; None leaves a part as it is."""

    id: str
    setting: str | None = None  # a product's target, a specification's setting
    entries: list[EntryDoc] | None = None
    associated: list[str] | None = None


@dataclass(frozen=True)
class ProductDoc:
    product: OwnerDoc
    specifications: list[OwnerDoc] = field(default_factory=list)


@dataclass(frozen=True)
class ConfigDoc:
    products: list[ProductDoc]
    prune: bool = False
    based_on: str | None = None


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    """One line of a plan: + added, - removed, ~ changed."""

    op: Op
    kind: Kind
    product_id: str
    specification_id: str | None
    subject: str | None  # the account or the associated product/specification
    before: Any
    after: Any


@dataclass(frozen=True)
class ConfigState:
    """A seller's state as a document (JSON-ready), and its fingerprint."""

    document: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True)
class ConfigResult:
    changes: list[ConfigChange]
    based_on: str  # the fingerprint of the state the plan was made on
    fingerprint: str  # the state's fingerprint after the changes
    impact: Impact | None = None


# --- export -------------------------------------------------------------------------------


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _entry_json(entry: stored.StoredEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"account_id": entry.account_id, "account_name": entry.account_name}
    if entry.valid_from is not None:
        item["valid_from"] = _moment(entry.valid_from)
    if entry.valid_until is not None:
        item["valid_until"] = _moment(entry.valid_until)
    return item


def _document(state: list[stored.StoredProduct]) -> dict[str, Any]:
    return {
        "version": VERSION,
        "products": [
            {
                "product_id": p.product.public_id,
                "name": p.product.name,
                "target": p.product.setting,
                "specified_users": [_entry_json(e) for e in p.product.entries],
                "associated_products": list(p.product.associated),
                "specifications": [
                    {
                        "specification_id": s.public_id,
                        "name": s.name,
                        "setting": s.setting,
                        "specified_users": [_entry_json(e) for e in s.entries],
                        "associated_specifications": list(s.associated),
                    }
                    for s in p.specifications
                ],
            }
            for p in state
        ],
    }


def fingerprint_of(document: dict[str, Any]) -> str:
    """A digest of the whole state: any change to it changes the fingerprint."""
    return (
        "sha256:" + hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    )


def _state(uow: UnitOfWork, actor: Actor) -> tuple[list[stored.StoredProduct], ConfigState]:
    assert actor.seller_pk is not None, "config is a seller's"
    products = stored.seller_state(uow.session, actor.seller_pk)
    document = _document(products)
    return products, ConfigState(document, fingerprint_of(document))


def export_config(db: Database, actor: Actor) -> ConfigState:
    """R19: the seller's whole target-customer state, in one consistent read."""
    with db.reading() as uow:
        return _state(uow, actor)[1]


# --- plan and apply -----------------------------------------------------------------------


def config_changed() -> PreconditionFailed:
    return PreconditionFailed(
        "config_changed",
        "The configuration changed since this plan was made, so nothing was applied. "
        "Plan again and review the new plan.",
    )


def apply_config(db: Database, actor: Actor, doc: ConfigDoc) -> ConfigResult:
    """R19: make the seller's state equal to `doc` in one transaction (see the module's
    docstring for what it leaves as it is). Under R14's dry run this is the plan."""
    assert actor.seller_pk is not None, "config is a seller's"
    with db.writing() as uow:
        if uow.locks_rows:
            stored.lock_products(uow.session, actor.seller_pk)
        state, before = _state(uow, actor)
        if doc.based_on is not None and doc.based_on != before.fingerprint:
            raise config_changed()
        plan = _plan(state, doc)
        for step in plan:
            step.carry_out(uow, actor)
        after = before
        if plan:
            uow.session.flush()
            after = _state(uow, actor)[1]
        uow.commit()
        changes = [c for step in plan for c in step.changes]
        return ConfigResult(changes, before.fingerprint, after.fingerprint, uow.impact)


@dataclass
class _Step:
    """Changes to one product or specification, and how to carry them out."""

    changes: list[ConfigChange]
    run: Callable[[UnitOfWork, Actor], None]

    def carry_out(self, uow: UnitOfWork, actor: Actor) -> None:
        self.run(uow, actor)


def _plan(state: list[stored.StoredProduct], doc: ConfigDoc) -> list[_Step]:
    """Every change the document asks for, in the order they can be made: per product its
    target, its specifications' settings, then removals, then additions."""
    by_id = {p.product.public_id: p for p in state}
    seen: set[str] = set()
    steps: list[_Step] = []
    for product_doc in doc.products:
        product_id = product_doc.product.id
        found = by_id.get(product_id)
        if found is None:  # R9: another seller's product reads exactly as a missing one
            raise NotFound("product_not_found", PRODUCT_NOT_FOUND, product_id=product_id)
        if product_id in seen:
            raise _duplicate("product", product_id)
        seen.add(product_id)
        steps.extend(_product_steps(found, product_doc, doc.prune))
    return [s for s in steps if s.changes]


def _duplicate(what: str, key: str) -> Invalid:
    return Invalid(
        "duplicate_in_config", f"The document names {what} {key} twice; name it once.", id=key
    )


def _product_steps(found: stored.StoredProduct, doc: ProductDoc, prune: bool) -> list[_Step]:
    product_id = found.product.public_id
    specs = {s.public_id: s for s in found.specifications}
    spec_docs: list[tuple[stored.StoredOwner, OwnerDoc]] = []
    for spec_doc in doc.specifications:
        spec = specs.get(spec_doc.id)
        if spec is None:
            raise NotFound(
                "specification_not_found",
                SPECIFICATION_NOT_FOUND,
                specification_id=spec_doc.id,
            )
        if any(s.public_id == spec.public_id for s, _ in spec_docs):
            raise _duplicate("specification", spec.public_id)
        spec_docs.append((spec, spec_doc))
    steps = [_target_step(found, doc.product, spec_docs)]
    steps += [_setting_step(product_id, s, d) for s, d in spec_docs]
    owners = [(found.product, doc.product, None), *((s, d, s.public_id) for s, d in spec_docs)]
    if prune:
        for own, own_doc, spec_id in owners:
            steps.append(_removals(product_id, spec_id, own, own_doc))
    for own, own_doc, spec_id in owners:
        steps.append(_additions(product_id, spec_id, own, own_doc))
    return steps


def _target_step(
    found: stored.StoredProduct,
    doc: OwnerDoc,
    spec_docs: list[tuple[stored.StoredOwner, OwnerDoc]],
) -> _Step:
    product = found.product
    if doc.setting is None or doc.setting == product.setting:
        return _Step([], _nothing)
    target = Target(doc.setting)
    changed_by_doc = {
        s.public_id for s, d in spec_docs if d.setting is not None and d.setting != s.setting
    }
    conflicts = conflicting_specifications(
        target, [SpecSetting(s.public_id, Setting(s.setting)) for s in found.specifications]
    )
    # R4: the document resets a conflicting specification only by setting it itself.
    reset = bool(conflicts) and set(conflicts) <= changed_by_doc
    change = ConfigChange(
        "change", "target", product.public_id, None, None, product.setting, target.value
    )

    def run(uow: UnitOfWork, actor: Actor) -> None:
        row = own_product(uow, actor, product.public_id, lock=True)
        targets.change_product_target(uow, actor, row, target, reset)

    return _Step([change], run)


def _setting_step(product_id: str, spec: stored.StoredOwner, doc: OwnerDoc) -> _Step:
    if doc.setting is None or doc.setting == spec.setting:
        return _Step([], _nothing)
    setting = Setting(doc.setting)
    change = ConfigChange(
        "change", "setting", product_id, spec.public_id, None, spec.setting, setting.value
    )

    def run(uow: UnitOfWork, actor: Actor) -> None:
        found = owner(uow, actor, product_id, spec.public_id, lock=True)
        assert found.specification is not None
        if found.specification.setting != setting.value:  # an R4 reset may have done it
            targets.change_specification_setting(
                uow, actor, found.product, found.specification, setting
            )

    return _Step([change], run)


def _nothing(uow: UnitOfWork, actor: Actor) -> None:
    return None


@dataclass(frozen=True)
class _Wanted:
    account_id: str
    account_name: str
    window: Window


def _wanted_entries(entries: Iterable[EntryDoc]) -> dict[str, _Wanted]:
    """The document's entries by account ID, each judged as a single add judges it."""
    wanted: dict[str, _Wanted] = {}
    for entry in entries:
        account_id = normalize_account_id(entry.account_id)
        if account_id in wanted:
            raise _duplicate("account", account_id)
        wanted[account_id] = _Wanted(
            account_id,
            normalize_account_name(entry.account_name),
            read_window(entry.valid_from, entry.valid_until),
        )
    return wanted


def _window_json(window: Window) -> dict[str, str | None]:
    return {"valid_from": _moment(window.valid_from), "valid_until": _moment(window.valid_until)}


def _stored_window(entry: stored.StoredEntry) -> Window:
    return Window(entry.valid_from, entry.valid_until)


def _owner_of(uow: UnitOfWork, actor: Actor, product_id: str, spec_id: str | None) -> Owner:
    return owner(uow, actor, product_id, spec_id, lock=True)


def _removals(
    product_id: str, spec_id: str | None, own: stored.StoredOwner, doc: OwnerDoc
) -> _Step:
    """Under prune: the entries and associations the document's lists do not give."""
    changes: list[ConfigChange] = []
    gone_users: list[str] = []
    gone_links: list[str] = []
    if doc.entries is not None:
        wanted = _wanted_entries(doc.entries)
        for entry in own.entries:
            if entry.account_id not in wanted:
                gone_users.append(entry.account_id)
                before = {"account_name": entry.account_name, **_window_json(_stored_window(entry))}
                changes.append(
                    ConfigChange(
                        "remove",
                        "specified_user",
                        product_id,
                        spec_id,
                        entry.account_id,
                        before,
                        None,
                    )
                )
    if doc.associated is not None:
        keep = set(doc.associated)
        for other in own.associated:
            if other not in keep:
                gone_links.append(other)
                changes.append(
                    ConfigChange("remove", "association", product_id, spec_id, other, other, None)
                )

    def run(uow: UnitOfWork, actor: Actor) -> None:
        found = _owner_of(uow, actor, product_id, spec_id)
        for account_id in gone_users:
            specified_users.remove_entry(uow, actor, found, account_id)
        for other in gone_links:
            associations.unlink(uow, actor, found, other)

    return _Step(changes, run)


def _additions(
    product_id: str, spec_id: str | None, own: stored.StoredOwner, doc: OwnerDoc
) -> _Step:
    """The entries and associations the document gives that are not there (or have another
    window)."""
    changes: list[ConfigChange] = []
    adds: list[_Wanted] = []
    if doc.entries is not None:
        present = {e.account_id: e for e in own.entries}
        for want in _wanted_entries(doc.entries).values():
            entry = present.get(want.account_id)
            after = {"account_name": want.account_name, **_window_json(want.window)}
            if entry is None:
                changes.append(
                    ConfigChange(
                        "add", "specified_user", product_id, spec_id, want.account_id, None, after
                    )
                )
            elif _stored_window(entry) != want.window:
                before = {"account_name": entry.account_name, **_window_json(_stored_window(entry))}
                after["account_name"] = entry.account_name  # kept as entered (R5)
                changes.append(
                    ConfigChange(
                        "change",
                        "specified_user",
                        product_id,
                        spec_id,
                        want.account_id,
                        before,
                        after,
                    )
                )
            else:
                continue
            adds.append(want)
    links: list[str] = []
    if doc.associated is not None:
        present_links = set(own.associated)
        for other in dict.fromkeys(doc.associated):
            if other not in present_links:
                links.append(other)
                changes.append(
                    ConfigChange("add", "association", product_id, spec_id, other, None, other)
                )

    def run(uow: UnitOfWork, actor: Actor) -> None:
        found = _owner_of(uow, actor, product_id, spec_id)
        for want in adds:
            specified_users.add_entry(
                uow, actor, found, want.account_id, want.account_name, want.window
            )
        if links:
            associations.link(uow, actor, found, links)

    return _Step(changes, run)
