"""Freeing R15's claims of requests that did not succeed, for the API and the web forms alike.

A request that fails gives its Idempotency-Key (or its form's key) back, so that it may be
sent again. When it failed because the database was out of reach, the release cannot reach
it either: the claim is then released as soon as the database is back, by one task of the
server's loop (every `RETRY_S`), so that the retry a 503 invites is not refused as still
running until the claim's lease ends. A claim completed (its commit landed with its answer
lost) or taken over meanwhile is left as it is (`services.idempotency.release`).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from offerscope.services import idempotency
from offerscope.services.idempotency import Claim
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.storage.unit_of_work import Database

log = logging.getLogger("offerscope.web")

RETRY_S = 0.5  # well within the Retry-After of a 503
SETTLED = "the database is back: a claim left by its outage is settled"


async def release(db: Database, claim: Claim) -> None:
    """Free the key of a request that did not succeed; later, if the database is away."""
    try:
        await run_in_threadpool(idempotency.release, db, claim)
    except UNAVAILABLE:
        _orphans.add(db, claim)


class _Orphans:
    """Claims whose release waits for the database. Only requests running when it went away
    leave one, so they are few."""

    def __init__(self) -> None:
        self._claims: dict[Claim, Database] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, db: Database, claim: Claim) -> None:
        self._claims[claim] = db
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:  # a test's loop ended
            self._task = loop.create_task(self._release_all())

    async def _release_all(self) -> None:
        while self._claims:
            await asyncio.sleep(RETRY_S)
            for claim, db in list(self._claims.items()):
                try:
                    await run_in_threadpool(idempotency.release, db, claim)
                except UNAVAILABLE:
                    break  # still away: the others wait for the next round
                del self._claims[claim]
                log.info(SETTLED)


_orphans = _Orphans()
