"""Bulk lists: CSV imports all-or-nothing with per-row errors (R5, R6, R13), skip-invalid,
exports that import again, over the use cases, the command line and streamed HTTP uploads."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from typer.testing import CliRunner

from offerscope.cli.main import app as cli
from offerscope.domain.errors import Conflict, Invalid
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import ALWAYS
from offerscope.services import (
    accounts,
    decisions,
    exports,
    history,
    imports,
    list_edits,
    ownership,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Actor, Role
from offerscope.storage.tables import ListEntryRow
from offerscope.storage.unit_of_work import Database
from tests.support import backend_of, index_of, live_server, placeholder_app

ENT, IND = AccountType.ENTERPRISE, AccountType.INDIVIDUAL


def account(n: int) -> tuple[str, str]:
    return f"{n:032x}", f"member_{n:05d}"


def csv_bytes(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def register(db: Database, count: int, account_type: AccountType = IND) -> None:
    for n in range(1, count + 1):
        accounts.register_account(db, *account(n), account_type)


def specified_product(db: Database, *specs: str) -> tuple[Actor, str, list[str]]:
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    view = products.create_product(db, seller, "Product", list(specs) or ["Basic"])
    targets.set_product_target(db, seller, view.product_id, Target.SPECIFIED)
    return seller, view.product_id, [s.specification_id for s in view.specifications]


def list_ids(db: Database, seller: Actor, product_id: str, spec_id: str | None = None) -> list[str]:
    page = specified_users.list_specified_users(db, seller, product_id, spec_id, limit=1000)
    return [u.account_id for u in page.page.items]


# --- specified users ------------------------------------------------------------------------


def test_r5_an_import_adds_every_row_and_the_index_sees_them(db: Database) -> None:
    register(db, 3)
    seller, product_id, (spec,) = specified_product(db)
    assert not decisions.check(index_of(db), account(1)[0], spec).allowed  # the index is built now
    source = csv_bytes("account_id,account_name", *(",".join(account(n)) for n in (1, 2, 3)))
    report = imports.import_specified_users(db, seller, product_id, None, source)
    assert (report.imported, report.unchanged, report.errors) == (3, 0, [])
    assert list_ids(db, seller, product_id) == [account(n)[0] for n in (1, 2, 3)]
    assert all(decisions.check(index_of(db), account(n)[0], spec).allowed for n in (1, 2, 3))


def test_r5_an_import_with_one_bad_row_imports_nothing_and_reports_every_bad_row(
    db: Database,
) -> None:
    register(db, 3)
    seller, product_id, _ = specified_product(db)
    source = csv_bytes(
        ",".join(account(1)),
        f"{account(2)[0]},{account(3)[1]}",  # line 2: name of another account
        "NOT-HEX,member_00001",  # line 3: malformed ID
        f"{'9' * 32},nobody_here",  # line 4: no such account
        "just-one-column",  # line 5
    )
    with pytest.raises(Invalid) as raised:
        imports.import_specified_users(db, seller, product_id, None, source)
    assert raised.value.code == "import_rejected"
    errors = raised.value.details["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [
        (2, "account_mismatch"),
        (3, "invalid_request"),
        (4, "account_not_found"),
        (5, "invalid_request"),
    ]
    assert errors[1]["value"] == "NOT-HEX,member_00001"
    assert all(e["message"] for e in errors)
    assert list_ids(db, seller, product_id) == []


def test_imports_leave_their_connections_as_they_found_them(db: Database) -> None:
    register(db, 4)
    seller, product_id, (spec,) = specified_product(db)
    returned: list[tuple[int, object]] = []  # each connection as it goes back to the pool

    @event.listens_for(db.engine, "checkin")
    def _look(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        returned.append((_staged_tables(cursor), _cache_size(cursor)))
        cursor.close()
        dbapi_connection.rollback()  # PostgreSQL: end the look's own transaction

    raw = db.engine.raw_connection()
    default_cache = _cache_size(raw.cursor())
    raw.close()
    rejected = csv_bytes(",".join(account(2)), "just-one-column")
    with pytest.raises(Invalid):
        imports.import_specified_users(db, seller, product_id, None, rejected)
    # Rows in no order: they are moved into the list in key order, every one of them.
    rows = csv_bytes(*(",".join(account(n)) for n in (3, 1, 4, 2)))
    assert imports.import_specified_users(db, seller, product_id, None, rows).imported == 4
    assert list_ids(db, seller, product_id) == [account(n)[0] for n in (1, 2, 3, 4)]
    assert decisions.check(index_of(db), account(4)[0], spec).allowed
    accounts_file = csv_bytes(f"{'a' * 32},member_new01,individual")
    assert imports.import_accounts(db, accounts_file).imported == 1
    assert len(returned) >= 4
    assert set(returned) == {(0, default_cache)}


def _staged_tables(cursor: Any) -> int:
    if isinstance(cursor, sqlite3.Cursor):
        cursor.execute("SELECT count(*) FROM sqlite_temp_master WHERE name LIKE 'staged%'")
    else:  # PostgreSQL: every session's temporary tables
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'staged%'")
    return int(cursor.fetchone()[0])


def _cache_size(cursor: Any) -> object:
    if not isinstance(cursor, sqlite3.Cursor):
        return None  # PostgreSQL's buffers are the server's, nothing of the connection's
    return cursor.execute("PRAGMA cache_size").fetchone()[0]


def test_r5_skip_invalid_imports_the_good_rows_and_reports_the_rest(db: Database) -> None:
    register(db, 2)
    seller, product_id, _ = specified_product(db)
    specified_users.add_specified_user(db, seller, product_id, None, *account(2))
    source = csv_bytes(",".join(account(1)), "bad,row", ",".join(account(2)), ",".join(account(1)))
    report = imports.import_specified_users(db, seller, product_id, None, source, skip_invalid=True)
    assert (report.imported, report.unchanged) == (1, 2)  # account 2 listed; 1 repeated
    assert [(e.line, e.code) for e in report.errors] == [(2, "invalid_request")]
    assert list_ids(db, seller, product_id) == [account(1)[0], account(2)[0]]


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_r5_r6_r16_list_import_rows_judged_alike_whatever_their_form(
    db: Database, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Rows already normal are taken quickly, the others through the rules' own checks:
    both judge alike (R5's match, R6's type, R16's empty window), in any chunks."""
    monkeypatch.setattr(imports, "CHUNK", chunk)
    register(db, 4, IND)
    accounts.register_account(db, *account(5), ENT)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    view = products.create_product(db, seller, "Product", ["Basic"])
    product_id, spec = view.product_id, view.specifications[0].specification_id
    targets.set_product_target(db, seller, product_id, Target.INDIVIDUAL)
    targets.set_specification_setting(db, seller, product_id, spec, Setting.SPECIFIED)
    specified_users.add_specified_user(db, seller, product_id, spec, *account(4))
    rows = [
        ",".join(account(1)),  # line 1: new
        f" {account(2)[0]} ,{account(2)[1]} ",  # line 2: new, trimmed
        f"{account(3)[0]},{account(3)[1]},,",  # line 3: new, no window
        f"{account(1)[0]},{account(2)[1]}",  # line 4: another account's name
        ",".join(account(5)),  # line 5: an enterprise account (R6)
        ",".join(account(1)),  # line 6: again in the file
        ",".join(account(4)),  # line 7: listed already
    ]
    with pytest.raises(Invalid) as raised:
        imports.import_specified_users(db, seller, product_id, spec, csv_bytes(*rows))
    assert [(e["line"], e["code"]) for e in raised.value.details["errors"]] == [
        (4, "account_mismatch"),
        (5, "account_type_not_allowed"),
    ]
    report = imports.import_specified_users(
        db, seller, product_id, spec, csv_bytes(*rows), skip_invalid=True
    )
    assert (report.imported, report.unchanged, report.error_count) == (3, 2, 2)
    assert list_ids(db, seller, product_id, spec) == [account(n)[0] for n in (1, 2, 3, 4)]
    for n in (1, 2, 3):
        assert decisions.check(index_of(db), account(n)[0], spec).allowed


