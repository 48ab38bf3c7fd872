"""R18: the change feed, `GET /v1/changes`, for operators (everything) and sellers (their own).

`wait` long-polls: between looks the request holds no database connection, only a cheap
read of the change log's revision (shared by every waiting request of the process) tells
it when something newer committed.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from offerscope.api.deps import Authenticated, CheckedText, Db, Index
from offerscope.api.schemas import Response
from offerscope.domain.limits import MAX_PAGE
from offerscope.services import feed
from offerscope.services.actors import Actor, Role
from offerscope.web.errors import HttpError

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=[CheckedText])

# How often a waiting request looks at the revision (one shared primary-key read).
POLL_SECONDS = 0.05


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
    while True:
        view = await run_in_threadpool(feed.read_changes, db, actor, after, limit)
        if view.items or time.monotonic() >= deadline:
            return Changes.of(view)
        after = view.next_after  # nothing of ours up to here: wait for what follows
        while time.monotonic() < deadline:
            await anyio.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
            if await run_in_threadpool(index.committed_revision) > view.revision:
                break
