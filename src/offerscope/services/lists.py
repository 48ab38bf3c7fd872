"""Specified-user lists (R5, R6) and associations (R7, R8) of products and specifications.

A product and a specification each own one list and one association set; `_Owner` hides
which, so that each use case is written once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Delete, delete, select
from sqlalchemy.orm import Session

from offerscope.domain.errors import NotFound
from offerscope.domain.limits import MAX_IDS, check_count, check_page_size
from offerscope.domain.lists import (
    RegisteredAccount,
    associations_are_active,
    check_association,
    check_association_open,
    check_list_open,
    check_type_fit,
    list_is_active,
    match_account,
)
from offerscope.domain.names import account_id_key, normalize_account_id, normalize_account_name
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services.common import (
    encode_cursor,
    int_cursor,
    own_product,
    own_specification,
    record,
    utcnow,
)
from offerscope.services.views import (
    Actor,
    AddedUser,
    AssociatedView,
    AssociationsView,
    Page,
    SpecifiedUsersView,
    SpecifiedUserView,
)
from offerscope.storage import changes
from offerscope.storage.facts import find_account
from offerscope.storage.tables import (
    AccountRow,
    ProductAssociationRow,
    ProductRow,
    ProductUserRow,
    SpecificationAssociationRow,
    SpecificationRow,
    SpecificationUserRow,
)
from offerscope.storage.unit_of_work import Database, UnitOfWork


@dataclass
class _Owner:
    """A product, or one of its specifications, as the owner of a list and associations."""

    product: ProductRow
    specification: SpecificationRow | None

    @property
    def pk(self) -> int:
        return self.specification.pk if self.specification else self.product.pk

    @property
    def public_id(self) -> str:
        return (
            self.specification.specification_id if self.specification else self.product.product_id
        )

    @property
    def setting(self) -> Target | Setting:
        if self.specification is not None:
            return Setting(self.specification.setting)
        return Target(self.product.target)

    @property
    def users(self) -> Any:
        return SpecificationUserRow if self.specification else ProductUserRow

    @property
    def users_owner_column(self) -> Any:
        return (
            SpecificationUserRow.specification_pk
            if self.specification
            else ProductUserRow.product_pk
        )

    @property
    def links(self) -> Any:
        return SpecificationAssociationRow if self.specification else ProductAssociationRow

    @property
    def links_owner_column(self) -> Any:
        if self.specification:
            return SpecificationAssociationRow.specification_pk
        return ProductAssociationRow.product_pk

    @property
    def links_other_column(self) -> Any:
        if self.specification:
            return SpecificationAssociationRow.associated_specification_pk
        return ProductAssociationRow.associated_product_pk

    def new_user(self, account_pk: int, entered_name: str) -> Any:
        if self.specification:
            return SpecificationUserRow(
                specification_pk=self.pk,
                account_pk=account_pk,
                entered_name=entered_name,
                added_at=utcnow(),
            )
        return ProductUserRow(
            product_pk=self.pk, account_pk=account_pk, entered_name=entered_name, added_at=utcnow()
        )

    def new_link(self, other_pk: int) -> Any:
        if self.specification:
            return SpecificationAssociationRow(
                specification_pk=self.pk, associated_specification_pk=other_pk, added_at=utcnow()
            )
        return ProductAssociationRow(
            product_pk=self.pk, associated_product_pk=other_pk, added_at=utcnow()
        )

    @property
    def kind(self) -> changes.Owner:
        return "specification" if self.specification else "product"

    @property
    def spec_id(self) -> str | None:
        return self.specification.specification_id if self.specification else None


def _owner(
    uow: UnitOfWork, actor: Actor, product_id: str, specification_id: str | None, *, lock: bool
) -> _Owner:
    product = own_product(uow, actor, product_id, lock=lock)
    spec = None
    if specification_id is not None:
        spec = own_specification(uow.session, product, specification_id)
    return _Owner(product, spec)


# --- specified users (R5, R6) ---------------------------------------------------------------


def _user_view(entry: Any, account: AccountRow) -> SpecifiedUserView:
    return SpecifiedUserView(
        account_id=account.account_id,
        account_name=entry.entered_name,
        current_account_name=account.account_name,
        account_type=AccountType(account.account_type),
        added_at=entry.added_at,
    )


def list_specified_users(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None = None,
    *,
    limit: int = 100,
    cursor: str | None = None,
    search: str = "",
) -> SpecifiedUsersView:
    """A page of a list in the order entries were keyed; `search` matches ID or either name."""
    limit = check_page_size(limit)
    after = int_cursor(cursor)
    with db.reading() as uow:
        owner = _owner(uow, actor, product_id, specification_id, lock=False)
        users = owner.users
        query = (
            select(users, AccountRow)
            .join(AccountRow, AccountRow.pk == users.account_pk)
            .where(owner.users_owner_column == owner.pk)
        )
        if after is not None:
            query = query.where(users.account_pk > after)
        needle = search.strip()
        if needle:
            query = query.where(
                (AccountRow.account_id == needle.lower())
                | (AccountRow.account_name == needle)
                | (users.entered_name == needle)
            )
        rows = list(uow.session.execute(query.order_by(users.account_pk).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [_user_view(entry, account) for entry, account in rows]
        next_cursor = encode_cursor(rows[-1][0].account_pk) if more else None
        return SpecifiedUsersView(Page(items, next_cursor), list_is_active(owner.setting))


def _as_registered(row: AccountRow | None) -> RegisteredAccount | None:
    if row is None:
        return None
    return RegisteredAccount(row.account_id, row.account_name, AccountType(row.account_type))


def add_specified_user(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None,
    account_id: str,
    account_name: str,
) -> AddedUser:
    """R5, R6: add an account, named by both its ID and its name, to a list."""
    account_id = normalize_account_id(account_id)
    account_name = normalize_account_name(account_name)
    with db.writing() as uow:
        session = uow.session
        owner = _owner(uow, actor, product_id, specification_id, lock=True)
        check_list_open(owner.setting)
        by_id = find_account(session, account_id)
        account = match_account(account_name, _as_registered(by_id))
        assert by_id is not None
        if owner.specification is not None:
            check_type_fit(Target(owner.product.target), account)
        existing = session.get(owner.users, (owner.pk, by_id.pk))
        if existing is not None:
            return AddedUser(_user_view(existing, by_id), created=False)
        entry = owner.new_user(by_id.pk, account_name)
        session.add(entry)
        uow.record_change(changes.ListEdited(owner.kind, owner.pk, (by_id.pk,), True))
        record(
            session,
            actor,
            owner.product,
            "specified_user_added",
            specification_id=owner.spec_id,
            subject=account_id,
            after=account_name,
        )
        session.flush()
        uow.commit()
        return AddedUser(_user_view(entry, by_id), created=True)


def remove_specified_user(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, account_id: str
) -> None:
    """R5: remove an account from a list; 404 if it is not on it."""
    key = account_id_key(account_id)
    with db.writing() as uow:
        session = uow.session
        owner = _owner(uow, actor, product_id, specification_id, lock=True)
        users = owner.users
        entry = session.execute(
            select(users, AccountRow.account_id)
            .join(AccountRow, AccountRow.pk == users.account_pk)
            .where(owner.users_owner_column == owner.pk, AccountRow.account_id == key)
        ).one_or_none()
        if entry is None or key is None:
            raise NotFound(
                "user_not_found",
                "This account is not on the specified-user list.",
                account_id=account_id,
            )
        row = entry[0]
        session.execute(
            delete(users).where(
                owner.users_owner_column == owner.pk, users.account_pk == row.account_pk
            )
        )
        uow.record_change(changes.ListEdited(owner.kind, owner.pk, (row.account_pk,), False))
        record(
            session,
            actor,
            owner.product,
            "specified_user_removed",
            specification_id=owner.spec_id,
            subject=key,
            before=row.entered_name,
        )
        uow.commit()


# --- associations (R7, R8) ------------------------------------------------------------------


def _association_rows(
    session: Session, owner: _Owner, after: int | None = None, limit: int | None = None
) -> list[tuple[int, str, str]]:
    """(pk, public ID, name) of the associated products (specifications) in creation order."""
    other: Any = SpecificationRow if owner.specification is not None else ProductRow
    public_id = other.specification_id if owner.specification is not None else other.product_id
    query = (
        select(other.pk, public_id, other.name)
        .join(owner.links, owner.links_other_column == other.pk)
        .where(owner.links_owner_column == owner.pk)
        .order_by(other.pk)
        .limit(limit)
    )
    if after is not None:
        query = query.where(other.pk > after)
    return [(pk, public, name) for pk, public, name in session.execute(query)]


def _association_items(session: Session, owner: _Owner) -> list[AssociatedView]:
    return [AssociatedView(public, name) for _pk, public, name in _association_rows(session, owner)]


def _is_active(owner: _Owner) -> bool:
    return associations_are_active(owner.setting)


def list_associations(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None = None,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> AssociationsView:
    """The associations in creation order: a page of `limit` (SPEC.md §4), or all of them."""
    if limit is not None:
        limit = check_page_size(limit)
    after = int_cursor(cursor)
    with db.reading() as uow:
        owner = _owner(uow, actor, product_id, specification_id, lock=False)
        rows = _association_rows(uow.session, owner, after, None if limit is None else limit + 1)
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if more else rows
        items = [AssociatedView(public, name) for _pk, public, name in rows]
        next_cursor = encode_cursor(rows[-1][0]) if more else None
        return AssociationsView(items, _is_active(owner), next_cursor=next_cursor)


def _siblings(session: Session, owner: _Owner, candidate_ids: list[str]) -> dict[str, int]:
    """The candidates that R7 (R8) could accept: same seller's products (same product's specs)."""
    if owner.specification is not None:
        rows = session.execute(
            select(SpecificationRow.specification_id, SpecificationRow.pk).where(
                SpecificationRow.product_pk == owner.product.pk,
                SpecificationRow.specification_id.in_(candidate_ids),
            )
        )
    else:
        rows = session.execute(
            select(ProductRow.product_id, ProductRow.pk).where(
                ProductRow.seller_pk == owner.product.seller_pk,
                ProductRow.product_id.in_(candidate_ids),
            )
        )
    return {public_id: pk for public_id, pk in rows}


def add_associations(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, ids: list[str]
) -> AssociationsView:
    """R7, R8: associate other products (specifications); all of them or none."""
    check_count(ids, MAX_IDS, "ids")
    with db.writing() as uow:
        session = uow.session
        owner = _owner(uow, actor, product_id, specification_id, lock=True)
        check_association_open(owner.setting)
        siblings = _siblings(session, owner, ids)
        for candidate in ids:
            check_association(owner.public_id, candidate, candidate in siblings)
        present = set(
            session.scalars(
                select(owner.links_other_column).where(owner.links_owner_column == owner.pk)
            )
        )
        created = False
        for candidate in dict.fromkeys(ids):
            if siblings[candidate] in present:
                continue
            session.add(owner.new_link(siblings[candidate]))
            uow.record_change(changes.LinkEdited(owner.kind, owner.pk, siblings[candidate], True))
            record(
                session,
                actor,
                owner.product,
                "association_added",
                specification_id=owner.spec_id,
                subject=candidate,
            )
            created = True
        session.flush()
        items = _association_items(session, owner)
        uow.commit()
        return AssociationsView(items, _is_active(owner), created)


def remove_association(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, other_id: str
) -> None:
    with db.writing() as uow:
        session = uow.session
        owner = _owner(uow, actor, product_id, specification_id, lock=True)
        other_pk = _siblings(session, owner, [other_id]).get(other_id)
        links = owner.links
        removed = other_pk is not None and _deleted(
            session,
            delete(links).where(
                owner.links_owner_column == owner.pk, owner.links_other_column == other_pk
            ),
        )
        if not removed:
            raise NotFound(
                "association_not_found",
                "This product or specification is not associated.",
                id=other_id,
            )
        assert other_pk is not None
        uow.record_change(changes.LinkEdited(owner.kind, owner.pk, other_pk, False))
        record(
            session,
            actor,
            owner.product,
            "association_removed",
            specification_id=owner.spec_id,
            subject=other_id,
        )
        uow.commit()


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount
