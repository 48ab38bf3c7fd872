"""Decisions in-process: offerscope's index against its peers on the same checks.

Every peer's answers are compared with offerscope's on every check it is timed on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import peers
from bench.limit import LimitAllowed, LimitR12
from bench.offerscope_api import Answer, Offerscope, answer
from bench.report import Report, Row, chunks, disagreements, median_rate, rates_in_turns
from bench.world import World

BATCH = 10_000
INDEX = "offerscope in-process (index)"
TURNS = 5  # goal 3's rounds at least: each times the index and the limits once


@dataclass
class Contender:
    """One of goal 3's timed entry points: the index or a limit, single or batch."""

    name: str
    mode: str  # "single" or "batch"
    run: Callable[[], None]  # decides every check once
    disagreements: int
    note: str = ""


def bench_offerscope(
    report: Report, store: Offerscope, world: World, pairs: list[tuple[str, str]], repeat: int
) -> list[Answer]:
    """The index's single and batch rates and goal 3's peers, the plain-Python limit
    (allowed-only and with R12's answers), timed in turns (`rates_in_turns`); returns the
    index's answers, which every peer is held to."""
    decide, decide_many = store.index_deciders()
    expected = [answer(d) for d in decide_many(pairs)]
    contenders = [
        *_contenders(INDEX, decide, decide_many, pairs, expected, as_answer=answer),
        *_limits(world, pairs, expected),
    ]
    rates = rates_in_turns(
        {f"{c.name} {c.mode}": c.run for c in contenders}, len(pairs), max(repeat, TURNS)
    )
    for c in contenders:
        rate = rates[f"{c.name} {c.mode}"]
        report.rows.append(Row(c.name, c.mode, len(pairs), rate, c.disagreements, c.note))
    _freshness_read(report, store, pairs, expected, repeat)
    return expected


def _contenders(
    name: str,
    decide: Callable[[str, str], object],
    decide_many: Callable[[list[tuple[str, str]]], Sequence[object]],
    pairs: list[tuple[str, str]],
    expected: Sequence[object],
    note: str = "",
    as_answer: Callable[[Any], object] = lambda got: got,
) -> list[Contender]:
    """A decider's single and batch entry points, each held to `expected` on every check
    (`as_answer`: an answer as `expected` gives it)."""
    parts = [list(part) for part in chunks(pairs, BATCH)]  # made ahead, as for every peer
    singles = [as_answer(decide(a, s)) for a, s in pairs]
    batched = [as_answer(got) for part in parts for got in decide_many(part)]

    def single() -> None:
        for account_id, spec_id in pairs:
            decide(account_id, spec_id)

    def batch() -> None:
        for part in parts:
            decide_many(part)

    return [
        Contender(name, "single", single, disagreements(expected, singles, f"{name} single"), note),
        Contender(
            name,
            "batch",
            batch,
            disagreements(expected, batched, f"{name} batch"),
            f"{BATCH:,} a call",
        ),
    ]


def _limits(world: World, pairs: list[tuple[str, str]], expected: list[Answer]) -> list[Contender]:
    """Goal 3's peers: the plain-Python limit, allowed-only and with R12's answers."""
    started = time.perf_counter()
    allowed = LimitAllowed(world)
    note = f"compiled in {time.perf_counter() - started:.1f} s; held to offerscope's allowed"
    only_allowed = [e[0] for e in expected]
    found = _contenders(
        allowed.name, allowed.decide, allowed.decide_many, pairs, only_allowed, note
    )
    started = time.perf_counter()
    full = LimitR12(world)
    note = f"compiled in {time.perf_counter() - started:.1f} s"
    return found + _contenders(full.name, full.decide, full.decide_many, pairs, expected, note)


def _freshness_read(
    report: Report,
    store: Offerscope,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    """What one check costs with the read of the revision that the HTTP endpoint makes."""
    sample = pairs[: min(len(pairs), 20_000)]
    check = store.check_with_freshness

    def checked() -> None:
        for account_id, spec_id in sample:
            check(account_id, spec_id)

    fresh = [answer(check(a, s)) for a, s in sample]
    report.rows.append(
        Row(
            "offerscope check() with freshness read",
            "single",
            len(sample),
            median_rate(checked, len(sample), repeat),
            disagreements(expected[: len(sample)], fresh, "offerscope check()"),
            "reads the revision first",
        )
    )


def bench_peer(
    report: Report,
    name: str,
    decide: Callable[[str, str], object],
    pairs: Sequence[tuple[str, str]],
    expected: Sequence[object],
    repeat: int,
    note: str = "",
) -> None:
    got = [decide(a, s) for a, s in pairs]
    wrong = disagreements(expected[: len(pairs)], got, name)

    def run() -> None:
        for account_id, spec_id in pairs:
            decide(account_id, spec_id)

    report.rows.append(
        Row(name, "single", len(pairs), median_rate(run, len(pairs), repeat), wrong, note)
    )


def bench_peer_batch(
    report: Report,
    name: str,
    decide_many: Callable[[list[tuple[str, str]]], Sequence[object]],
    pairs: Sequence[tuple[str, str]],
    expected: Sequence[object],
    repeat: int,
    size: int,
) -> None:
    got: list[object] = []
    for part in chunks(pairs, size):
        got += decide_many(list(part))
    wrong = disagreements(expected[: len(pairs)], got, name)
    parts = [list(part) for part in chunks(pairs, size)]

    def run() -> None:
        for part in parts:
            decide_many(part)

    report.rows.append(
        Row(
            name,
            "batch",
            len(pairs),
            median_rate(run, len(pairs), repeat),
            wrong,
            f"{size:,} a call",
        )
    )


def bench_peers(
    report: Report,
    world: World,
    path: Path,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    plain = peers.PlainPython(world)
    bench_peer(report, plain.name, plain.decide, pairs, expected, repeat)
    bench_peer_batch(report, plain.name, plain.decide_many, pairs, expected, repeat, BATCH)
    sqlite = peers.Sqlite(path)
    bench_peer(report, sqlite.name, sqlite.decide, pairs[:50_000], expected, repeat)
    sqlite.close()
    slow = pairs[: min(len(pairs), 20_000)]
    started = time.perf_counter()
    fast = peers.Casbin(world, fast=True)
    loaded = time.perf_counter() - started
    bench_peer(
        report, fast.name, fast.decide, slow, expected, repeat, f"policies loaded in {loaded:.1f} s"
    )
    fast.close()
    plain_casbin = peers.Casbin(world, fast=False)
    bench_peer(
        report,
        plain_casbin.name,
        plain_casbin.decide,
        pairs[:200],
        expected,
        repeat,
        "a small sample",
    )
    plain_casbin.close()
    started = time.perf_counter()
    cedar = peers.Cedar(world)
    loaded = time.perf_counter() - started
    # Cedar as modelled here runs at a few hundred checks a second: a sample keeps the run short.
    sample = pairs[: min(len(pairs), 2_000)]
    bench_peer(
        report, cedar.name, cedar.decide, sample, expected, repeat, f"loaded in {loaded:.1f} s"
    )
    bench_peer_batch(report, cedar.name, cedar.decide_many, sample, expected, repeat, 1_000)
