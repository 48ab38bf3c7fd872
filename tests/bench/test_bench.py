"""`python -m bench` at a tiny scale, so that it keeps working: every peer agrees with
offerscope on every check it is timed on. Timings are printed, never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.run import main


@pytest.mark.slow
def test_the_benchmark_runs_and_every_peer_agrees(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    status = main(
        [
            "--scale", "0.005",
            "--repeat", "1",
            "--import-rows", "2000",
            "--no-postgres",
            "--no-http",
            "--no-load",
            "--workdir", str(tmp_path / "work"),
            "--json", str(figures),
        ]
    )  # fmt: skip
    report = json.loads(figures.read_text())
    rows = {(row["name"], row["mode"]): row for row in report["rows"]}
    assert status == 0
    assert all(row["disagreements"] == 0 for row in rows.values()), rows
    assert {name for name, _ in rows} >= {
        "offerscope in-process (index)",
        "offerscope check() with freshness read",
        "plain-Python limit (allowed only)",
        "plain-Python limit (R12 answers)",
        "plain Python, compiled ahead",
        "sqlite3, one indexed query per decision",
        "casbin FastEnforcer",
        "casbin Enforcer (plain)",
        "cedarpy (policies and entities preloaded)",
    }
    assert all(row["checks"] > 0 and row["rate"] > 0 for row in rows.values())
    what = " ".join(name for name, _ in report["figures"])
    for figure in ("import 2,000 specified users", "index memory", "catalog", "write: add"):
        assert figure in what
    goals = {goal["number"]: goal for goal in report["goals"]}
    assert goals[3]["ratio"] > 0 and goals[6]["measured"] > 0
    assert goals[1]["met"] is None and "--no-http" in goals[1]["note"]
