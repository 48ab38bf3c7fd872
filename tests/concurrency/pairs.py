"""Two requests sent at the same moment from two threads, many times over."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")


class Pair:
    """Runs two calls at once: both threads wait at a barrier, then call together."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._barrier = threading.Barrier(2)

    def _together(self, call: Callable[[], T]) -> T:
        self._barrier.wait(timeout=60)
        return call()

    def run(self, first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
        a = self._pool.submit(self._together, first)
        b = self._pool.submit(self._together, second)
        return a.result(timeout=120), b.result(timeout=120)


@contextmanager
def pair() -> Iterator[Pair]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield Pair(pool)