def test_r5_an_import_needs_the_list_open(db: Database) -> None:
    register(db, 1)
    seller, product_id, _ = specified_product(db)
    targets.set_product_target(db, seller, product_id, Target.ALL)
    with pytest.raises(Conflict) as raised:
        imports.import_specified_users(
            db, seller, product_id, None, csv_bytes(",".join(account(1)))
        )
    assert raised.value.code == "add_user_not_available"


def test_r6_a_specification_list_import_refuses_accounts_of_the_other_type(db: Database) -> None:
    accounts.register_account(db, *account(1), ENT)
    accounts.register_account(db, *account(2), IND)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    view = products.create_product(db, seller, "Product", ["Gold"])
    spec = view.specifications[0].specification_id
    targets.set_product_target(db, seller, view.product_id, Target.ENTERPRISE)
    targets.set_specification_setting(db, seller, view.product_id, spec, Setting.SPECIFIED)
    source = csv_bytes(",".join(account(1)), ",".join(account(2)))
    with pytest.raises(Invalid) as raised:
        imports.import_specified_users(db, seller, view.product_id, spec, source)
    assert [(e["line"], e["code"]) for e in raised.value.details["errors"]] == [
        (2, "account_type_not_allowed")
    ]
    report = imports.import_specified_users(
        db,
        seller,
        view.product_id,
        spec,
        csv_bytes(",".join(account(1)), ",".join(account(2))),
        skip_invalid=True,
    )
    assert report.imported == 1
    assert decisions.check(index_of(db), account(1)[0], spec).allowed


