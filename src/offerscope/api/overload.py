"""Load shedding: a process answers 503 at once rather than letting requests queue into timeouts.

Synchronous handlers run on a bounded thread pool; requests beyond it wait for a thread. The
middleware counts every request between arrival and its last byte (running or waiting), and
past `max_inflight` it refuses new ones with 503 `overloaded` and `Retry-After`, so that
clients back off and retry instead of piling up behind a queue that only grows.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from offerscope.api.problems import problem

DEFAULT_MAX_INFLIGHT = 64
RETRY_AFTER_SECONDS = 1


class OverloadMiddleware:
    """Refuse requests beyond `max_inflight` at once in this process (health exempt)."""

    def __init__(
        self,
        app: ASGIApp,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        exempt_paths: tuple[str, ...] = ("/healthz",),
    ) -> None:
        self.app = app
        self.max_inflight = max_inflight
        self.exempt_paths = exempt_paths
        self.inflight = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        # One event loop per process: nothing runs between this test and the increment.
        if self.inflight >= self.max_inflight:
            self.refused += 1
            response = problem(
                503,
                "overloaded",
                "The service is busy; retry after the number of seconds in Retry-After.",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
