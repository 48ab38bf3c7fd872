"""Decisions as JSON, fast: one shape (`schemas.DecisionBody`), rendered once per decision.

A decision is one of a handful of shared values, so its JSON is rendered once per batch and
reused; a batch's result adds each check's two IDs. The routes and the hot path
(`fast_decisions`) both answer with these bytes.

A batch is rendered column by column, with no Python-level step per check: each column of IDs
is encoded by one call of orjson, each check's decision is found by its identity (`id`), and
the pieces are laid into one list by slice assignment and joined once. Identities are safe as
keys because `Decided` holds every decision of the batch while they are used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import orjson
from fastapi.responses import Response

from offerscope.api import schemas
from offerscope.domain.decision import Decision
from offerscope.services.views import CheckResult

# Each check's result is these five pieces: the keys with the IDs' opening quotes, the IDs, and
# last the closing quote, the decision's fields, the result's brace and the comma after it.
_PIECES = 5
_ACCOUNT_KEY = b'{"account_id":"'
_SPECIFICATION_KEY = b'","specification_id":"'


@lru_cache(maxsize=64)
def decision_body(decision: Decision) -> bytes:
    """`schemas.DecisionBody` of one decision, as the response body (R16's moments only
    where a decision has one)."""
    return schemas.DecisionBody.of(decision).model_dump_json().encode()


class Decided:
    """A batch's decisions, each known by its identity: the distinct ones, and how often each
    reason was given. Hashing a decision is a Python-level call; its identity is not."""

    def __init__(self, decisions: Sequence[Decision]) -> None:
        self.identities = list(map(id, decisions))
        self.distinct = dict(zip(self.identities, decisions, strict=True))

    def reasons(self) -> dict[str, int]:
        """How many of the decisions gave each R12 reason."""
        tally: dict[str, int] = {}
        for identity, count in Counter(self.identities).items():
            reason = self.distinct[identity].reason.value
            tally[reason] = tally.get(reason, 0) + count
        return tally


def batch_body(
    account_ids: Sequence[str], specification_ids: Sequence[str], decided: Decided
) -> bytes:
    """`schemas.BatchResponse` of these checks (as columns) and their decisions, in order."""
    count = len(account_ids)
    if count == 0:
        return b'{"results":[]}'
    tails = {
        identity: b'",' + decision_body(decision)[1:] + b","
        for identity, decision in decided.distinct.items()
    }
    pieces = [b""] * (_PIECES * count)
    pieces[0::_PIECES] = [_ACCOUNT_KEY] * count
    pieces[1::_PIECES] = _quoted(account_ids)
    pieces[2::_PIECES] = [_SPECIFICATION_KEY] * count
    pieces[3::_PIECES] = _quoted(specification_ids)
    pieces[4::_PIECES] = map(tails.__getitem__, decided.identities)
    pieces[0] = b'{"results":[' + _ACCOUNT_KEY
    pieces[-1] = pieces[-1][:-1] + b"]}"  # no comma after the last result
    return b"".join(pieces)


def _quoted(ids: Sequence[str]) -> list[bytes]:
    """Each ID as a JSON string without its quotes, all encoded by one call: orjson writes the
    list `["a","b",...]`, and `","` can only stand between two of its strings, since a quote
    inside a string is always written `\\"`."""
    return orjson.dumps(list(ids))[2:-2].split(b'","')


def batch_response(results: Sequence[CheckResult], decided: Decided) -> Response:
    """`schemas.BatchResponse` of these results (`decided`: their decisions), as a ready JSON
    response."""
    body = batch_body(
        [r.account_id for r in results], [r.specification_id for r in results], decided
    )
    return Response(content=body, media_type="application/json")