def test_r13_an_import_is_one_history_entry(db: Database) -> None:
    register(db, 3)
    seller, product_id, _ = specified_product(db)
    source = csv_bytes(*(",".join(account(n)) for n in (1, 2, 3)))
    imports.import_specified_users(db, seller, product_id, None, source)
    newest = history.product_history(db, seller, product_id).items[0]
    assert (newest.action, newest.subject, newest.after) == (
        "specified_users_imported",
        "3 accounts",
        "3",
    )


def test_r9_another_sellers_product_is_not_found(db: Database) -> None:
    register(db, 1)
    _, product_id, _ = specified_product(db)
    stranger = sellers.seller_actor(db, sellers.create_seller(db, "Other").seller_id)
    with pytest.raises(Exception) as raised:
        imports.import_specified_users(
            db, stranger, product_id, None, csv_bytes(",".join(account(1)))
        )
    assert getattr(raised.value, "code", None) == "product_not_found"


def test_an_export_imports_again_into_another_list(db: Database) -> None:
    register(db, 4)
    seller, product_id, (spec,) = specified_product(db)
    for n in (3, 1, 4):
        specified_users.add_specified_user(db, seller, product_id, None, *account(n))
    exported = "".join(exports.export_specified_users(db, seller, product_id, None))
    assert exported.splitlines() == [
        "account_id,account_name,valid_from,valid_until",
        *(",".join(account(n)) + ",," for n in (1, 3, 4)),
    ]
    targets.set_product_target(db, seller, product_id, Target.ALL)
    targets.set_specification_setting(db, seller, product_id, spec, Setting.SPECIFIED)
    report = imports.import_specified_users(
        db, seller, product_id, spec, io.BytesIO(exported.encode())
    )
    assert report.imported == 3
    assert list_ids(db, seller, product_id, spec) == [account(n)[0] for n in (1, 3, 4)]


# --- R16: windows in files --------------------------------------------------------------------

PAST, FUTURE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"


def test_r16_an_import_with_windows_round_trips_through_an_export(db: Database) -> None:
    register(db, 4)
    seller, product_id, (spec,) = specified_product(db)
    rows = [
        ",".join(account(1)) + f",,{FUTURE}",  # active until 2099
        ",".join(account(2)) + f",{FUTURE},",  # scheduled
        ",".join(account(3)) + f",{PAST},2021-06-30T12:30:00+02:00",  # expired, another zone
        ",".join(account(4)) + ",,",  # always
    ]
    source = csv_bytes("account_id,account_name,valid_from,valid_until", *rows)
    report = imports.import_specified_users(db, seller, product_id, None, source)
    assert (report.imported, report.errors) == (4, [])
    allowed = [
        decisions.check(index_of(db), account(n)[0], spec).reason.value for n in (1, 2, 3, 4)
    ]
    assert allowed == [
        "allowed",
        "specified_user_not_yet_valid",
        "specified_user_expired",
        "allowed",
    ]
    exported = "".join(exports.export_specified_users(db, seller, product_id, None))
    assert exported.splitlines()[1:] == [
        rows[0],
        rows[1],
        ",".join(account(3)) + f",{PAST},2021-06-30T10:30:00Z",  # kept in UTC
        rows[3],
    ]
    # The export imports again into another list, windows and all.
    targets.set_product_target(db, seller, product_id, Target.ALL)
    targets.set_specification_setting(db, seller, product_id, spec, Setting.SPECIFIED)
    again = imports.import_specified_users(
        db, seller, product_id, spec, io.BytesIO(exported.encode())
    )
    assert again.imported == 4
    copied = "".join(exports.export_specified_users(db, seller, product_id, spec))
    assert copied == exported
    page = specified_users.list_specified_users(db, seller, product_id, spec, limit=10)
    assert [u.status.value for u in page.page.items] == ["active", "scheduled", "expired", "active"]


