"""R19: configuration as code. A seller's whole target-customer state as one document, and
the use case that makes the state equal to a document in one transaction.

The document names products and specifications by ID (names are information only); it never
creates or deletes them (the catalog is separate). R17's customer groups are in it too: the
seller's groups with their members (`groups`), and the groups on each specified-user list.
Applying it works out a plan (the changes, in memory, from the state read in the same
transaction) and carries each change out through the internals of the single edits
(`targets.change_*`, `groups.attach_in`...; a list's entries in bulk through
`list_edits.edit_entries`, which judges each entry as a single add does), so R2, R4, R5, R6,
R7, R8 and R16 are judged exactly as for one edit, and R13 records each (a large list change
as one entry, as an import is).

What a document leaves out stays as it is:
- a product, specification or group not named is untouched (prune deletes no group);
- a `target`/`setting` left out (None) is kept;
- a list, association set, group set or member list left out (None) is kept, even under
  prune;
- without prune, a list or set the document gives is only added to: entries, associations
  and groups it gives are added (or an entry's window changed), nothing is removed;
- with `prune`, every list and set the document gives becomes exactly what it gives.
An entry already on a list is kept by its account ID; its name stays as entered (R5).
A group named without a `group_id` is the seller's group of that name, created if there is
none (so applying the document twice creates it once); a group's name is otherwise
information only, as a product's is.

R4 in a document: a product target change that leaves a specification on a setting the new
target does not allow is refused (409 `conflicting_specifications`) unless the document also
changes that specification's setting; then the specification is reset (as with
`reset_conflicting_specifications`) and set as the document says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from offerscope.domain.errors import Invalid, NotFound, PreconditionFailed
from offerscope.domain.impact import Impact
from offerscope.domain.targets import Setting, Target, conflicting_specifications
from offerscope.domain.targets import SpecificationSetting as SpecSetting
from offerscope.services import associations, groups, list_edits, targets
from offerscope.services.actors import Actor
from offerscope.services.config_entries import (
    EntryDoc,
    ListDiff,
    Op,
    diff_entries,
    duplicate,
    moment_text,
)
from offerscope.services.ownership import (
    GROUP_NOT_FOUND,
    PRODUCT_NOT_FOUND,
    SPECIFICATION_NOT_FOUND,
    ListHolder,
    group_holder,
    own_product,
    owner,
)
from offerscope.storage import config as stored
from offerscope.storage.config import ACCOUNT_ID, VALID_FROM, VALID_UNTIL
from offerscope.storage.config import ENTERED_NAME as NAME
from offerscope.storage.unit_of_work import Database, UnitOfWork, is_dry_run

VERSION = 1

Kind = Literal["target", "setting", "specified_user", "association", "group", "group_on_list"]


# --- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerDoc:
    """A product or a specification as a document gives it; None leaves a part as it is."""

    id: str
    setting: str | None = None  # a product's target, a specification's setting
    entries: list[EntryDoc] | None = None
    associated: list[str] | None = None
    groups: list[str] | None = None  # R17: the IDs of the groups on its list


@dataclass(frozen=True)
class ProductDoc:
    product: OwnerDoc
    specifications: list[OwnerDoc] = field(default_factory=list)


@dataclass(frozen=True)
class GroupDoc:
    """R17: a customer group, by ID, or by name (created if the seller has none of it)."""

    group_id: str | None = None
    name: str | None = None
    members: list[EntryDoc] | None = None


@dataclass(frozen=True)
class ConfigDoc:
    products: list[ProductDoc]
    prune: bool = False
    based_on: str | None = None
    groups: list[GroupDoc] = field(default_factory=list)


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    """One line of a plan: + added, - removed, ~ changed. A group's own changes (its
    creation, its members) name the group and no product; a group created by the document
    has no ID until the apply gives it one (`ConfigResult.created_groups`)."""

    op: Op
    kind: Kind
    product_id: str | None
    specification_id: str | None
    subject: str | None  # the account, the associated product/specification, the group
    before: Any
    after: Any
    group_id: str | None = None
    group_name: str | None = None


@dataclass(frozen=True)
class ConfigState:
    """A seller's state as a document (JSON-ready), and its fingerprint."""

    document: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True)
class CreatedGroup:
    name: str
    group_id: str


