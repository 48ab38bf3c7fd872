"""Goals 1 and 2 over HTTP, measured with wrk against real server processes.

1. A single decision, `POST /v1/decisions`: offerscope (one process on SQLite, one on
   PostgreSQL) against the bare FastAPI endpoint of the same shape (bench.bare_app), at 1 and
   at 16 connections. Every server runs at once in its own process; the wrk runs alternate
   between them (each server, each connection count, then again), and each figure is the
   median of `repeat` runs. offerscope's `/healthz` is measured the same way, for context:
   the cost of its HTTP stack and middleware without a decision.
2. A batch of 10,000 checks, `POST /v1/decisions/batch`, at 2 connections: decisions per second
   over HTTP against the in-process `decide_many` rate of the same run.

Before timing, answers over HTTP are held to the index's on a sample (single and batch).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from bench import servers, wrk
from bench.goals import Goal
from bench.inprocess import INDEX
from bench.offerscope_api import Answer
from bench.report import Report, Row, Table, disagreements, say

BATCH = 10_000
SINGLE_CONNECTIONS = (1, 16)
BATCH_CONNECTIONS = 2
BARE = "bare FastAPI (async def)"
BARE_SYNC = "bare FastAPI (def, thread pool)"


@dataclass
class Store:
    """A database offerscope serves in this run, with an operator token of its own."""

    label: str  # "SQLite" or "PostgreSQL"
    url: str
    operator_token: str


@dataclass
class Target:
    """One thing the alternating runs measure."""

    name: str
    server: servers.Served
    script_args: list[str]


def _bodies(path: Path, bodies: list[str]) -> Path:
    path.write_text("".join(body + "\n" for body in bodies))
    return path


def _check_body(account_id: str, spec_id: str) -> str:
    return json.dumps({"account_id": account_id, "specification_id": spec_id})


def _batch_body(pairs: list[tuple[str, str]], start: int) -> str:
    """10,000 checks, cycling over the pairs where there are fewer (a small scale)."""
    checks = [pairs[(start + i) % len(pairs)] for i in range(BATCH)]
    return json.dumps({"checks": [{"account_id": a, "specification_id": s} for a, s in checks]})


def _agreement(
    base: str, token: str, pairs: list[tuple[str, str]], expected: list[Answer], label: str
) -> tuple[int, int]:
    """Disagreements with the index over HTTP: on single decisions, and on one batch."""
    headers = {"Authorization": f"Bearer {token}"}
    sample = pairs[:300]
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        got: list[Answer] = []
        for account_id, spec_id in sample:
            reply = client.post(
                "/v1/decisions", json={"account_id": account_id, "specification_id": spec_id}
            ).json()
            got.append((reply["allowed"], reply["reason"], reply["level"]))
        single = disagreements(expected[: len(sample)], got, f"HTTP single ({label})")
        part = pairs[:BATCH]
        body = {"checks": [{"account_id": a, "specification_id": s} for a, s in part]}
        results = client.post("/v1/decisions/batch", json=body).json()["results"]
        got = [(r["allowed"], r["reason"], r["level"]) for r in results]
        batch = disagreements(expected[: len(part)], got, f"HTTP batch ({label})")
    return single, batch


def _alternate(
    targets: list[Target], connections: tuple[int, ...], repeat: int, seconds: float
) -> dict[tuple[str, int], list[wrk.WrkRun]]:
    """Every target at every connection count, then all of them again: `repeat` rounds."""
    runs: dict[tuple[str, int], list[wrk.WrkRun]] = {}
    for round_ in range(repeat):
        for target in targets:
            for count in connections:
                run = target.server.measured(
                    partial(
                        wrk.run,
                        target.server.base,
                        "requests.lua",
                        target.script_args,
                        label=target.name,
                        connections=count,
                        threads=1,
                        seconds=seconds,
                    )
                )
                runs.setdefault((target.name, count), []).append(run)
        say(f"  HTTP round {round_ + 1} of {repeat} done")
    return runs


def _median(runs: list[wrk.WrkRun], figure: Callable[[wrk.WrkRun], float]) -> float:
    return statistics.median(figure(r) for r in runs)


def bench_http(
    report: Report,
    stores: list[Store],
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
    seconds: float,
    workdir: Path,
) -> None:
    singles = _bodies(workdir / "single.jsonl", [_check_body(a, s) for a, s in pairs[:20_000]])
    batches = _bodies(
        workdir / "batch.jsonl",
        [_batch_body(pairs, start) for start in range(0, min(len(pairs), 5 * BATCH), BATCH)],
    )
    with ExitStack() as stack:
        served = [(s, stack.enter_context(servers.offerscope(s.url))) for s in stores]
        bare = stack.enter_context(servers.bare("async"))
        bare_sync = stack.enter_context(servers.bare("sync"))
        agreement = {
            store.label: _agreement(server.base, store.operator_token, pairs, expected, store.label)
            for store, server in served
        }
        report.details["http_disagreements"] = agreement
        decisions = ["POST", "/v1/decisions"]
        targets = [
            Target(f"offerscope ({s.label})", server, [*decisions, s.operator_token, str(singles)])
            for s, server in served
        ]
        targets += [
            Target(BARE, bare, [*decisions, "-", str(singles)]),
            Target(BARE_SYNC, bare_sync, [*decisions, "-", str(singles)]),
        ]
        health = Target("offerscope /healthz (GET)", served[0][1], ["GET", "/healthz", "-", "-"])
        # Warm every server and its connections first (not in a quick run: 1 s runs).
        for target in [*targets, health] if seconds > 1 else []:
            wrk.run(
                target.server.base,
                "requests.lua",
                target.script_args,
                label="warm-up",
                connections=16,
                threads=1,
                seconds=1,
            )
        say("HTTP single decisions: alternating wrk runs")
        runs = _alternate([*targets, health], SINGLE_CONNECTIONS, repeat, seconds)
        _single_figures(report, stores, runs, agreement, repeat)
        say("HTTP batch decisions")
        batch_targets = [
            Target(
                f"offerscope batch ({s.label})",
                server,
                ["POST", "/v1/decisions/batch", s.operator_token, str(batches)],
            )
            for s, server in served
        ]
        batch_runs = _alternate(batch_targets, (BATCH_CONNECTIONS,), repeat, max(seconds, 2))
        _batch_figures(report, stores, batch_runs, agreement, repeat)


def _single_figures(
    report: Report,
    stores: list[Store],
    runs: dict[tuple[str, int], list[wrk.WrkRun]],
    agreement: dict[str, tuple[int, int]],
    repeat: int,
) -> None:
    table = Table(
        f"HTTP single decisions (wrk, 1 thread; median of {repeat} alternating runs)",
        [
            *("server", "connections", "requests/s (each run)", "median requests/s"),
            *("p50", "p99", "server CPU per request"),
        ],
        notes=[
            "Bodies cycle over the run's checks with the operator's token; non-2xx answers "
            "and socket errors fail the run. Server CPU: all of the server's own processes "
            "(not PostgreSQL's), over the requests the run completed (2 cores: wrk runs beside "
            "it)."
        ],
    )
    medians: dict[tuple[str, int], float] = {}
    for (name, count), measured in runs.items():
        medians[name, count] = _median(measured, lambda r: r.rate)
        each = ", ".join(f"{r.rate:,.0f}" for r in measured)
        table.rows.append(
            [
                name,
                str(count),
                each,
                f"{medians[name, count]:,.0f}",
                f"{_median(measured, lambda r: r.p50_ms):.2f} ms",
                f"{_median(measured, lambda r: r.p99_ms):.2f} ms",
                f"{_median(measured, lambda r: r.cpu_us_per_request or 0):,.0f} µs",
            ]
        )
        bad = sum(r.non_2xx + sum(r.socket_errors.values()) for r in measured)
        if bad:
            report.problems.append(f"HTTP {name} at {count} connections: {bad} failed requests")
    report.tables.append(table)
    report.details["http_single"] = [r.as_dict() for rs in runs.values() for r in rs]
    for store in stores:
        name = f"offerscope ({store.label})"
        for count in SINGLE_CONNECTIONS:
            report.rows.append(
                Row(
                    f"offerscope over HTTP, {store.label} (wrk)",
                    "single",
                    sum(r.requests for r in runs[name, count]),
                    medians[name, count],
                    # held to the index on a sample once, shown on the first row only
                    agreement[store.label][0] if count == SINGLE_CONNECTIONS[0] else 0,
                    f"{count} connection{'s' if count > 1 else ''}, median of {repeat}",
                )
            )
            report.goals.append(
                Goal(
                    1,
                    f"single decision over HTTP, {store.label}, {count} connection(s)",
                    medians[name, count],
                    "req/s",
                    1.0,
                    "ratio",
                    peer=BARE,
                    peer_measured=medians[BARE, count],
                    note=f"{BARE_SYNC}: {medians[BARE_SYNC, count]:,.0f} req/s; "
                    f"offerscope /healthz: {medians['offerscope /healthz (GET)', count]:,.0f}"
                    " req/s",
                )
            )


def _batch_figures(
    report: Report,
    stores: list[Store],
    runs: dict[tuple[str, int], list[wrk.WrkRun]],
    agreement: dict[str, tuple[int, int]],
    repeat: int,
) -> None:
    in_process = report.rate(INDEX, "batch")
    table = Table(
        f"HTTP batch decisions ({BATCH:,} checks a request; wrk, {BATCH_CONNECTIONS} connections;"
        f" median of {repeat})",
        ["server", "requests/s (each run)", "median decisions/s", "p50", "p99"],
    )
    for store in stores:
        measured = runs[f"offerscope batch ({store.label})", BATCH_CONNECTIONS]
        rate = _median(measured, lambda r: r.rate) * BATCH
        table.rows.append(
            [
                f"offerscope ({store.label})",
                ", ".join(f"{r.rate:.2f}" for r in measured),
                f"{rate:,.0f}",
                f"{_median(measured, lambda r: r.p50_ms):.1f} ms",
                f"{_median(measured, lambda r: r.p99_ms):.1f} ms",
            ]
        )
        bad = sum(r.non_2xx + sum(r.socket_errors.values()) for r in measured)
        if bad:
            report.problems.append(f"HTTP batch ({store.label}): {bad} failed requests")
        report.rows.append(
            Row(
                f"offerscope over HTTP, {store.label} (wrk)",
                "batch",
                sum(r.requests for r in measured) * BATCH,
                rate,
                agreement[store.label][1],
                f"{BATCH:,} a request, {BATCH_CONNECTIONS} connections, JSON both ways",
            )
        )
        report.goals.append(
            Goal(
                2,
                f"batch of {BATCH:,} over HTTP, {store.label}",
                rate,
                "decisions/s",
                0.6,
                "ratio",
                peer="in-process decide_many",
                peer_measured=in_process,
            )
        )
    report.tables.append(table)
    report.details["http_batch"] = [r.as_dict() for rs in runs.values() for r in rs]
