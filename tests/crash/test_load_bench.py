"""bench/load.py keeps working: a short run per store with zero 5xx and zero lost writes.

The bench itself is for people (64 clients, 60 s, figures printed); this runs it briefly and
asserts only on correctness, never on timings. A second run squeezes the server to 4
requests in flight, so that overload is answered 503 with Retry-After and still loses nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.artifacts import record
from tests.conftest import POSTGRES_ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def _bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "load.json"
    command = [sys.executable, str(BENCH), "--json", str(out), "--postgres-url", POSTGRES_ADMIN_URL]
    finished = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert out.exists(), finished.stdout + finished.stderr
    result: dict[str, Any] = json.loads(out.read_text())[0]
    print(finished.stdout)
    return result


def _assert_nothing_lost(result: dict[str, Any]) -> None:
    assert result["server_errors"] == 0, result["statuses"]
    assert result["timeouts"] == 0 and result["transport_errors"] == {}
    assert result["overload_without_retry_after"] == 0
    assert result["lost_writes"] == []
    assert result["acknowledged_writes"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_short_load_run_loses_nothing(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if store == "postgres":
        request.getfixturevalue("postgres_url")  # skips (or fails in CI) without PostgreSQL
    result = _bench(tmp_path, "--store", store, "--clients", "16", "--duration", "5")
    _assert_nothing_lost(result)
    record("load", f"ci-{store}", result)


@pytest.mark.slow
def test_overload_is_answered_503_with_retry_after(tmp_path: Path) -> None:
    result = _bench(
        tmp_path, "--store", "sqlite", "--clients", "32", "--duration", "4", "--max-inflight", "4"
    )
    _assert_nothing_lost(result)
    assert result["overloaded_answers"] > 0, result["statuses"]
    record("load", "ci-overload-sqlite", result)
