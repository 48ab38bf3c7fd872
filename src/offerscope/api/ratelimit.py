"""Failed authentication, rate-limited per client address: brute force gets 429, not answers.

The limit is kept in memory, per server process: with N worker processes a client may fail
up to N times the limit before every process refuses it. That bounds guessing well enough
(tokens carry 256 random bits); a shared store would add a dependency for no real gain.

The client is the address the ASGI server reports. Behind a reverse proxy, run uvicorn with
`--proxy-headers --forwarded-allow-ips=<proxy>` so that this is the real client's address;
`X-Forwarded-For` is never read here, since any client could forge it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.problems import problem

DEFAULT_FAILURES_PER_MINUTE = 20
WINDOW_SECONDS = 60.0
# Beyond this many tracked addresses, those with no failure inside the window are forgotten,
# so that a flood of one-off addresses cannot grow the table without bound.
MAX_TRACKED_CLIENTS = 10_000


class FailedAuthLimiter:
    """A sliding window of failed authentications per client address."""

    def __init__(
        self,
        limit: int = DEFAULT_FAILURES_PER_MINUTE,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it is not blocked."""
        failures = self._recent(client)
        if failures is None or len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def note_failure(self, client: str) -> None:
        if client not in self._failures and len(self._failures) >= MAX_TRACKED_CLIENTS:
            self._forget_stale()
        failures = self._failures.setdefault(client, deque())
        failures.append(self.clock())
        while len(failures) > self.limit:
            failures.popleft()

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def _forget_stale(self) -> None:
        for client in list(self._failures):
            self._recent(client)


def _presented_credentials(scope: Scope) -> bool:
    """A bearer header, or a sign-in form (a POST): a request that tried to authenticate."""
    headers = dict(scope.get("headers") or [])
    return b"authorization" in headers or scope.get("method") == "POST"


class FailedAuthRateLimitMiddleware:
    """Counts 401 answers to requests that presented credentials; 429 once over the limit.

    A blocked client is refused on every endpoint but the exempt ones (health) until its
    oldest failure leaves the window; `Retry-After` says when.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: FailedAuthLimiter,
        exempt_paths: tuple[str, ...] = ("/healthz",),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.limiter.retry_after(client)
        if wait is not None:
            response = problem(
                429,
                "too_many_requests",
                "Too many failed authentications from your address; try again later.",
                {"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        counts = _presented_credentials(scope)

        async def send_and_count(message: Message) -> None:
            if counts and message["type"] == "http.response.start" and message["status"] == 401:
                self.limiter.note_failure(client)
            await send(message)

        await self.app(scope, receive, send_and_count)