@dataclass(frozen=True)
class ConfigResult:
    changes: list[ConfigChange]
    based_on: str  # the fingerprint of the state the plan was made on
    fingerprint: str  # the state's fingerprint after the changes
    impact: Impact | None = None
    created_groups: list[CreatedGroup] = field(default_factory=list)


# --- export -------------------------------------------------------------------------------


def _entry_json(entry: stored.StoredEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"account_id": entry[ACCOUNT_ID], "account_name": entry[NAME]}
    if entry[VALID_FROM] is not None:
        item["valid_from"] = moment_text(entry[VALID_FROM])
    if entry[VALID_UNTIL] is not None:
        item["valid_until"] = moment_text(entry[VALID_UNTIL])
    return item


def _entries_json(entries: list[stored.StoredEntry]) -> list[dict[str, Any]]:
    return [
        {"account_id": e[ACCOUNT_ID], "account_name": e[NAME]}
        if e[VALID_FROM] is None and e[VALID_UNTIL] is None
        else _entry_json(e)
        for e in entries
    ]


def _document(state: stored.SellerState) -> dict[str, Any]:
    return {
        "version": VERSION,
        "products": [
            {
                "product_id": p.product.public_id,
                "name": p.product.name,
                "target": p.product.setting,
                "specified_users": _entries_json(p.product.entries),
                "groups": list(p.product.groups),
                "associated_products": list(p.product.associated),
                "specifications": [
                    {
                        "specification_id": s.public_id,
                        "name": s.name,
                        "setting": s.setting,
                        "specified_users": _entries_json(s.entries),
                        "groups": list(s.groups),
                        "associated_specifications": list(s.associated),
                    }
                    for s in p.specifications
                ],
            }
            for p in state.products
        ],
        "groups": [
            {"group_id": g.group_id, "name": g.name, "members": _entries_json(g.entries)}
            for g in state.groups
        ],
    }


def fingerprint_of(state: stored.SellerState) -> str:
    """A digest of the whole state (the export's ETag): any change to it changes the
    fingerprint. Made of the rows as read (orjson takes tuples and datetimes as they are),
    so a plan needs no document of 100,000s of entries."""
    shape = [
        VERSION,
        [
            [
                p.product.public_id,
                p.product.name,
                p.product.setting,
                p.product.entries,
                p.product.groups,
                p.product.associated,
                [
                    [s.public_id, s.name, s.setting, s.entries, s.groups, s.associated]
                    for s in p.specifications
                ],
            ]
            for p in state.products
        ],
        [[g.group_id, g.name, g.entries] for g in state.groups],
    ]
    return "sha256:" + hashlib.sha256(orjson.dumps(shape)).hexdigest()


def _state(
    uow: UnitOfWork, actor: Actor, known: dict[int, list[stored.StoredEntry]] | None = None
) -> tuple[stored.SellerState, str]:
    """The seller's state and its fingerprint, read in the caller's transaction."""
    assert actor.seller_pk is not None, "config is a seller's"
    state = stored.seller_state(uow.session, actor.seller_pk, known)
    return state, fingerprint_of(state)


def export_config(db: Database, actor: Actor) -> ConfigState:
    """R19: the seller's whole target-customer state, in one consistent read."""
    with db.reading() as uow:
        state, fingerprint = _state(uow, actor)
        return ConfigState(_document(state), fingerprint)


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
            stored.lock_groups(uow.session, actor.seller_pk)
        state, before = _state(uow, actor)
        if doc.based_on is not None and doc.based_on != before:
            raise config_changed()
        plan = _plan(state, doc)
        created: list[CreatedGroup] = []
        for step in plan:
            step.run(uow, actor, created)
        after = before
        if plan:
            uow.session.flush()
            # Only the lists the plan changed are read again.
            touched = {step.list_pk for step in plan}
            known = {k: v for k, v in state.entries_by_list().items() if k not in touched}
            after = _state(uow, actor, known)[1]
        uow.commit()
        changes = [c for step in plan for c in step.changes]
        if is_dry_run():
            created = []  # a plan's new groups are rolled back: their IDs would mislead
        return ConfigResult(changes, before, after, uow.impact, created)


Run = Callable[[UnitOfWork, Actor, list[CreatedGroup]], None]


@dataclass
class _Step:
    """Changes to one product, specification or group, and how to carry them out."""

    changes: list[ConfigChange]
    run: Run
    list_pk: int | None = None  # the list whose entries it changes, if any
    judges: bool = False  # runs even without changes: it judges what it leaves as it is


