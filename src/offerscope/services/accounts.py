"""Customer accounts (SPEC.md §2): registered, read, renamed and retyped by the operator."""

from __future__ import annotations

from offerscope.domain.errors import Conflict, NotFound
from offerscope.domain.names import (
    account_id_key,
    normalize_account_id,
    normalize_account_name,
    parse_account_type,
)
from offerscope.domain.targets import AccountType
from offerscope.services.ids import utcnow
from offerscope.services.views import AccountView
from offerscope.storage import accounts, changes
from offerscope.storage.tables import AccountRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


def account_view(row: AccountRow) -> AccountView:
    return AccountView(row.account_id, row.account_name, AccountType(row.account_type))


def account_exists(account_id: str) -> Conflict:
    return Conflict(
        "account_exists", "An account with this ID is already registered.", account_id=account_id
    )


def name_taken(account_name: str) -> Conflict:
    return Conflict(
        "account_name_taken",
        f"Another account is already named {account_name!r}; account names are unique.",
        field="account_name",
    )


def _unknown_account(account_id: str) -> NotFound:
    return NotFound("account_not_found", "No customer account has this ID.", account_id=account_id)


def _flush_unique(uow: UnitOfWork, account_name: str) -> None:
    if not accounts.flushed_unique(uow.session):  # a concurrent writer took it first
        raise name_taken(account_name)


def register_account(
    db: Database, account_id: str, account_name: str, account_type: AccountType | str
) -> AccountView:
    account_id = normalize_account_id(account_id)
    account_name = normalize_account_name(account_name)
    kind = parse_account_type(account_type)
    with db.writing() as uow:
        if accounts.find_account(uow.session, account_id) is not None:
            raise account_exists(account_id)
        if accounts.name_taken(uow.session, account_name):
            raise name_taken(account_name)
        row = accounts.add_account(uow.session, account_id, account_name, kind.value, utcnow())
        _flush_unique(uow, account_name)
        uow.record_change(changes.AccountSet(row.pk, row.account_id, row.account_type))
        uow.commit()
        return account_view(row)


def get_account(db: Database, account_id: str) -> AccountView:
    key = account_id_key(account_id)
    with db.reading() as uow:
        row = accounts.find_account(uow.session, key) if key is not None else None
        if row is None:
            raise _unknown_account(account_id)
        return account_view(row)


def account_names(db: Database, account_ids: list[str]) -> dict[str, str]:
    """The names of registered accounts by ID: how a preview (R14) names its sample."""
    with db.reading() as uow:
        return accounts.names_by_id(uow.session, account_ids)


def update_account(
    db: Database,
    account_id: str,
    *,
    account_name: str | None = None,
    account_type: AccountType | str | None = None,
) -> AccountView:
    """Rename an account or change its type. Lists keep the ID; decisions use the new type."""
    if account_name is not None:
        account_name = normalize_account_name(account_name)
    kind = parse_account_type(account_type) if account_type is not None else None
    key = account_id_key(account_id)
    with db.writing() as uow:
        row = accounts.find_account(uow.session, key, lock=True) if key is not None else None
        if row is None:
            raise _unknown_account(account_id)
        if account_name is not None and account_name != row.account_name:
            if accounts.name_taken(uow.session, account_name):
                raise name_taken(account_name)
            row.account_name = account_name
        if kind is not None:
            row.account_type = kind.value
            uow.record_change(changes.AccountSet(row.pk, row.account_id, row.account_type))
        _flush_unique(uow, row.account_name)
        uow.commit()
        return account_view(row)
