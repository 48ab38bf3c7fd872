"""R18: the change feed, `GET /v1/changes`, for operators (everything) and sellers (their own).

`wait` long-polls: between looks the request holds no database connection, only a cheap
read of the change log's revision (shared by every waiting request of the process) tells
it when something newer committed. A waiting request gives up its place among the process's
busy requests (`overload.idle`), so waits never crowd out checkout; a caller may hold
`MAX_WAITS` of them at once per process, so one cannot fill the process with them either.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from offerscope.api.deps import Authenticated, CheckedText, Db, Index
from offerscope.api.overload import idle
from offerscope.api.schemas import Response
from offerscope.domain.limits import MAX_PAGE
from offerscope.services import feed
from offerscope.services.actors import Actor, Role
from offerscope.web.errors import HttpError

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=[CheckedText])

# How often a waiting request looks at the revision (one shared primary-key read).
POLL_SECONDS = 0.05
# Long-polls one caller (a seller, or the operators) may hold at once in a process.
MAX_WAITS = 8
_waits: Counter[str] = Counter()  # the waits running now, by caller (one event loop)


class Change(Response):
    revision: int
    time: datetime
    actor: str
    product_id: str | None
    specification_id: str | None
    group_id: str | None
    kind: str
    granted: list[str] | None
    revoked: list[str] | None
    granted_count: int
    revoked_count: int
    impact: dict[str, int] | None


class Changes(Response):
    items: list[Change]
    next_after: int
    revision: int

    @classmethod
    def of(cls, view: feed.ChangesView) -> Changes:
        return cls(
            items=[Change(**vars(item)) for item in view.items],
            next_after=view.next_after,
            revision=view.revision,
        )


async def _seller_or_operator(actor: Authenticated) -> Actor:
    if actor.role is Role.BUYER:
        raise HttpError(403, "forbidden", "The change feed is for operator and seller tokens.")
    return actor


FeedReader = Annotated[Actor, Depends(_seller_or_operator)]


@router.get("/changes", response_model=Changes)
async def changes(
    request: Request,
    db: Db,
    index: Index,
    actor: FeedReader,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    wait: Annotated[float, Query(ge=0, le=feed.MAX_WAIT_SECONDS)] = 0,
) -> Changes:
    """Committed changes after revision `after`, in commit order (R18); with `wait`, held
    until one commits or `wait` seconds pass. Continue with `after=next_after`."""
    deadline = time.monotonic() + wait
    with _waiting(actor, wait):
        while True:
            view = await run_in_threadpool(feed.read_changes, db, actor, after, limit)
            if view.items or time.monotonic() >= deadline:
                return Changes.of(view)
            after = view.next_after  # nothing of ours up to here: wait for what follows
            while time.monotonic() < deadline:
                with idle(request.scope):
                    await anyio.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
                if await run_in_threadpool(index.committed_revision) > view.revision:
                    break


@contextmanager
def _waiting(actor: Actor, wait: float) -> Iterator[None]:
    """Count a long-poll of `actor`'s while it runs; 429 past `MAX_WAITS`."""
    if not wait:
        yield
        return
    caller = actor.seller_id or actor.role.value
    if _waits[caller] >= MAX_WAITS:
        raise HttpError(
            429,
            "too_many_waits",
            f"This caller already has {MAX_WAITS} requests waiting for changes; wait for one "
            "to answer (or send this one without wait) before sending another.",
        )
    _waits[caller] += 1
    try:
        yield
    finally:
        _waits[caller] -= 1
        if not _waits[caller]:
            del _waits[caller]
