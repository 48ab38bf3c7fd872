"""Load shedding: a process answers 503 at once rather than letting requests queue into timeouts.

Synchronous handlers run on a bounded thread pool; requests beyond it wait for a thread. The
middleware counts the requests that hold the process's capacity (running, or waiting for a
thread), and past `max_inflight` it refuses new ones with 503 `overloaded` and `Retry-After`,
so that clients back off and retry instead of piling up behind a queue that only grows.

A request waiting on its client holds none of that: while it waits for the rest of its body
(a slow upload, or a client that never sends it) it is not counted, nor while a handler waits
on purpose (a change-feed long-poll, `Slot.idle`). Otherwise anyone could hold every place
with a few dozen half-sent requests, token or none, and checkout would be refused. Requests
held open at all are bounded by `max_open` (memory), a limit only a flood of connections
reaches; a reverse proxy in front is what meets that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.problems import problem

DEFAULT_MAX_INFLIGHT = 64
OPEN_PER_INFLIGHT = 16  # requests held open (idle included) per place
RETRY_AFTER_SECONDS = 1
SLOT = "offerscope.slot"  # the scope key of a request's `Slot`


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
        self.max_open = max_inflight * OPEN_PER_INFLIGHT
        self.exempt_paths = exempt_paths
        self.inflight = 0  # requests holding a place now
        self.open = 0  # requests between arrival and their last byte
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        # One event loop per process: nothing runs between this test and the increments.
        if self.inflight >= self.max_inflight or self.open >= self.max_open:
            self.refused += 1
            response = problem(
                503,
                "overloaded",
                "The service is busy; retry after the number of seconds in Retry-After.",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        slot = scope[SLOT] = Slot(self)
        self.inflight += 1
        self.open += 1
        try:
            await self.app(scope, slot.receiving(receive), send)
        finally:
            self.open -= 1
            self.inflight -= 1


class Slot:
    """One request's place among its process's `max_inflight`, given up while it waits."""

    def __init__(self, shedder: OverloadMiddleware) -> None:
        self._shedder = shedder
        self._body_read = False

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Give the place up while the block waits (holding nothing but memory)."""
        self._shedder.inflight -= 1
        try:
            yield
        finally:
            self._shedder.inflight += 1

    def receiving(self, receive: Receive) -> Receive:
        """`receive`, idle while it waits for more of the body from the client."""

        async def counted() -> Message:
            if self._body_read:  # later reads only watch for a disconnect
                return await receive()
            with self.idle():
                message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                self._body_read = True
            return message

        return counted


@contextmanager
def idle(scope: Scope) -> Iterator[None]:
    """`Slot.idle` of the request of `scope` (nothing where no middleware counts it)."""
    slot: Slot | None = scope.get(SLOT)
    if slot is None:
        yield
        return
    with slot.idle():
        yield
