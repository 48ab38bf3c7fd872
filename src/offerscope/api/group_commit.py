"""Group commit: requests that arrive while one batch is being written go together in the next.

Under many buyers at once, an order spends less of its time in its own statements than in
what surrounds each transaction: taking the writer's lock (SQLite) or the connection (both),
BEGIN and COMMIT, and the hand-offs between the event loop and the thread that writes. One
writer at a time takes every request waiting and writes them in one transaction; requests
that arrive meanwhile wait for the next. Nothing waits for a batch to fill: a lone request is
written at once, as a batch of one, so a batch is only as large as the load makes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from anyio import to_thread

Request = TypeVar("Request")
Answer = TypeVar("Answer")

MOST = 64  # requests in one transaction: it holds the writer's lock for all of them


class GroupCommit(Generic[Request, Answer]):
    """Hands batches of requests to `write`, on a worker thread, one batch at a time.

    `write` answers every request of a batch, in order, and raises only when the whole batch
    failed (each of its requests is then told the error).
    """

    def __init__(
        self, write: Callable[[Sequence[Request]], list[Answer]], *, most: int = MOST
    ) -> None:
        self._write = write
        self._most = most
        self._waiting: list[tuple[Request, asyncio.Future[Answer]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Answer:
        """`request`'s answer, once the batch it went in has been written."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, answer))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_while_waiting())
        # Cancelled (its client gone), the request stays in its batch and is written all the
        # same: its client cannot know the outcome, as when it goes while a transaction runs.
        return await answer

    async def _write_while_waiting(self) -> None:
        batch: list[tuple[Request, asyncio.Future[Answer]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._most]
                del self._waiting[: self._most]
                await self._write_batch(batch)
        except BaseException:  # the loop is closing: nobody is left to answer
            for _, answer in batch + self._waiting:
                answer.cancel()
            self._waiting.clear()
            raise
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[Request, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await to_thread.run_sync(self._write, [request for request, _ in batch])
        except Exception as failed:
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(failed)
            return
        for (_, answer), given in zip(batch, answers, strict=True):
            if not answer.done():
                answer.set_result(given)
