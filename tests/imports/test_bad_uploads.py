"""Imports that are bad as a whole: millions of bad rows, and CSV a parser cannot read.

A rejected import's report is bounded (a count per error code and the first rows), whatever
the upload's size; the whole report comes as a streamed CSV on request (`?errors=csv`, the
command line's `--errors FILE`). A CSV parser error is bad input: 422 `invalid_csv` naming the
line, never a 500 or a traceback.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from offerscope.cli.main import app as cli
from offerscope.domain.errors import Invalid
from offerscope.services import imports, tokens
from offerscope.services.actors import Role
from offerscope.services.imports import REPORTED_ERRORS
from offerscope.storage.unit_of_work import Database
from tests.imports.test_imports import account, register, specified_product
from tests.support import backend_of, live_server, placeholder_app

BAD_ROWS = 300_000
HUGE_FIELD = "x" * 200_000


def _bad_rows(count: int) -> io.BytesIO:
    return io.BytesIO(b"".join(b"not-an-id,nobody\n" for _ in range(count)))


def test_a_rejected_import_of_many_bad_rows_keeps_memory_bounded(sqlite_url: str) -> None:
    db = Database.connect(sqlite_url, pool_size=2)
    try:
        seller, product_id, _ = specified_product(db)
        source = _bad_rows(BAD_ROWS)
        tracemalloc.start()
        try:
            with pytest.raises(Invalid) as raised:
                imports.import_specified_users(db, seller, product_id, None, source)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        db.dispose()
    details = raised.value.details
    assert raised.value.code == "import_rejected"
    assert details["error_count"] == BAD_ROWS
    assert details["error_counts"] == {"invalid_request": BAD_ROWS}
    assert [e["line"] for e in details["errors"]] == list(range(1, REPORTED_ERRORS + 1))
    # 300,000 reported rows held at once would take well over 50 MB.
    assert peak < 25 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.fixture
def served(db: Database) -> Iterator[tuple[httpx.Client, httpx.Client, Database]]:
    """A real server: (operator client, seller client with a token, db)."""
    app = placeholder_app()
    app.state.backend = backend_of(db)
    with live_server(app) as base_url:
        operator_token = tokens.create_token(db, Role.OPERATOR)
        with (
            httpx.Client(base_url=base_url, timeout=60) as operator,
            httpx.Client(base_url=base_url, timeout=60) as seller,
        ):
            operator.headers["Authorization"] = f"Bearer {operator_token}"
            yield operator, seller, db


def _seller_list(served: tuple[httpx.Client, httpx.Client, Database]) -> tuple[httpx.Client, str]:
    _, client, db = served
    register(db, 1)
    seller, product_id, _ = specified_product(db)
    token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
    client.headers["Authorization"] = f"Bearer {token}"
    return client, f"/v1/products/{product_id}/specified-users/import"


CSV = {"Content-Type": "text/csv"}


def test_a_rejected_upload_answers_a_bounded_report_and_the_rest_as_csv_on_request(
    served: tuple[httpx.Client, httpx.Client, Database],
) -> None:
    client, path = _seller_list(served)
    body = (",".join(account(1)) + "\n").encode() + _bad_rows(20_000).getvalue()
    rejected = client.post(path, content=body, headers=CSV)
    assert rejected.status_code == 422
    problem = rejected.json()
    assert (problem["code"], problem["error_count"]) == ("import_rejected", 20_000)
    assert problem["error_counts"] == {"invalid_request": 20_000}
    assert len(problem["errors"]) == REPORTED_ERRORS and problem["errors_truncated"] is True
    assert problem["errors"][0]["line"] == 2
    assert len(rejected.content) < 64 * 1024

    everything = client.post(path, params={"errors": "csv"}, content=body, headers=CSV)
    assert everything.status_code == 422
    assert everything.headers["content-type"].startswith("text/csv")
    lines = everything.text.splitlines()
    assert lines[0] == "line,value,code,message"
    assert len(lines) == 20_001
    assert [int(line.split(",", 1)[0]) for line in lines[1:]] == list(range(2, 20_002))
    assert lines[1].startswith('2,"not-an-id,nobody",invalid_request,')

    skipped = client.post(
        path, params={"errors": "csv", "skip_invalid": "true"}, content=body, headers=CSV
    )
    assert skipped.status_code == 200
    assert skipped.headers["offerscope-imported"] == "1"
    assert skipped.headers["offerscope-error-count"] == "20000"
    assert len(skipped.text.splitlines()) == 20_001


@pytest.mark.parametrize("skip_invalid", [False, True], ids=["all-or-nothing", "skip-invalid"])
def test_a_field_too_large_for_the_parser_is_422_naming_its_line(
    served: tuple[httpx.Client, httpx.Client, Database], skip_invalid: bool
) -> None:
    operator, _, _ = served
    client, path = _seller_list(served)
    params = {"skip_invalid": "true"} if skip_invalid else {}
    users = f"{','.join(account(1))}\n{account(2)[0]},{HUGE_FIELD}\n".encode()
    refused = client.post(path, params=params, content=users, headers=CSV)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_csv"
    assert "line 2" in refused.json()["detail"]
    accounts = f"{'c' * 32},carol_1,individual\n{'d' * 32},{HUGE_FIELD},individual\n".encode()
    refused = operator.post("/v1/accounts/import", params=params, content=accounts, headers=CSV)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_csv"
    assert "line 2" in refused.json()["detail"]
    assert operator.get(f"/v1/accounts/{'c' * 32}").status_code == 404  # nothing imported


def test_the_command_line_reports_a_parser_error_without_a_traceback(
    sqlite_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(f"{'d' * 32},{HUGE_FIELD},individual\n")
    errors = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        cli,
        ["accounts", "import", str(source), "--database-url", sqlite_url, "--errors", str(errors)],
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "invalid_csv" in result.output and "line 1" in result.output


def test_the_command_line_writes_every_bad_row_of_a_big_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_bytes(b"".join(b"nope,x,individual\n" for _ in range(5_000)))
    errors = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        cli,
        ["accounts", "import", str(source), "--database-url", sqlite_url, "--errors", str(errors)],
    )
    assert result.exit_code == 1
    assert len(errors.read_text().splitlines()) == 5_001
    assert "5000 bad row(s)" in result.output
