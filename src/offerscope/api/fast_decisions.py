"""Checkout's hot path: `POST /v1/decisions` and `/v1/decisions/batch`, straight to the index.

A well-formed request with an operator token is answered here (`hot_path`), before FastAPI's
routing, dependencies and models: the body parsed with orjson, the decision made, and its
JSON, rendered once per decision, sent. The answers are byte for byte those of the routes in
`routes/operator.py`; a body that is not exactly the documented shape goes to them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope

from offerscope.api.decision_json import batch_body, decision_body
from offerscope.api.hot_path import Answer, HotPath
from offerscope.api.metrics import Metrics
from offerscope.bootstrap import Backend
from offerscope.domain.limits import MAX_BATCH
from offerscope.index.index import DecisionIndex
from offerscope.services.actors import Actor, Role

SINGLE = "/v1/decisions"
BATCH = "/v1/decisions/batch"
ID_MAX = 64  # `schemas.CheckedId`
KEYS = frozenset({"account_id", "specification_id"})
NUL_ESCAPE = b"\\u0000"


class FastDecisions(HotPath):
    """Answers the decision endpoints' common case; see the module's docstring."""

    paths = (SINGLE, BATCH)

    async def answer(
        self, scope: Scope, backend: Backend, index: DecisionIndex, actor: Actor, body: bytes
    ) -> Answer | None:
        if actor.role is not Role.OPERATOR:
            return None
        request = _parsed(body)
        if request is None:
            return None
        if scope["path"] == SINGLE:
            check = _check(request)
            if check is None:
                return None
            decision = index.decide(*check)
            content, decisions = decision_body(decision), [decision]
        else:
            checks = _checks(request)
            if checks is None:
                return None
            decisions = index.decide_many(checks)
            content = batch_body(checks, decisions)
        metrics: Metrics = scope["app"].state.metrics
        metrics.count(decisions)
        return Answer(200, content)


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
