"""Orders' hot path: `POST /v1/orders` by a buyer, to the use case without FastAPI's stack.

Profiled under many buyers ordering at once, an order spent more of its time in FastAPI's
routing, dependency resolution, request validation and response validation than in its own
use case (R11), and on SQLite that time competes for the GIL with the one writer. A
well-formed order with a buyer token is placed here instead (`hot_path`): the body parsed
with orjson, the order placed with the others waiting at that moment in one transaction
(`group_commit`, `orders.place_orders`) on the same thread pool as FastAPI's synchronous
endpoints, and the 201 answer rendered by the very response model the route uses.

A body that is not exactly the documented shape goes to the full stack, and so does an order
the use case refuses: it raises before anything is committed, and the full stack places it
again and answers, so that every refusal (403 with the decision, 404) keeps its one
definition there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import orjson
from starlette.types import ASGIApp, Scope

from offerscope.api.group_commit import GroupCommit
from offerscope.api.hot_path import Answer, HotPath
from offerscope.api.metrics import Metrics
from offerscope.api.schemas import MAX_ID, Order
from offerscope.bootstrap import Backend
from offerscope.domain.errors import OfferscopeError
from offerscope.index.index import DecisionIndex
from offerscope.services import orders
from offerscope.services.actors import Actor, Role
from offerscope.services.views import OrderView
from offerscope.storage.unit_of_work import Database

PATH = "/v1/orders"
OrderBatches = GroupCommit[tuple[Actor, str], OrderView | Exception]


class FastOrders(HotPath):
    """Places the common case of an order; see the module's docstring."""

    paths = (PATH,)

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        super().__init__(app, max_body_bytes)
        self._batches: tuple[Database, OrderBatches] | None = None

    async def answer(
        self, scope: Scope, backend: Backend, index: DecisionIndex, actor: Actor, body: bytes
    ) -> Answer | None:
        specification_id = _specification_id(body)
        if specification_id is None or actor.role is not Role.BUYER:
            return None
        batches = self._group_commit(backend.db, scope["app"].state.metrics)
        placed = await batches.submit((actor, specification_id))
        if isinstance(placed, OfferscopeError):
            return None  # refused before anything was committed: the full stack answers
        if isinstance(placed, Exception):
            # Never placed again through the full stack: a batch whose commit failed may have
            # landed. The database out of reach is answered 503 (`HotPath`).
            raise placed
        return Answer(201, Order(**vars(placed)).model_dump_json().encode())

    def _group_commit(self, db: Database, metrics: Metrics) -> OrderBatches:
        """The one group commit of orders to `db`, this app's database."""
        if self._batches is None or self._batches[0] is not db:
            self._batches = (db, GroupCommit(partial(_place_counted, db, metrics)))
        return self._batches[1]


def _place_counted(
    db: Database, metrics: Metrics, requests: Sequence[tuple[Actor, str]]
) -> list[OrderView | Exception]:
    """A batch of orders placed (`orders.place_orders`), its size counted for operators."""
    metrics.order_batches.observe(len(requests))
    return orders.place_orders(db, requests)


def _specification_id(body: bytes) -> str | None:
    """The specification ID of a body exactly as `schemas.OrderCreate` takes it."""
    try:
        request: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or request.keys() != {"specification_id"}:
        return None
    found = request["specification_id"]
    if not isinstance(found, str) or not 0 < len(found) <= MAX_ID or "\x00" in found:
        return None
    return found