def _plan(state: stored.SellerState, doc: ConfigDoc) -> list[_Step]:
    """Every change the document asks for, in the order they can be made: the groups and
    their members first, then per product its target, its specifications' settings, then
    removals, then additions."""
    known_groups = {g.group_id: g.name for g in state.groups}
    steps = _group_steps(state.groups, doc.groups, doc.prune)
    by_id = {p.product.public_id: p for p in state.products}
    seen: set[str] = set()
    for product_doc in doc.products:
        product_id = product_doc.product.id
        found = by_id.get(product_id)
        if found is None:  # R9: another seller's product reads exactly as a missing one
            raise NotFound("product_not_found", PRODUCT_NOT_FOUND, product_id=product_id)
        if product_id in seen:
            raise duplicate("product", product_id)
        seen.add(product_id)
        steps.extend(_product_steps(found, product_doc, doc.prune, known_groups))
    return [s for s in steps if s.changes or s.judges]


def _group_not_found(group_id: str) -> NotFound:
    return NotFound("group_not_found", GROUP_NOT_FOUND, group_id=group_id)


def _product_steps(
    found: stored.StoredProduct, doc: ProductDoc, prune: bool, known_groups: dict[str, str]
) -> list[_Step]:
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
            raise duplicate("specification", spec.public_id)
        spec_docs.append((spec, spec_doc))
    steps = [_target_step(found, doc.product, spec_docs)]
    steps += [_setting_step(product_id, s, d) for s, d in spec_docs]
    owners = [(found.product, doc.product, None), *((s, d, s.public_id) for s, d in spec_docs)]
    for _own, own_doc, _spec_id in owners:
        for group_id in own_doc.groups or []:
            if group_id not in known_groups:  # R9: another seller's group is a missing one
                raise _group_not_found(group_id)
    if prune:
        for own, own_doc, spec_id in owners:
            steps.append(_removals(product_id, spec_id, own, own_doc, known_groups))
    for own, own_doc, spec_id in owners:
        steps.append(_entries_step(product_id, spec_id, own, own_doc, prune))
        steps.append(_additions(product_id, spec_id, own, own_doc, known_groups))
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

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
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

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        found = owner(uow, actor, product_id, spec.public_id, lock=True)
        assert found.specification is not None
        if found.specification.setting != setting.value:  # an R4 reset may have done it
            targets.change_specification_setting(
                uow, actor, found.product, found.specification, setting
            )

    return _Step([change], run)


