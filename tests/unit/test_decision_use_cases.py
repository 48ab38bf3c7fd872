"""The decision use cases on a fake index: they refresh before every answer (freshness is the
use case's duty, not the caller's), keep the order asked, and enforce the batch limit."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from offerscope.domain.decision import ACCOUNT_NOT_FOUND, SPECIFICATION_NOT_FOUND, Decision
from offerscope.domain.errors import Invalid
from offerscope.domain.limits import MAX_BATCH
from offerscope.index.index import CatalogPage
from offerscope.services import decisions


class FakeIndex:
    """Answers account_not_found for "a…" accounts, specification_not_found otherwise, and
    records whether it was refreshed before it answered."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def refresh(self) -> FakeIndex:
        self.events.append("refresh")
        return self

    def decide(self, account_id: str, specification_id: str) -> Decision:
        self.events.append("decide")
        return ACCOUNT_NOT_FOUND if account_id.startswith("a") else SPECIFICATION_NOT_FOUND

    def decide_many(self, checks: Iterable[tuple[str, str]]) -> list[Decision]:
        self.events.append("decide_many")
        return [self.decide(a, s) for a, s in checks]

    def catalog(
        self,
        account_pk: int | None,
        *,
        limit: int,
        after: int | None = None,
        before: int | None = None,
        search: str = "",
    ) -> CatalogPage:
        return CatalogPage([], 0, 0, False, False)


def test_a_check_refreshes_the_index_before_it_decides() -> None:
    index = FakeIndex()
    assert decisions.check(index, "a1", "s1") is ACCOUNT_NOT_FOUND
    assert index.events == ["refresh", "decide"]


def test_a_batch_refreshes_once_and_answers_in_the_order_asked() -> None:
    index = FakeIndex()
    results = decisions.check_batch(index, [("a1", "s1"), ("b2", "s2")])
    assert [(r.account_id, r.specification_id, r.decision) for r in results] == [
        ("a1", "s1", ACCOUNT_NOT_FOUND),
        ("b2", "s2", SPECIFICATION_NOT_FOUND),
    ]
    assert index.events[:2] == ["refresh", "decide_many"]
    assert index.events.count("refresh") == 1


def test_a_batch_over_the_limit_is_refused_before_the_index_is_asked() -> None:
    index = FakeIndex()
    with pytest.raises(Invalid) as refused:
        decisions.check_batch(index, [("a", "s")] * (MAX_BATCH + 1))
    assert refused.value.code == "invalid_request"
    assert index.events == []
