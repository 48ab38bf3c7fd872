"""The `offerscope` command (SPEC.md §6) through Typer's runner, on a fresh SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from offerscope.cli.main import app
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import accounts, products, sellers, targets, tokens
from offerscope.services.actors import Role
from offerscope.services.demo import ACCOUNTS
from offerscope.storage.unit_of_work import Database

EXPORT = re.compile(r"^export ([A-Z_]+)=(\S+)$", re.MULTILINE)
BOB = next(account_id for account_id, name, _ in ACCOUNTS if name == "bob_li")
ALICE = next(account_id for account_id, name, _ in ACCOUNTS if name == "alice_wang")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """The same SQLite file the commands use, opened for set-ups and checks."""
    database = Database.connect(sqlite_url, pool_size=2)
    yield database
    database.dispose()


def _run(runner: CliRunner, sqlite_url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--database-url", sqlite_url])


def _last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_token_create_for_each_role_prints_a_usable_token_last(
    runner: CliRunner, sqlite_url: str, db: Database
) -> None:
    seller = sellers.create_seller(db, "Northwind")
    account_id = "a" * 32
    accounts.register_account(db, account_id, "buyer_one", AccountType.INDIVIDUAL)
    cases = [
        (["--role", "operator"], None, None),
        (["--role", "seller", "--seller-id", seller.seller_id], seller.seller_id, None),
        (["--role", "buyer", "--account-id", account_id], None, account_id),
    ]
    issued = set()
    for options, seller_id, buyer_id in cases:
        result = _run(runner, sqlite_url, "token", "create", *options)
        assert result.exit_code == 0, result.output
        token = _last_line(result.stdout)
        assert token == token.strip() and " " not in token
        actor = tokens.authenticate(db, token)
        assert actor is not None
        assert actor.role is Role(options[1])
        assert (actor.seller_id, actor.account_id) == (seller_id, buyer_id)
        issued.add(token)
    assert len(issued) == 3


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["--role", "seller"], "invalid_request"),
        (["--role", "seller", "--seller-id", "slr_0000000000000000"], "seller_not_found"),
        (["--role", "buyer"], "invalid_request"),
        (["--role", "buyer", "--account-id", "0" * 32], "account_not_found"),
    ],
)
def test_token_create_for_nobody_fails_with_a_message(
    runner: CliRunner, sqlite_url: str, options: list[str], code: str
) -> None:
    result = _run(runner, sqlite_url, "token", "create", *options)
    assert result.exit_code == 1
    assert code in result.stderr
    assert "error" in result.stderr
    assert result.stdout == ""  # no token, nothing a script could mistake for one


def test_token_create_refuses_an_unknown_role(runner: CliRunner, sqlite_url: str) -> None:
    result = _run(runner, sqlite_url, "token", "create", "--role", "admin")
    assert result.exit_code == 2  # a usage error
    assert "admin" in result.stderr


def test_demo_prints_export_lines_that_work(
    runner: CliRunner, sqlite_url: str, db: Database
) -> None:
    result = _run(runner, sqlite_url, "demo")
    assert result.exit_code == 0, result.output
    exports = dict(EXPORT.findall(result.stdout))
    expected = {"OPERATOR", "SELLER", "ACME", "ALICE", "BOB", "CLOUDDB", "BACKUP", "BASIC"}
    assert expected | {"BETA", "DAILY"} <= set(exports)
    roles = {
        name: tokens.authenticate(db, exports[name])
        for name in ("OPERATOR", "SELLER", "ACME", "ALICE", "BOB")
    }
    assert {name: actor.role if actor else None for name, actor in roles.items()} == {
        "OPERATOR": Role.OPERATOR,
        "SELLER": Role.SELLER,
        "ACME": Role.BUYER,
        "ALICE": Role.BUYER,
        "BOB": Role.BUYER,
    }
    seller = roles["SELLER"]
    assert seller is not None
    cloud = targets.get_target_customers(db, seller, exports["CLOUDDB"])
    assert exports["BASIC"] in {s.specification_id for s in cloud.specifications}
    assert exports["BETA"] in {s.specification_id for s in cloud.specifications}
    backup = targets.get_target_customers(db, seller, exports["BACKUP"])
    assert exports["DAILY"] in {s.specification_id for s in backup.specifications}


def test_demo_covers_every_target_and_every_setting(
    runner: CliRunner, sqlite_url: str, db: Database
) -> None:
    result = _run(runner, sqlite_url, "demo")
    assert result.exit_code == 0, result.output
    exports = dict(EXPORT.findall(result.stdout))
    seller = tokens.authenticate(db, exports["SELLER"])
    assert seller is not None
    page = products.list_products(db, seller, limit=1000)
    views = [targets.get_target_customers(db, seller, p.product_id) for p in page.items]
    assert {v.target for v in views} == set(Target)
    assert {s.setting for v in views for s in v.specifications} == set(Setting)
    kinds = {accounts.get_account(db, account_id).account_type for account_id, _, _ in ACCOUNTS}
    assert kinds == set(AccountType)


def test_demo_can_be_loaded_twice(runner: CliRunner, sqlite_url: str) -> None:
    first = _run(runner, sqlite_url, "demo")
    second = _run(runner, sqlite_url, "demo")
    assert first.exit_code == second.exit_code == 0, second.output
    assert (
        dict(EXPORT.findall(first.stdout))["SELLER"]
        != dict(EXPORT.findall(second.stdout))["SELLER"]
    )


def test_check_exits_0_when_allowed_and_2_when_refused(runner: CliRunner, sqlite_url: str) -> None:
    exports = dict(EXPORT.findall(_run(runner, sqlite_url, "demo").stdout))
    allowed = _run(runner, sqlite_url, "check", ALICE, exports["BETA"])
    assert allowed.exit_code == 0, allowed.output
    assert "allowed" in allowed.stdout and "reason=allowed" in allowed.stdout
    assert "level=specification" in allowed.stdout
    assert "This account may buy this specification." in allowed.stdout
    refused = _run(runner, sqlite_url, "check", BOB, exports["BETA"])
    assert refused.exit_code == 2, refused.output
    assert "refused" in refused.stdout and "reason=not_specified_user" in refused.stdout
    assert "This specification is sold only to specified users." in refused.stdout


def test_check_of_unknown_ids_exits_2_with_the_reason(runner: CliRunner, sqlite_url: str) -> None:
    exports = dict(EXPORT.findall(_run(runner, sqlite_url, "demo").stdout))
    unknown_account = _run(runner, sqlite_url, "check", "0" * 32, exports["BASIC"])
    assert unknown_account.exit_code == 2
    assert "reason=account_not_found" in unknown_account.stdout
    assert "level=-" in unknown_account.stdout
    unknown_spec = _run(runner, sqlite_url, "check", BOB, "spc_0000000000000000")
    assert unknown_spec.exit_code == 2
    assert "reason=specification_not_found" in unknown_spec.stdout
    assert "No specification has this ID." in unknown_spec.stdout


def test_commands_create_and_migrate_a_new_database(
    runner: CliRunner, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'new.db'}"
    result = _run(runner, url, "token", "create", "--role", "operator")
    assert result.exit_code == 0, result.output
    database = Database.connect(url, pool_size=1)
    try:
        assert tokens.authenticate(database, _last_line(result.stdout)) is not None
    finally:
        database.dispose()


def test_r14_a_dry_run_import_prints_its_impact_and_imports_nothing(
    runner: CliRunner, sqlite_url: str, db: Database, tmp_path: Path
) -> None:
    accounts.register_account(db, "a" * 32, "alice_one", AccountType.INDIVIDUAL)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "S").seller_id)
    product = products.create_product(db, seller, "Private", ["Only"])
    targets.set_product_target(db, seller, product.product_id, Target.SPECIFIED)
    source = tmp_path / "users.csv"
    source.write_text(f"{'a' * 32},alice_one\n")
    result = _run(
        runner,
        sqlite_url,
        "users",
        "import",
        str(source),
        "--product",
        product.product_id,
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and "Imported 1" in result.output
    assert "gain the right to buy" in result.output and "a" * 32 in result.output
    check = _run(runner, sqlite_url, "check", "a" * 32, product.specifications[0].specification_id)
    assert check.exit_code == 2  # still not on the list: nothing was imported


def test_r14_a_dry_run_token_is_never_issued(runner: CliRunner, sqlite_url: str) -> None:
    result = _run(runner, sqlite_url, "token", "create", "--role", "operator", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "none was" in result.output and "osk_" not in result.output


def test_a_revoked_token_authenticates_no_more(
    runner: CliRunner, sqlite_url: str, db: Database
) -> None:
    issued = _last_line(_run(runner, sqlite_url, "token", "create", "--role", "operator").stdout)
    assert tokens.authenticate(db, issued) is not None
    assert _run(runner, sqlite_url, "token", "revoke", issued).exit_code == 0
    assert tokens.authenticate(db, issued) is None
    again = _run(runner, sqlite_url, "token", "revoke", issued)
    assert again.exit_code == 1 and "token_not_found" in again.output
