"""What a run collects and how it is timed: rows of the decisions table, other figures, extra
tables (HTTP, load), the goals, and the helpers every part times with."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.goals import Goal

T = TypeVar("T")


@dataclass
class Row:
    """One line of the decisions table."""

    name: str
    mode: str  # "single" or "batch"
    checks: int
    rate: float
    disagreements: int
    note: str = ""


@dataclass
class Table:
    """A table of its own in the printed report (HTTP runs, load runs)."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    scale: float
    rows: list[Row] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    # Raw measurements (every wrk run, every audit) for --json.
    details: dict[str, Any] = field(default_factory=dict)
    # Failures that must fail the run: lost writes, 5xx, wrong answers over HTTP.
    problems: list[str] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return sum(row.disagreements for row in self.rows)

    def rate(self, name: str, mode: str) -> float | None:
        return next((r.rate for r in self.rows if r.name == name and r.mode == mode), None)


# Each timed sample runs for at least this long: a run of a few thousand in-process decisions
# takes a millisecond or two, where a timer tick, a cache or the scheduler moves a figure by a
# fifth (goal 3's ratios wandered by that much between runs of the same code).
SAMPLE_S = 0.2


def median_rate(run: Callable[[], None], count: int, repeat: int) -> float:
    """Decisions per second: `count` decisions per `run()`, the median of `repeat` samples
    (`rates_in_turns` of one run)."""
    return rates_in_turns({"run": run}, count, repeat)["run"]


def rates_in_turns(
    runs: dict[str, Callable[[], None]], count: int, rounds: int
) -> dict[str, float]:
    """Decisions per second of each of `runs` (`count` decisions per run), the median of
    `rounds` samples, each of as many runs as fill `SAMPLE_S`. A first run of each tells how
    many; when one fills it, that run is the first sample, so a slow peer costs no extra run.
    The samples are taken in turns: each round times every run once, so that a slow minute of
    the machine falls on all of them alike and their ratios hold even when their rates wander."""
    loops: dict[str, int] = {}
    times: dict[str, list[float]] = {}
    for name, run in runs.items():
        first = _timed(run, 1)
        loops[name] = _loops(first)
        times[name] = [first] if loops[name] == 1 else []
    for _ in range(rounds):
        for name, run in runs.items():
            if len(times[name]) < rounds:
                times[name].append(_timed(run, loops[name]))
    return {name: count * loops[name] / statistics.median(times[name]) for name in runs}


def _timed(run: Callable[[], None], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        run()
    return time.perf_counter() - start


def _loops(first: float) -> int:
    """How many runs fill a sample of `SAMPLE_S`, one having taken `first` seconds."""
    return max(1, math.ceil(SAMPLE_S / max(first, 1e-9)))


def timed_ms(action: Callable[[], object], times: int) -> float:
    """Median milliseconds of one call."""
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def disagreements(expected: Sequence[object], got: Sequence[object], name: str) -> int:
    wrong = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    for i, e, g in wrong[:5]:
        print(f"!!! {name} DISAGREES on check {i}: offerscope {e}, {name} {g}", file=sys.stderr)
    return len(wrong)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, so that stdout holds the report alone; with the time so far, so that
    a slow part shows."""
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)
