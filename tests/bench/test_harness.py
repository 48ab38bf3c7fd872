"""The goal harness: the plain-Python limit agrees with the other peers, goals read as
intended, and the whole run works end to end over HTTP with wrk at a tiny scale.

The end-to-end run needs wrk (Debian package `wrk`; `python -m bench` installs it itself) and
is skipped without it: a test run installs nothing. Timings are printed, never asserted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bench.goals import Goal, goals_table
from bench.limit import LimitAllowed, LimitR12
from bench.peers import PlainPython
from bench.run import main
from bench.world import checks, generate
from prometheus_client import generate_latest

from bench import report, route_times
from offerscope.api.metrics import Metrics

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


def test_the_plain_python_limit_answers_as_the_plain_peer() -> None:
    # Big enough that freed temporary sets have their ids reused while compiling.
    world = generate(0.02)
    pairs = checks(world, 5_000)
    expected = PlainPython(world).decide_many(pairs)
    full, allowed = LimitR12(world), LimitAllowed(world)
    assert [full.decide(a, s) for a, s in pairs] == expected
    assert full.decide_many(pairs) == expected
    assert [allowed.decide(a, s) for a, s in pairs] == [e[0] for e in expected]
    assert allowed.decide_many(pairs) == [e[0] for e in expected]
    reasons = {answer[1] for answer in expected}
    assert {"account_not_found", "specification_not_found", "allowed"} <= reasons


def test_checks_hand_every_peer_new_strings_as_a_request_would() -> None:
    # A peer compiled from the world must not be timed on the world's own string objects:
    # its hash look-ups would end at an identity test that a decoded request never passes.
    world = generate(0.01)
    pairs = checks(world, 2_000)
    known = {account_id: account_id for account_id, _, _ in world.accounts}
    specs = {spec_id: spec_id for spec_id in (s.specification_id for s in world.specs.values())}
    assert sum(account_id in known for account_id, _ in pairs) > 1_900
    assert not any(known.get(account_id) is account_id for account_id, _ in pairs)
    assert not any(specs.get(spec_id) is spec_id for _, spec_id in pairs)


def test_goals_are_met_by_ratio_or_bound_and_unmeasured_ones_say_so() -> None:
    ratio = Goal(1, "r", 90.0, "req/s", 1.0, "ratio", peer="bare", peer_measured=100.0)
    assert ratio.ratio == pytest.approx(0.9) and ratio.met is False
    assert Goal(4, "p99", 49.0, "ms", 50, "at_most").met is True
    assert Goal(5, "orders", 999.0, "/s", 1_000, "at_least").met is False
    assert Goal(4, "5xx", 0, "", 0, "at_most").met is True
    assert Goal(2, "batch", None, "", 0.6, "ratio").met is None
    extrapolated = Goal(6, "import", 8.0, "s", 10, "at_most", at_goal_conditions=False)
    table = "\n".join(goals_table([ratio, extrapolated]))
    assert "0.9x" in table and "(yes)" in table and "**no**" in table


def test_route_times_are_what_happened_between_two_scrapes() -> None:
    metrics = Metrics()
    metrics.latency.labels("POST", "/v1/decisions").observe(0.0004)
    before = route_times.parse(generate_latest(metrics.registry).decode())
    for seconds in [0.0002] * 98 + [0.02, 0.3]:
        metrics.latency.labels("POST", "/v1/decisions").observe(seconds)
    metrics.latency.labels("GET", "/metrics").observe(0.001)
    after = route_times.parse(generate_latest(metrics.registry).decode())
    between = route_times.between(before, after)
    assert list(between) == [("POST", "/v1/decisions")]
    times = between[("POST", "/v1/decisions")]
    assert times.count == 100
    assert times.seconds == pytest.approx(0.0002 * 98 + 0.32)
    assert (times.at_most(0.5), times.at_most(0.99), times.at_most(1.0)) == (0.0005, 0.025, 0.5)


@pytest.mark.slow
@needs_wrk
def test_the_quick_run_measures_every_goal_and_loses_nothing(tmp_path: Path, capsys) -> None:
    figures = tmp_path / "figures.json"
    status = main(
        [
            "--quick",
            "--scale", "0.005",
            "--import-rows", "2000",
            "--seconds", "1",
            "--load-seconds", "1",
            "--no-postgres",
            "--no-install",
            "--workdir", str(tmp_path / "work"),
            "--json", str(figures),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    report = json.loads(figures.read_text())
    assert status == 0, report["problems"]
    assert report["problems"] == []
    assert all(row["disagreements"] == 0 for row in report["rows"])
    assert {goal["number"] for goal in report["goals"]} == {1, 2, 3, 4, 5, 6}
    unmeasured = [goal for goal in report["goals"] if goal["met"] is None]
    assert unmeasured == []
    by_name = {goal["goal"]: goal for goal in report["goals"]}
    assert by_name["under load, SQLite, 1 process: lost or phantom writes"]["measured"] == 0
    assert by_name["under load, SQLite, 1 process: 5xx answers"]["measured"] == 0
    assert printed.rstrip().splitlines()[-1].startswith("ratio = offerscope / peer")
    assert "### Goals" in printed
    assert "Server time by route: SQLite, 1 process" in printed
    assert "| POST /v1/decisions |" in printed


def test_rates_in_turns_time_every_run_in_every_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """Goal 3's ratios come from samples taken in turns: the calls go run by run, round by
    round, never one run's samples all together."""
    monkeypatch.setattr(report, "SAMPLE_S", 1e-9)  # one call fills a sample
    calls: list[str] = []
    rates = report.rates_in_turns(
        {"index": lambda: calls.append("index"), "limit": lambda: calls.append("limit")},
        count=10,
        rounds=3,
    )
    # The first calls tell how many fill a sample, and are the first samples: then two turns.
    assert calls == ["index", "limit"] * 3
    assert set(rates) == {"index", "limit"} and all(rate > 0 for rate in rates.values())
