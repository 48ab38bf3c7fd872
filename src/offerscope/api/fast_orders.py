"""Orders' hot path: `POST /v1/orders` by a buyer, to the use case without FastAPI's stack.

Profiled under many buyers ordering at once, an order spent more of its time in FastAPI's
routing, dependency resolution, request validation and response validation than in its own
use case (R11), and on SQLite that time competes for the GIL with the one writer. A
well-formed order with a valid buyer token is placed here instead: the body parsed with
orjson, the token found in the index's memory after it caught up with every commit (as for
every decision), the use case run on the same thread pool as FastAPI's synchronous endpoints,
and the 201 answer rendered by the very response model the route uses.

Anything else (no or another token, a body that is not exactly the documented shape, an
Idempotency-Key, a query string, a body over the limit) falls through to the full stack with
its body replayed. So does an order the use case refuses: it raises before anything is
committed, and the full stack places it again and answers, so that every refusal (403 with
the decision, 404) keeps its one definition there.
"""

from __future__ import annotations

from typing import Any

import orjson
from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from offerscope.api.fast_decisions import bearer, read_body, refreshed_index, replaying
from offerscope.api.schemas import Order
from offerscope.bootstrap import Backend
from offerscope.domain.errors import OfferscopeError
from offerscope.services import orders
from offerscope.services.actors import Role
from offerscope.services.tokens import authenticate_in

PATH = "/v1/orders"
ID_MAX = 64  # `schemas.Id`
_JSON = [(b"content-type", b"application/json")]


class _Route:
    """What the metrics middleware reads of a matched route: its path template."""

    path = PATH


class FastOrders:
    """Places the common case of an order; see the module's docstring."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("path") != PATH
            or scope["method"] != "POST"
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        token = bearer(scope)
        if token is None:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, self.max_body_bytes)
        content = await _place(scope, token, body) if complete else None
        if content is None:
            await self.app(scope, replaying(body, complete, receive), send)
            return
        scope["route"] = _Route()
        length = (b"content-length", str(len(content)).encode())
        await send({"type": "http.response.start", "status": 201, "headers": [*_JSON, length]})
        await send({"type": "http.response.body", "body": content})


async def _place(scope: Scope, token: str, body: bytes) -> bytes | None:
    """The 201 answer's body, or None to let the full stack answer."""
    specification_id = _specification_id(body)
    if specification_id is None:
        return None
    backend: Backend = scope["app"].state.backend
    index = await refreshed_index(backend)
    if index is None:
        return None
    actor = authenticate_in(index, token)
    if actor is None or actor.role is not Role.BUYER:
        return None  # 401, 403 and the failure count are the full stack's
    try:
        placed = await to_thread.run_sync(orders.place_order, backend.db, actor, specification_id)
    except OfferscopeError:
        return None  # refused before anything was committed: the full stack answers
    return Order(**vars(placed)).model_dump_json().encode()


def _specification_id(body: bytes) -> str | None:
    """The specification ID of a body exactly as `schemas.OrderCreate` takes it."""
    try:
        request: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or request.keys() != {"specification_id"}:
        return None
    found = request["specification_id"]
    if not isinstance(found, str) or not 0 < len(found) <= ID_MAX or "\x00" in found:
        return None
    return found
