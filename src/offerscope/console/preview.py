"""R14 in the console: what a change would do to who may buy, shown before it happens.

A preview runs the very use case of the write inside `dry_running()`: it is refused exactly
as the write would be, changes nothing, and gives the impact the index works out. The page
then names the current customers who would lose access (their names, looked up for the
impact's sample) and the specifications that would be left with nobody able to buy them.
Names are shown only for customers: a seller's own buyers, never the whole marketplace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request, Response

from offerscope.console.seller import OwnerRef
from offerscope.console.web import render
from offerscope.domain.impact import NO_IMPACT, Impact
from offerscope.domain.targets import Setting, Target
from offerscope.services import accounts
from offerscope.services.views import SpecificationTargetView, TargetCustomersView
from offerscope.storage.unit_of_work import Database, dry_running

T = TypeVar("T")

# How many customers losing access the page names (R14's sample holds up to 20).
NAMED = 10


@dataclass(frozen=True)
class SpecificationEffect:
    name: str
    gains: int
    losses: int
    customers_losing: int


@dataclass(frozen=True)
class Preview:
    """A change's impact in the seller's words, for `macros.impact`."""

    known: bool = True  # False: the index could not tell (the page says so)
    gains: int = 0
    losses: int = 0
    customers_losing: int = 0
    customers: list[tuple[str, str]] = field(default_factory=list)  # (name, ID), first few
    specifications: list[SpecificationEffect] = field(default_factory=list)
    nobody: list[str] = field(default_factory=list)  # specifications left with no buyer

    @property
    def changes_nothing(self) -> bool:
        return self.known and not (self.gains or self.losses)

    @property
    def unnamed_customers(self) -> int:
        return self.customers_losing - len(self.customers)


def dry_run(write: Callable[[], T]) -> tuple[T, Impact | None]:
    """Run `write` (a use case) as a dry run: its answer, and its impact (None if unknown).

    Refusals propagate exactly as the write's would. A write that reaches no commit (nothing
    to change) has no impact."""
    with dry_running() as dry:
        answer = write()
    return answer, (dry.impact if dry.reached_commit else NO_IMPACT)


def preview_of(db: Database, impact: Impact | None, spec_names: dict[str, str]) -> Preview:
    """The impact with names: customers' for the sample, specifications' for their IDs."""
    if impact is None:
        return Preview(known=False)
    sample = list(impact.customers_losing.sample[:NAMED])
    names = accounts.account_names(db, sample)
    return Preview(
        gains=impact.gains.count,
        losses=impact.losses.count,
        customers_losing=impact.customers_losing.count,
        customers=[(names.get(i, i), i) for i in sample],
        specifications=[
            SpecificationEffect(
                spec_names.get(s.specification_id, s.specification_id),
                s.gains,
                s.losses,
                s.customers_losing,
            )
            for s in impact.specifications
        ],
        nobody=[spec_names.get(i, i) for i in impact.left_with_nobody],
    )


SummaryItem = tuple[str, str, bool]  # (label, value, whether the value is an ID)


def preview_page(
    request: Request,
    ref: OwnerRef,
    view: TargetCustomersView,
    *,
    question: str,
    summary: list[SummaryItem],
    preview: Preview,
    action: str,
    fields: list[tuple[str, str]],
    heading: str = "Confirm the change",
    confirm: str = "Confirm",
    danger: bool = False,
    cancel: str = "",
    target: Target | Setting | None = None,
    affected: list[SpecificationTargetView] | None = None,
    status: int = 200,
) -> Response:
    """A change's effect (R14) with Confirm, which posts `fields` to `action` (the write,
    once per rendered form, R15), and Cancel, a link back that changes nothing."""
    context: dict[str, Any] = {
        "ref": ref,
        "view": view,
        "heading": heading,
        "question": question,
        "summary": summary,
        "preview": preview,
        "action": action,
        "fields": fields,
        "confirm": confirm,
        "danger": danger,
        "cancel": cancel or ref.path,
        "target": target,
        "affected": affected or [],
    }
    return render(request, "preview.html", context, status)
