"""Checkout's hot path: `POST /v1/decisions` and `/v1/decisions/batch`, straight to the index.

A well-formed request with a valid operator token is answered here, before FastAPI's routing,
dependencies and models: the body parsed with orjson, the token found in the index's memory
after the index caught up with every commit (one shared read of the revision, awaited so that
the loop serves other requests meanwhile: `AsyncRevisionProbe`),
the decision made, and its JSON, rendered once per decision, sent. The answers are byte for
byte those of the routes in `routes/operator.py`.

Anything else (no or another token, a body that is not exactly the documented shape, an
Idempotency-Key, a query string, a body over the limit) falls through to the full stack with
its body replayed, so that every refusal keeps its one definition there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.decision_json import batch_body, decision_body
from offerscope.api.metrics import Metrics
from offerscope.bootstrap import Backend
from offerscope.domain.decision import Decision
from offerscope.domain.limits import MAX_BATCH
from offerscope.index.index import DecisionIndex
from offerscope.services.actors import Role
from offerscope.services.tokens import TOKEN_PREFIX

SINGLE = "/v1/decisions"
BATCH = "/v1/decisions/batch"
ID_MAX = 64  # `schemas.CheckedId`
KEYS = frozenset({"account_id", "specification_id"})
NUL_ESCAPE = b"\\u0000"
_JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class _Route:
    """What the metrics middleware reads of a matched route: its path template."""

    path: str


_ROUTES = {SINGLE: _Route(SINGLE), BATCH: _Route(BATCH)}


class FastDecisions:
    """Answers the decision endpoints' common case; see the module's docstring."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if (
            scope["type"] != "http"
            or path not in _ROUTES
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
        request = _parsed(body) if complete else None
        answered = None
        if request is not None:
            index = await refreshed_index(scope["app"].state.backend)
            answered = None if index is None else _answer(index, path, token, request)
        if answered is None:
            await self.app(scope, replaying(body, complete, receive), send)
            return
        content, decisions = answered
        scope["route"] = _ROUTES[path]
        metrics: Metrics = scope["app"].state.metrics
        metrics.count(decisions)
        length = (b"content-length", str(len(content)).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [*_JSON, length]})
        await send({"type": "http.response.body", "body": content})


def bearer(scope: Scope) -> str | None:
    """The bearer token, when the request carries one and no Idempotency-Key."""
    token = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not credential.startswith(TOKEN_PREFIX):
                return None
            token = credential.strip()
        elif name == b"idempotency-key":
            return None
    return token


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, or as much as arrived before it passed `limit` (then incomplete)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A `receive` that gives what was read again, then the rest from the client."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return again


async def refreshed_index(backend: Backend) -> DecisionIndex | None:
    """The index with every commit acknowledged before now; None if the database could not
    be read (the full stack then answers as it answers any request without a database)."""
    try:
        return await backend.index.refreshed()
    except Exception:
        return None


def _answer(
    index: DecisionIndex, path: str, token: str, request: Any
) -> tuple[bytes, Sequence[Decision]] | None:
    """The response body and the decisions made, or None to let the full stack answer."""
    holder = index.token_holder(hashlib.sha256(token.encode()).hexdigest())
    if holder is None or holder[0] != Role.OPERATOR.value:
        return None  # 401, 403 and the failure count are the full stack's
    if path == SINGLE:
        check = _check(request)
        if check is None:
            return None
        decision = index.decide(*check)
        return decision_body(decision), (decision,)
    checks = _checks(request)
    if checks is None:
        return None
    decided = index.decide_many(checks)
    return batch_body(checks, decided), decided


def _parsed(body: bytes) -> Any:
    """The JSON body; None for one the full stack must judge. A NUL can only reach a JSON
    string as `\\u0000`, and no ID may hold one: such a body goes there whole, so that the
    checks below need not look inside each ID."""
    if NUL_ESCAPE in body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _check(item: Any) -> tuple[str, str] | None:
    """(account ID, specification ID) of a check exactly as `schemas.DecisionRequest` takes
    (exact types: orjson makes no subclasses)."""
    if type(item) is not dict or len(item) != len(KEYS):
        return None
    account_id, spec_id = item.get("account_id"), item.get("specification_id")
    if type(account_id) is not str or type(spec_id) is not str:
        return None
    if len(account_id) > ID_MAX or len(spec_id) > ID_MAX:
        return None
    return account_id, spec_id


def _checks(request: Any) -> list[tuple[str, str]] | None:
    if type(request) is not dict or len(request) != 1:
        return None
    items = request.get("checks")
    if type(items) is not list or len(items) > MAX_BATCH:
        return None
    checks = []
    for item in items:
        check = _check(item)
        if check is None:
            return None
        checks.append(check)
    return checks
