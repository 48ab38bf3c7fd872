"""Decisions as JSON, fast: one shape (`schemas.DecisionBody`), rendered once per decision.

A decision is one of a handful of shared values, so its JSON is rendered once and reused; a
batch's result adds each check's two IDs. The routes and the hot path (`fast_decisions`) both
answer with these bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from json.encoder import encode_basestring_ascii

from fastapi.responses import Response

from offerscope.api import schemas
from offerscope.domain.decision import Decision
from offerscope.services.views import CheckResult


@lru_cache(maxsize=64)
def decision_body(decision: Decision) -> bytes:
    """`schemas.DecisionBody` of one decision, as the response body (R16's moments only
    where a decision has one)."""
    return schemas.DecisionBody.of(decision).model_dump_json().encode()


@lru_cache(maxsize=64)
def _decision_fields(decision: Decision) -> str:
    """`"allowed":...,"reason":...,"level":...,"message":...` of one decision."""
    return decision_body(decision)[1:-1].decode()


def batch_body(checks: Sequence[tuple[str, str]], decided: Sequence[Decision]) -> bytes:
    """`schemas.BatchResponse` of these checks and their decisions, in order."""
    quote = encode_basestring_ascii
    fields = _decision_fields
    body = ",".join(
        f'{{"account_id":{quote(a)},"specification_id":{quote(s)},{fields(d)}}}'
        for (a, s), d in zip(checks, decided, strict=True)
    )
    return f'{{"results":[{body}]}}'.encode()


def batch_response(results: Sequence[CheckResult]) -> Response:
    """`schemas.BatchResponse` of these results, as a ready JSON response."""
    body = batch_body(
        [(r.account_id, r.specification_id) for r in results], [r.decision for r in results]
    )
    return Response(content=body, media_type="application/json")
