"""Slowing down token guessing without ever refusing a valid credential.

Only failed authentications are counted, per client address, in a sliding window; once an
address has failed `limit` times inside it, its further failures are answered 429 instead of
401 until the oldest failure leaves the window. A request whose credential is valid is never
counted and never refused: behind a NAT or a load balancer, other people's failures must not
stop checkout.

The count is kept in memory, per server process: with N processes an address may fail up to N
times the limit. That bounds guessing well enough (tokens carry 256 random bits).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from offerscope.domain.errors import OfferscopeError

DEFAULT_FAILURES_PER_MINUTE = 20
WINDOW_SECONDS = 60.0
# Beyond this many tracked addresses, those with no failure inside the window are forgotten,
# so that a flood of one-off addresses cannot grow the table without bound.
MAX_TRACKED_CLIENTS = 10_000


class TooManyFailures(OfferscopeError):
    """An address that failed too often presented another credential that is not valid."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too_many_requests",
            "Too many failed authentications from your address; try again in "
            f"{retry_after} seconds.",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


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

    def failed(self, client: str) -> None:
        """Count one failed authentication of `client`; raise once it is over the limit.

        Called only after a credential was found not to be valid, so a valid one is never
        refused. A blocked client's failures keep counting: one that keeps guessing stays
        blocked.
        """
        wait = self.retry_after(client)
        self.note_failure(client)
        if wait is not None:
            raise TooManyFailures(wait)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client`'s failures are answered 401 again, or None."""
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
