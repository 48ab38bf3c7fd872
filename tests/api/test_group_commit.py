"""Group commit: who goes in which batch, and what each request is told.

The writer here is a plain function that records the batches it is handed and can be held
at its start, so that a test decides which requests arrive while a batch is being written.
Orders written this way against a real database are in tests/index/test_index.py (R11's
answers, in order, one revision) and tests/api/test_fast_orders.py (over HTTP).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from offerscope.api.group_commit import GroupCommit


class Writer:
    """Answers each request with its double; fails a batch holding a negative request."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def __call__(self, batch: Sequence[int]) -> list[int]:
        self.batches.append(list(batch))
        self.started.set()
        self.go_on.wait(timeout=10)
        if any(n < 0 for n in batch):
            raise ValueError("this batch failed")
        return [2 * n for n in batch]

    def hold(self) -> None:
        self.started.clear()
        self.go_on.clear()

    async def wait_started(self) -> None:
        await asyncio.to_thread(self.started.wait, 10)


async def _arrive_while_the_first_is_written(
    writer: Writer, commit: GroupCommit[int, int], later: list[int]
) -> list[int | BaseException]:
    writer.hold()
    first = asyncio.create_task(commit.submit(1))
    await writer.wait_started()
    others = [asyncio.create_task(commit.submit(n)) for n in later]
    await asyncio.sleep(0.01)  # every one of them is waiting now
    writer.go_on.set()
    return await asyncio.gather(first, *others, return_exceptions=True)


def test_requests_that_arrive_during_a_batch_go_together_in_the_next() -> None:
    writer = Writer()
    commit = GroupCommit(writer)
    answers = asyncio.run(_arrive_while_the_first_is_written(writer, commit, [2, 3, 4, 5]))
    assert answers == [2, 4, 6, 8, 10]
    assert writer.batches == [[1], [2, 3, 4, 5]]


def test_a_lone_request_is_written_at_once_and_alone() -> None:
    writer = Writer()
    commit = GroupCommit(writer)

    async def one_after_another() -> list[int]:
        return [await commit.submit(n) for n in (7, 8)]

    assert asyncio.run(one_after_another()) == [14, 16]
    assert writer.batches == [[7], [8]]


def test_no_batch_is_larger_than_its_limit() -> None:
    writer = Writer()
    commit = GroupCommit(writer, most=2)
    answers = asyncio.run(_arrive_while_the_first_is_written(writer, commit, [2, 3, 4, 5, 6]))
    assert answers == [2, 4, 6, 8, 10, 12]
    assert writer.batches == [[1], [2, 3], [4, 5], [6]]


def test_a_failed_batch_tells_each_of_its_requests_and_the_next_batch_goes_on() -> None:
    writer = Writer()
    commit = GroupCommit(writer, most=2)
    answers = asyncio.run(_arrive_while_the_first_is_written(writer, commit, [-2, 3, 4]))
    assert answers[0] == 2 and answers[3] == 8
    assert all(isinstance(a, ValueError) for a in answers[1:3])
    assert writer.batches == [[1], [-2, 3], [4]]
    assert asyncio.run(_arrive_while_the_first_is_written(writer, commit, [])) == [2]


def test_a_request_whose_client_went_is_written_all_the_same() -> None:
    writer = Writer()
    commit = GroupCommit(writer)

    async def leave_while_waiting() -> int:
        writer.hold()
        first = asyncio.create_task(commit.submit(1))
        await writer.wait_started()
        gone = asyncio.create_task(commit.submit(2))
        stays = asyncio.create_task(commit.submit(3))
        await asyncio.sleep(0.01)
        gone.cancel()
        writer.go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await gone
        await first
        return await stays

    assert asyncio.run(leave_while_waiting()) == 6
    assert writer.batches == [[1], [2, 3]]
