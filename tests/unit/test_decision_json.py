"""A batch's JSON says, check by check, what pydantic's own `schemas.BatchResponse` says, and
its metrics tally each R12 reason as often as it was given."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from offerscope.api import schemas
from offerscope.api.decision_json import Decided, batch_body
from offerscope.domain.decision import Decision, Level, Reason

_MOMENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _decisions() -> st.SearchStrategy[Decision]:
    """Shared values and equal values made apart (as R16's windows make them)."""
    return st.sampled_from(
        [
            Decision(True, Reason.ALLOWED, Level.PRODUCT),
            Decision(True, Reason.ALLOWED, Level.SPECIFICATION),
            Decision(False, Reason.ACCOUNT_NOT_FOUND, None),
            Decision(False, Reason.NOT_SPECIFIED_USER, Level.SPECIFICATION),
            Decision(False, Reason.SPECIFIED_USER_EXPIRED, Level.PRODUCT, _MOMENT),
            Decision(False, Reason.SPECIFIED_USER_EXPIRED, Level.PRODUCT, _MOMENT),
            Decision(False, Reason.SPECIFIED_USER_NOT_YET_VALID, Level.SPECIFICATION, _MOMENT),
        ]
    )


# Any text an ID may hold: no NUL, no lone surrogate (both refused before a decision).
_IDS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=64)
_CHECKS = st.lists(st.tuples(_IDS, _IDS, _decisions()), max_size=40)


_ALLOWED = Decision(True, Reason.ALLOWED, Level.PRODUCT)


@given(_CHECKS)
@example([('","', '"', _ALLOWED), ("a\\", ",", _ALLOWED), ("", '\\","', _ALLOWED)])
@example([("é💥\u2028", "\x1f", _ALLOWED), ("", "", _ALLOWED)])
def test_a_batch_says_what_the_response_model_says(checks: list[tuple[str, str, Decision]]) -> None:
    decided = Decided([d for _, _, d in checks])
    body = batch_body([a for a, _, _ in checks], [s for _, s, _ in checks], decided)
    model = schemas.BatchResponse(
        results=[
            schemas.BatchResult(
                account_id=a, specification_id=s, **schemas.DecisionBody.of(d).model_dump()
            )
            for a, s, d in checks
        ]
    )
    assert json.loads(body) == json.loads(model.model_dump_json())


@given(_CHECKS)
def test_every_reason_is_tallied_as_often_as_given(checks: list[tuple[str, str, Decision]]) -> None:
    decisions = [d for _, _, d in checks]
    assert Decided(decisions).reasons() == Counter(d.reason.value for d in decisions)
