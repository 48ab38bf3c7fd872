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
    """A timed entry point, its answers already held to offerscope's on every check."""

    name: str
    mode: str  # "single" or "batch"
    checks: int
    run: Callable[[], None]  # decides every check once
    disagreements: int
    note: str = ""

    def row(self, rate: float) -> Row:
        return Row(self.name, self.mode, self.checks, rate, self.disagreements, self.note)


def _as_given(got: object) -> object:
    return got


def one_by_one(
    name: str,
    decide: Callable[[str, str], object],
    pairs: Sequence[tuple[str, str]],
    expected: Sequence[object],
    note: str = "",
    as_answer: Callable[[Any], object] = _as_given,
) -> Contender:
    """A single-check entry point (`as_answer`: its answer as `expected` gives it)."""
    got = [as_answer(decide(a, s)) for a, s in pairs]

    def run() -> None:
        for account_id, spec_id in pairs:
            decide(account_id, spec_id)

    wrong = disagreements(expected[: len(pairs)], got, f"{name} single")
    return Contender(name, "single", len(pairs), run, wrong, note)


def in_batches(
    name: str,
    decide_many: Callable[[list[tuple[str, str]]], Sequence[object]],
    pairs: Sequence[tuple[str, str]],
    expected: Sequence[object],
    size: int = BATCH,
    as_answer: Callable[[Any], object] = _as_given,
) -> Contender:
    """A batch entry point, called with `size` checks at a time (made ahead, as for every
    peer)."""
    parts = [list(part) for part in chunks(pairs, size)]
    got = [as_answer(answered) for part in parts for answered in decide_many(part)]

    def run() -> None:
        for part in parts:
            decide_many(part)

    wrong = disagreements(expected[: len(pairs)], got, f"{name} batch")
    return Contender(name, "batch", len(pairs), run, wrong, f"{size:,} a call")


def timed(report: Report, contender: Contender, repeat: int) -> None:
    """One contender's rate (`median_rate`), as a row of the decisions table."""
    report.rows.append(contender.row(median_rate(contender.run, contender.checks, repeat)))


def bench_offerscope(
    report: Report, store: Offerscope, world: World, pairs: list[tuple[str, str]], repeat: int
) -> list[Answer]:
    """The index's single and batch rates and goal 3's peers, the plain-Python limit
    (allowed-only and with R12's answers), timed in turns (`rates_in_turns`); returns the
    index's answers, which every peer is held to."""
    decide, decide_many = store.index_deciders()
    expected = [answer(d) for d in decide_many(pairs)]
    contenders = [
        one_by_one(INDEX, decide, pairs, expected, as_answer=answer),
        in_batches(INDEX, decide_many, pairs, expected, as_answer=answer),
        *_limits(world, pairs, expected),
    ]
    rates = rates_in_turns(
        {f"{c.name} {c.mode}": c.run for c in contenders}, len(pairs), max(repeat, TURNS)
    )
    report.rows += [c.row(rates[f"{c.name} {c.mode}"]) for c in contenders]
    sample = pairs[: min(len(pairs), 20_000)]
    fresh = one_by_one(
        "offerscope check() with freshness read",
        store.check_with_freshness,
        sample,
        expected,
        "reads the revision first",
        as_answer=answer,
    )
    timed(report, fresh, repeat)
    return expected


def _limits(world: World, pairs: list[tuple[str, str]], expected: list[Answer]) -> list[Contender]:
    """Goal 3's peers: the plain-Python limit, allowed-only and with R12's answers."""
    started = time.perf_counter()
    allowed = LimitAllowed(world)
    note = f"compiled in {time.perf_counter() - started:.1f} s; held to offerscope's allowed"
    only_allowed = [e[0] for e in expected]
    started = time.perf_counter()
    full = LimitR12(world)
    full_note = f"compiled in {time.perf_counter() - started:.1f} s"
    return [
        one_by_one(allowed.name, allowed.decide, pairs, only_allowed, note),
        in_batches(allowed.name, allowed.decide_many, pairs, only_allowed),
        one_by_one(full.name, full.decide, pairs, expected, full_note),
        in_batches(full.name, full.decide_many, pairs, expected),
    ]


def bench_peers(
    report: Report,
    world: World,
    path: Path,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    plain = peers.PlainPython(world)
    timed(report, one_by_one(plain.name, plain.decide, pairs, expected), repeat)
    timed(report, in_batches(plain.name, plain.decide_many, pairs, expected), repeat)
    sqlite = peers.Sqlite(path)
    timed(report, one_by_one(sqlite.name, sqlite.decide, pairs[:50_000], expected), repeat)
    sqlite.close()
    slow = pairs[: min(len(pairs), 20_000)]
    started = time.perf_counter()
    fast = peers.Casbin(world, fast=True)
    note = f"policies loaded in {time.perf_counter() - started:.1f} s"
    timed(report, one_by_one(fast.name, fast.decide, slow, expected, note), repeat)
    fast.close()
    plain_casbin = peers.Casbin(world, fast=False)
    small = one_by_one(
        plain_casbin.name, plain_casbin.decide, pairs[:200], expected, "a small sample"
    )
    timed(report, small, repeat)
    plain_casbin.close()
    started = time.perf_counter()
    cedar = peers.Cedar(world)
    note = f"loaded in {time.perf_counter() - started:.1f} s"
    # Cedar as modelled here runs at a few hundred checks a second: a sample keeps the run short.
    sample = pairs[: min(len(pairs), 2_000)]
    timed(report, one_by_one(cedar.name, cedar.decide, sample, expected, note), repeat)
    timed(report, in_batches(cedar.name, cedar.decide_many, sample, expected, 1_000), repeat)