def _nothing(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
    return None


# --- a list's entries ---------------------------------------------------------------------


def _edit_list(found: ListHolder, diff: ListDiff, uow: UnitOfWork, actor: Actor) -> None:
    list_edits.edit_entries(
        uow, actor, found, diff.added, diff.rewindowed, diff.removed, diff.named
    )


def _entries_step(
    product_id: str, spec_id: str | None, own: stored.StoredOwner, doc: OwnerDoc, prune: bool
) -> _Step:
    """A specified-user list's entries made as the document gives them (in bulk)."""
    if doc.entries is None:
        return _Step([], _nothing)
    diff = diff_entries(own.entries, doc.entries, prune)
    changes = [
        ConfigChange(op, "specified_user", product_id, spec_id, account_id, before, after)
        for op, account_id, before, after in diff.lines
    ]

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        _edit_list(owner(uow, actor, product_id, spec_id, lock=True), diff, uow, actor)

    return _Step(changes, run, own.list_pk, judges=bool(diff.named))


# --- associations and groups on lists -------------------------------------------------------


def _removals(
    product_id: str,
    spec_id: str | None,
    own: stored.StoredOwner,
    doc: OwnerDoc,
    group_names: dict[str, str],
) -> _Step:
    """Under prune: the associations and groups on the list that the document does not
    give."""
    changes: list[ConfigChange] = []
    gone_links: list[str] = []
    gone_groups: list[str] = []
    if doc.associated is not None:
        keep = set(doc.associated)
        for other in own.associated:
            if other not in keep:
                gone_links.append(other)
                changes.append(
                    ConfigChange("remove", "association", product_id, spec_id, other, other, None)
                )
    if doc.groups is not None:
        keep = set(doc.groups)
        for group_id in own.groups:
            if group_id not in keep:
                gone_groups.append(group_id)
                changes.append(
                    ConfigChange(
                        "remove",
                        "group_on_list",
                        product_id,
                        spec_id,
                        group_id,
                        group_names[group_id],
                        None,
                    )
                )

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        found = owner(uow, actor, product_id, spec_id, lock=True)
        for other in gone_links:
            associations.unlink(uow, actor, found, other)
        for group_id in gone_groups:
            group = group_holder(uow, actor, group_id, lock=False)
            groups.detach_in(uow, actor, found, group)

    return _Step(changes, run)


def _additions(
    product_id: str,
    spec_id: str | None,
    own: stored.StoredOwner,
    doc: OwnerDoc,
    group_names: dict[str, str],
) -> _Step:
    """The associations and groups the document gives that are not there."""
    changes: list[ConfigChange] = []
    links: list[str] = []
    if doc.associated is not None:
        present_links = set(own.associated)
        for other in dict.fromkeys(doc.associated):
            if other not in present_links:
                links.append(other)
                changes.append(
                    ConfigChange("add", "association", product_id, spec_id, other, None, other)
                )
    attach: list[str] = []
    if doc.groups is not None:
        present_groups = set(own.groups)
        for group_id in dict.fromkeys(doc.groups):
            if group_id not in present_groups:
                attach.append(group_id)
                changes.append(
                    ConfigChange(
                        "add",
                        "group_on_list",
                        product_id,
                        spec_id,
                        group_id,
                        None,
                        group_names[group_id],
                    )
                )

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        found = owner(uow, actor, product_id, spec_id, lock=True)
        if links:
            associations.link(uow, actor, found, links)
        for group_id in attach:
            groups.attach_in(uow, actor, found, group_holder(uow, actor, group_id, lock=False))

    return _Step(changes, run)


# --- groups and their members ---------------------------------------------------------------


def _group_steps(
    present: list[stored.StoredGroup], docs: list[GroupDoc], prune: bool
) -> list[_Step]:
    """R17: each group the document names, found by ID or by name (created if the seller
    has no group of that name), with its members as the document gives them."""
    by_id = {g.group_id: g for g in present}
    by_name = {g.name: g for g in present}
    seen: set[str] = set()
    steps: list[_Step] = []
    for doc in docs:
        if doc.group_id is not None:
            found = by_id.get(doc.group_id)
            if found is None:  # R9: another seller's group reads as a missing one
                raise _group_not_found(doc.group_id)
        elif doc.name is not None:
            name = groups.group_name(doc.name)
            found = by_name.get(name)
            if found is None:
                if name in seen:
                    raise duplicate("group", name)
                seen.add(name)
                steps.append(_new_group_step(name, doc.members or []))
                continue
        else:
            raise Invalid(
                "invalid_request",
                "A group in the document needs its group_id, or a name to create it by.",
                field="groups",
            )
        if found.group_id in seen:
            raise duplicate("group", found.group_id)
        seen.add(found.group_id)
        if doc.members is not None:
            steps.append(_members_step(found, doc.members, prune))
    return steps


def _member_changes(diff: ListDiff, group_id: str | None, group_name: str) -> list[ConfigChange]:
    return [
        ConfigChange(
            op, "specified_user", None, None, account_id, before, after, group_id, group_name
        )
        for op, account_id, before, after in diff.lines
    ]


def _members_step(found: stored.StoredGroup, members: list[EntryDoc], prune: bool) -> _Step:
    diff = diff_entries(found.entries, members, prune)
    changes = _member_changes(diff, found.group_id, found.name)

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        _edit_list(group_holder(uow, actor, found.group_id, lock=True), diff, uow, actor)

    return _Step(changes, run, found.list_pk, judges=bool(diff.named))


def _new_group_step(name: str, members: list[EntryDoc]) -> _Step:
    diff = diff_entries([], members, prune=False)
    created_change = ConfigChange("add", "group", None, None, name, None, name, None, name)

    def run(uow: UnitOfWork, actor: Actor, created: list[CreatedGroup]) -> None:
        holder = groups.create_in(uow, actor, name)
        created.append(CreatedGroup(name, holder.group.group_id))
        if diff.lines:
            _edit_list(holder, diff, uow, actor)

    return _Step([created_change, *_member_changes(diff, None, name)], run)