def test_r16_an_import_replaces_the_window_of_a_listed_account(db: Database) -> None:
    register(db, 3)
    seller, product_id, (spec,) = specified_product(db)
    for n in (1, 2):
        specified_users.add_specified_user(db, seller, product_id, None, *account(n))
    source = csv_bytes(
        ",".join(account(1)) + f",,{PAST}",  # listed: its window closes
        ",".join(account(2)) + ",,",  # listed, same (no) window: unchanged
        ",".join(account(3)) + f",,{FUTURE}",  # new
        ",".join(account(3)) + f",,{PAST}",  # the file's own second row: the first wins
    )
    report = imports.import_specified_users(db, seller, product_id, None, source)
    assert (report.imported, report.unchanged, report.windows_changed) == (1, 2, 1)
    reasons = [decisions.check(index_of(db), account(n)[0], spec).reason.value for n in (1, 2, 3)]
    assert reasons == ["specified_user_expired", "allowed", "allowed"]
    entry = history.product_history(db, seller, product_id, limit=1).items[0]
    assert entry.action == "specified_users_imported"
    assert entry.after == "1; 1 windows changed"


@pytest.mark.parametrize(
    ("row", "code"),
    [
        (",,tomorrow", "invalid_window"),
        (f",{FUTURE},{PAST}", "invalid_window"),
        (",2027-01-01T00:00:00,", "invalid_window"),  # no zone
        (",,", None),  # both ends open: fine
        (",x", "invalid_request"),  # three values
    ],
)
def test_r16_bad_windows_are_row_errors_and_import_nothing(
    db: Database, row: str, code: str | None
) -> None:
    register(db, 2)
    seller, product_id, _ = specified_product(db)
    source = csv_bytes(",".join(account(1)) + ",,", ",".join(account(2)) + row)
    if code is None:
        assert imports.import_specified_users(db, seller, product_id, None, source).imported == 2
        return
    with pytest.raises(Invalid) as raised:
        imports.import_specified_users(db, seller, product_id, None, source)
    assert [(e["line"], e["code"]) for e in raised.value.details["errors"]] == [(2, code)]
    assert list_ids(db, seller, product_id) == []


