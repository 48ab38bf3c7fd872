"""Where a load run's time went, route by route: the server's own request-duration histogram
(`GET /metrics`), read before and after the run.

The figures are the server's time for each request, from its arrival in the app to its answer
(waiting for a worker thread or SQLite's write lock included; time in the socket's queue not).
A server of several processes answers a scrape from one of them, so only a one-process
server's figures are whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.report import Table

FAMILY = "offerscope_http_request_duration_seconds"
Route = tuple[str, str]  # (method, path template)


@dataclass
class Times:
    count: float = 0.0
    seconds: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> requests within

    def plus(self, other: Times, sign: float = 1.0) -> Times:
        bounds = self.buckets.keys() | other.buckets.keys()
        return Times(
            self.count + sign * other.count,
            self.seconds + sign * other.seconds,
            {b: self.buckets.get(b, 0.0) + sign * other.buckets.get(b, 0.0) for b in bounds},
        )

    def at_most(self, share: float) -> float:
        """The smallest bucket bound that `share` of the requests were within (seconds)."""
        for bound in sorted(self.buckets):
            if self.buckets[bound] >= share * self.count:
                return bound
        return float("inf")


def scrape(base: str, token: str) -> dict[Route, Times]:
    """The server's request durations so far, by route."""
    return parse(httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text)


def parse(text: str) -> dict[Route, Times]:
    """The request durations of a Prometheus text exposition, by route."""
    found: dict[Route, Times] = {}
    for family in text_string_to_metric_families(text):
        if family.name != FAMILY:
            continue
        for sample in family.samples:
            route = (sample.labels["method"], sample.labels["route"])
            times = found.setdefault(route, Times())
            if sample.name.endswith("_count"):
                times.count = sample.value
            elif sample.name.endswith("_sum"):
                times.seconds = sample.value
            elif sample.name.endswith("_bucket"):
                times.buckets[float(sample.labels["le"])] = sample.value
    return found


def between(before: dict[Route, Times], after: dict[Route, Times]) -> dict[Route, Times]:
    """What the requests between two scrapes took (the scrapes' own request left out)."""
    return {
        route: times.plus(before.get(route, Times()), -1.0)
        for route, times in after.items()
        if route[1] != "/metrics" and times.count > before.get(route, Times()).count
    }


def added(total: dict[Route, Times], more: dict[Route, Times]) -> dict[Route, Times]:
    return {r: total.get(r, Times()).plus(more.get(r, Times())) for r in total.keys() | more}


def table(title: str, times: dict[Route, Times], seconds: float) -> Table:
    """One row a route, busiest first."""
    made = Table(title, ["route", "requests", "per second", "mean", "p50 within", "p99 within"])
    for (method, path), t in sorted(times.items(), key=lambda item: -item[1].count):
        made.rows.append(
            [
                f"{method} {path}",
                f"{t.count:,.0f}",
                f"{t.count / seconds:,.0f}" if seconds else "-",
                f"{t.seconds / t.count * 1000:.1f} ms",
                _bound(t.at_most(0.5)),
                _bound(t.at_most(0.99)),
            ]
        )
    made.notes.append(
        "the server's own time per request (its /metrics histogram), from the request's arrival"
        " in the app to its answer; bucket bounds, so 'within' is an upper bound"
    )
    return made


def _bound(seconds: float) -> str:
    return "past the last bucket" if seconds == float("inf") else f"{seconds * 1000:g} ms"
