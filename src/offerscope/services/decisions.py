"""R12 decisions for checkout: from the decision index, or straight from the tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from offerscope.domain.decision import Decision, Offer, decide
from offerscope.domain.limits import MAX_BATCH, check_count
from offerscope.domain.names import account_id_key
from offerscope.domain.targets import AccountType
from offerscope.index.index import CatalogPage
from offerscope.services.ids import utcnow
from offerscope.services.views import CheckResult
from offerscope.storage.accounts import find_account
from offerscope.storage.facts import SqlBuyerFacts, load_offer
from offerscope.storage.unit_of_work import Database


class Decider(Protocol):
    """Decisions from memory (the decision index), made fresh before each answer."""

    def refresh(self) -> Decider:
        """Catch up with every change committed so far, on any process."""
        ...

    def decide(self, account_id: str, specification_id: str) -> Decision: ...

    def decide_many(self, checks: Iterable[tuple[str, str]]) -> list[Decision]: ...

    def catalog(
        self,
        account_pk: int | None,
        *,
        limit: int,
        after: int | None = None,
        before: int | None = None,
        search: str = "",
    ) -> CatalogPage: ...


def check(index: Decider, account_id: str, specification_id: str) -> Decision:
    """R12: may this account buy this specification, and if not, why? (from the index)"""
    return index.refresh().decide(account_id, specification_id)


def check_batch(index: Decider, checks: list[tuple[str, str]]) -> list[CheckResult]:
    """R12 for many checks in one state of the index, in the order given."""
    check_count(checks, MAX_BATCH, "checks")
    decided = index.refresh().decide_many(checks)
    return [
        CheckResult(account_id, spec_id, decision)
        for (account_id, spec_id), decision in zip(checks, decided, strict=True)
    ]


def decide_in(
    session: Session, account_id: str, specification_id: str, now: datetime | None = None
) -> Decision:
    """R12 from the tables of `session`'s transaction, at `now` (R16; the present moment if
    not given)."""
    offer = load_offer(session, specification_id)
    key = account_id_key(account_id)
    account = find_account(session, key) if offer is not None and key is not None else None
    if account is None:
        return decide(offer, None)
    return decide_offer(session, offer, account.pk, AccountType(account.account_type), now)


def decide_offer(
    session: Session,
    offer: Offer | None,
    account_pk: int,
    account_type: AccountType | None,
    now: datetime | None = None,
) -> Decision:
    """R12 for an offer and a buyer already read from `session`'s transaction (an order reads
    both in one query, R11); the buyer's facts are read there when a rule needs them."""
    if offer is None or account_type is None:
        return decide(offer, None)
    at = now if now is not None else utcnow()
    return decide(offer, SqlBuyerFacts(session, account_pk, account_type, at))


def check_from_database(db: Database, account_id: str, specification_id: str) -> Decision:
    """`check` read straight from the tables, for one-off callers that hold no index."""
    with db.reading() as uow:
        return decide_in(uow.session, account_id, specification_id)