def test_a_large_import_reloads_the_list_on_other_processes(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past RELOAD_THRESHOLD an import sends "read the list again", not every key.
    monkeypatch.setattr(imports, "RELOAD_THRESHOLD", 2)
    register(db, 5)
    seller, product_id, (spec,) = specified_product(db)
    other = Database.connect(database_url, pool_size=2)
    try:
        assert not decisions.check(index_of(other), account(5)[0], spec).allowed
        rows = [",".join(account(n)) + ",," for n in range(1, 5)]
        rows.append(",".join(account(5)) + f",,{PAST}")  # R16: read again with its window
        imports.import_specified_users(db, seller, product_id, None, csv_bytes(*rows))
        assert all(
            decisions.check(index_of(other), account(n)[0], spec).allowed for n in range(1, 5)
        )
        expired = decisions.check(index_of(other), account(5)[0], spec)
        assert expired.reason.value == "specified_user_expired"
        assert index_of(other).stats().list_entries == 5
    finally:
        other.dispose()


# --- accounts -------------------------------------------------------------------------------


def test_accounts_import_all_or_nothing_with_every_bad_row(db: Database) -> None:
    accounts.register_account(db, *account(1), IND)
    source = csv_bytes(
        "account_id,account_name,account_type",
        f"{account(1)[0]},{account(1)[1]},individual",  # identical: unchanged
        f"{account(2)[0]},{account(2)[1]},enterprise",
        f"{account(3)[0]},{account(1)[1]},individual",  # line 4: name taken
        f"{account(1)[0]},renamed_one,individual",  # line 5: ID taken with another name
        f"{account(4)[0]},{account(4)[1]},robot",  # line 6: no such type
        f"{account(5)[0]},{account(2)[1]},enterprise",  # line 7: name taken earlier in the file
    )
    with pytest.raises(Invalid) as raised:
        imports.import_accounts(db, source)
    assert [(e["line"], e["code"]) for e in raised.value.details["errors"]] == [
        (4, "account_name_taken"),
        (5, "account_exists"),
        (6, "invalid_request"),
        (7, "account_name_taken"),
    ]
    with pytest.raises(Exception, match="No customer account"):
        accounts.get_account(db, account(2)[0])
    source.seek(0)
    report = imports.import_accounts(db, source, skip_invalid=True)
    assert (report.imported, report.unchanged, len(report.errors)) == (1, 1, 4)
    assert accounts.get_account(db, account(2)[0]).account_type is ENT


@pytest.mark.parametrize("chunk", [1, 2, 3, 10_000])
def test_accounts_import_judges_alike_whatever_the_chunks(
    db: Database, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A chunk of well-formed rows is inserted at once, the constraints finding any row
    already registered; the outcome is row by row's, however the file falls into chunks."""
    monkeypatch.setattr(imports, "CHUNK", chunk)
    accounts.register_account(db, *account(1), IND)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    view = products.create_product(db, seller, "Product", ["Basic"])
    targets.set_product_target(db, seller, view.product_id, Target.INDIVIDUAL)
    spec = view.specifications[0].specification_id
    assert decisions.check(index_of(db), account(1)[0], spec).allowed  # the index is built
    rows = [
        f"{account(2)[0]},{account(2)[1]},enterprise",  # line 1: new
        f"{account(3)[0]},{account(3)[1]},individual",  # line 2: new
        f"{account(1)[0]},{account(1)[1]},individual",  # line 3: registered already, identical
        f"{account(2)[0]},{account(2)[1]},enterprise",  # line 4: again in the file, identical
        f" {account(4)[0]} , {account(4)[1]} ,individual",  # line 5: new, trimmed
        f"{account(5)[0]},{account(3)[1]},individual",  # line 6: name taken earlier in the file
        f"{account(3)[0]},{account(3)[1]},enterprise",  # line 7: ID taken, another type
        f"{account(6)[0]},{account(6)[1]},individual",  # line 8: new
        f"{account(7)[0]},{account(1)[1]},individual",  # line 9: a new ID with a name taken
        f"{account(7)[0]},{account(7)[1]},individual",  # line 10: that ID again, a free name
    ]
    with pytest.raises(Invalid) as raised:
        imports.import_accounts(db, csv_bytes(*rows))
    assert [(e["line"], e["code"]) for e in raised.value.details["errors"]] == [
        (6, "account_name_taken"),
        (7, "account_exists"),
        (9, "account_name_taken"),
    ]
    with pytest.raises(Exception, match="No customer account"):
        accounts.get_account(db, account(2)[0])
    report = imports.import_accounts(db, csv_bytes(*rows), skip_invalid=True)
    assert (report.imported, report.unchanged, report.error_count) == (5, 2, 3)
    assert accounts.get_account(db, account(7)[0]).account_name == account(7)[1]
    for n, kind in ((2, ENT), (3, IND), (4, IND), (6, IND), (7, IND)):
        assert accounts.get_account(db, account(n)[0]).account_type is kind
        decision = decisions.check(index_of(db), account(n)[0], spec)
        assert decision.allowed is (kind is IND), (n, decision)
        assert decision.reason.value in ("allowed", "not_individual_user")
    again = imports.import_accounts(db, csv_bytes(*rows[:5], rows[7], rows[9]))
    assert (again.imported, again.unchanged, again.error_count) == (0, 7, 0)


def test_imported_accounts_reach_the_index_and_export_again(db: Database) -> None:
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    view = products.create_product(db, seller, "Product", ["Basic"])
    spec = view.specifications[0].specification_id
    targets.set_product_target(db, seller, view.product_id, Target.ENTERPRISE)
    assert decisions.check(index_of(db), account(1)[0], spec).reason.value == "account_not_found"
    rows = [
        f"{account(n)[0]},{account(n)[1]},{'enterprise' if n % 2 else 'individual'}" for n in (1, 2)
    ]
    imports.import_accounts(db, csv_bytes(*rows))
    assert decisions.check(index_of(db), account(1)[0], spec).allowed
    assert decisions.check(index_of(db), account(2)[0], spec).reason.value == "not_enterprise_user"
    exported = "".join(exports.export_accounts(db)).splitlines()
    assert exported == ["account_id,account_name,account_type", *rows]


# --- command line ---------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_users_import_and_export(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    db = Database.connect(sqlite_url)
    try:
        register(db, 3)
        seller, product_id, _ = specified_product(db)
    finally:
        db.dispose()
    good = tmp_path / "users.csv"
    good.write_text("account_id,account_name\n" + "\n".join(",".join(account(n)) for n in (1, 2)))
    url = ["--database-url", sqlite_url]
    result = runner.invoke(cli, ["users", "import", str(good), "--product", product_id, *url])
    assert result.exit_code == 0, result.output
    assert "Imported 2" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(account(3)) + "\nnot,valid\n")
    errors = tmp_path / "errors.csv"
    rejected = runner.invoke(
        cli, ["users", "import", str(bad), "--product", product_id, "--errors", str(errors), *url]
    )
    assert rejected.exit_code == 1
    assert "line 2" in rejected.output and "Nothing imported" in rejected.output
    assert errors.read_text().splitlines()[1].startswith("2,")
    skipped = runner.invoke(
        cli, ["users", "import", str(bad), "--product", product_id, "--skip-invalid", *url]
    )
    assert skipped.exit_code == 0 and "Imported 1" in skipped.output
    exported = runner.invoke(cli, ["users", "export", "--product", product_id, *url])
    assert exported.exit_code == 0
    assert exported.stdout.splitlines() == [
        "account_id,account_name,valid_from,valid_until",
        *(",".join(account(n)) + ",," for n in (1, 2, 3)),
    ]
    assert seller.seller_id


def test_r16_cli_users_add_with_a_window(runner: CliRunner, sqlite_url: str) -> None:
    db = Database.connect(sqlite_url)
    try:
        register(db, 1)
        _, product_id, (spec,) = specified_product(db)
    finally:
        db.dispose()
    url = ["--database-url", sqlite_url]
    who = [*account(1), "--product", product_id, *url]
    bad = runner.invoke(cli, ["users", "add", *who, "--until", "soon"])
    assert bad.exit_code != 0 and "valid_until is not a time" in bad.output
    dry = runner.invoke(cli, ["users", "add", *who, "--until", FUTURE, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "until 2099-01-01 00:00 UTC" in dry.output
    added = runner.invoke(cli, ["users", "add", *who, "--until", FUTURE])
    assert added.exit_code == 0, added.output
    assert "Added" in added.output and "active" in added.output
    closed = runner.invoke(
        cli, ["users", "add", *who, "--from", PAST, "--until", "2021-01-01T00:00:00Z"]
    )
    assert closed.exit_code == 0, closed.output
    assert "Already listed" in closed.output and "expired" in closed.output
    checked = runner.invoke(cli, ["check", account(1)[0], spec, *url])
    assert "specified_user_expired" in checked.output


def test_cli_accounts_import_and_export(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(
        "account_id,account_name,account_type\n"
        + "\n".join(f"{a},{n},enterprise" for a, n in (account(1), account(2)))
        + "\n"
    )
    url = ["--database-url", sqlite_url]
    result = runner.invoke(cli, ["accounts", "import", str(source), *url])
    assert result.exit_code == 0, result.output
    target = tmp_path / "out.csv"
    exported = runner.invoke(cli, ["accounts", "export", "--output", str(target), *url])
    assert exported.exit_code == 0
    assert target.read_text() == source.read_text()


# --- HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def http(db: Database) -> Iterator[tuple[httpx.Client, httpx.Client, Database]]:
    """A real server on the test's database; (operator client, seller client, db)."""
    app = placeholder_app()
    app.state.backend = backend_of(db)
    with live_server(app) as base_url:
        # Uploads of tens of thousands of rows: more than httpx's 5 s on a busy machine.
        operator = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {tokens.create_token(db, Role.OPERATOR)}"},
            timeout=60,
        )
        seller = httpx.Client(base_url=base_url, timeout=60)
        yield operator, seller, db
        operator.close()
        seller.close()


def test_http_streamed_upload_past_the_json_body_limit(
    http: tuple[httpx.Client, httpx.Client, Database],
) -> None:
    operator, client, db = http
    count = 40_000  # about 3 MB: beyond the 2 MiB limit of JSON bodies
    rows = "".join(
        f"{n:032x},member_{n:05d},{'enterprise' if n % 2 else 'individual'}\n"
        for n in range(1, count + 1)
    )

    def chunks() -> Iterator[bytes]:  # sent chunked, with no Content-Length
        data = rows.encode()
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    response = operator.post(
        "/v1/accounts/import", content=chunks(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == count
    seller, product_id, (spec,) = specified_product(db)
    token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
    client.headers["Authorization"] = f"Bearer {token}"
    users = "".join(f"{n:032x},member_{n:05d}\n" for n in range(1, count + 1))
    path = f"/v1/products/{product_id}/specified-users/import"
    response = client.post(path, content=users.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": count,
        "unchanged": 0,
        "windows_changed": 0,
        "error_count": 0,
        "error_counts": {},
        "errors": [],
        "errors_truncated": False,
    }
    exported = client.get(f"/v1/products/{product_id}/specified-users/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    windowless = "".join(f"{n:032x},member_{n:05d},,\n" for n in range(1, count + 1))
    assert exported.text == "account_id,account_name,valid_from,valid_until\n" + windowless
    check = operator.post(
        "/v1/decisions", json={"account_id": f"{count:032x}", "specification_id": spec}
    )
    assert check.json()["allowed"] is True


def test_http_rejected_upload_is_422_with_every_bad_row_and_skip_invalid(
    http: tuple[httpx.Client, httpx.Client, Database],
) -> None:
    _, client, db = http
    register(db, 2)
    seller, product_id, (spec,) = specified_product(db)
    targets.set_product_target(db, seller, product_id, Target.ALL)
    targets.set_specification_setting(db, seller, product_id, spec, Setting.SPECIFIED)
    client.headers["Authorization"] = (
        f"Bearer {tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)}"
    )
    path = f"/v1/products/{product_id}/specifications/{spec}/specified-users/import"
    body = f"{','.join(account(1))}\nx,y\n{','.join(account(2))}\n".encode()
    csv = {"Content-Type": "text/csv"}
    rejected = client.post(path, content=body, headers=csv)
    assert rejected.status_code == 422
    assert rejected.headers["content-type"].startswith("application/problem+json")
    problem = rejected.json()
    assert problem["code"] == "import_rejected"
    assert [(e["line"], e["value"]) for e in problem["errors"]] == [(2, "x,y")]
    accepted = client.post(path, params={"skip_invalid": "true"}, content=body, headers=csv)
    assert accepted.status_code == 200
    assert (accepted.json()["imported"], accepted.json()["error_count"]) == (2, 1)
    assert (
        client.post(path, content=body, headers={"Content-Type": "application/json"}).status_code
        == 415
    )
    other = "/v1/products/prd_unknown/specified-users/import"
    assert client.post(other, content=body, headers=csv).status_code == 404


def test_r13_a_list_edit_in_chunks_is_one_moment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list change too big for one statement (R19's apply) is one change: every entry it
    adds has the same `added_at`, whatever the chunks it is inserted in."""
    register(db, 5)
    seller, product_id, _ = specified_product(db)
    monkeypatch.setattr(list_edits, "CHUNK", 2)
    added = [list_edits.EntryEdit(*account(n), ALWAYS) for n in range(1, 6)]
    with db.writing() as uow:
        found = ownership.owner(uow, seller, product_id, None, lock=True)
        list_edits.edit_entries(uow, seller, found, added, [], [])
        uow.commit()
    with db.reading() as uow:
        moments = uow.session.scalars(select(ListEntryRow.added_at)).all()
    assert len(moments) == 5 and len(set(moments)) == 1
