"""Prometheus metrics of one server process: requests, latencies and decisions by reason."""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "offerscope_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "offerscope_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.decisions = Counter(
            "offerscope_decisions",
            "Decisions made, by R12 reason.",
            ["reason"],
            registry=self.registry,
        )
        self.order_batches = Histogram(
            "offerscope_order_batch_size",
            "Orders placed together in one transaction (group commit).",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64),
        )

    def count(self, reasons: Mapping[str, int]) -> None:
        """Decisions made: how many gave each R12 reason."""
        for reason, count in reasons.items():
            self.decisions.labels(reason).inc(count)


def count_decisions(request: Request, reasons: Mapping[str, int]) -> None:
    metrics: Metrics = request.app.state.metrics
    metrics.count(reasons)


class MetricsMiddleware:
    """Counts and times every request under its route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started
            )
