"""R14: the impact of a change, before it happens or as it happened.

Over registered accounts: `gains` are the accounts that R12 refuses for a specification before
the change and allows after, `losses` the reverse, `customers_losing` those of the losses that
had a counted purchase (R10) of the specification's product before the change. Each figure is
counted over the union across specifications (an account counts once) with a sample of up to
`SAMPLE` account IDs in ascending order; `specifications` lists every specification with a
nonzero figure, as counts, in creation order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAMPLE = 20


@dataclass(frozen=True, slots=True)
class Figure:
    """How many accounts, and the first `SAMPLE` of their IDs in ascending order."""

    count: int = 0
    sample: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "sample": list(self.sample)}


@dataclass(frozen=True, slots=True)
class SpecificationImpact:
    specification_id: str
    gains: int
    losses: int
    customers_losing: int

    def as_json(self) -> dict[str, Any]:
        return {
            "specification_id": self.specification_id,
            "gains": self.gains,
            "losses": self.losses,
            "customers_losing": self.customers_losing,
        }


@dataclass(frozen=True, slots=True)
class Impact:
    """R14's `I`, and the specifications the change would leave with nobody able to buy them."""

    gains: Figure = field(default_factory=Figure)
    losses: Figure = field(default_factory=Figure)
    customers_losing: Figure = field(default_factory=Figure)
    specifications: tuple[SpecificationImpact, ...] = ()
    left_with_nobody: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """The three counts, as history keeps them (R14: an applied write records them)."""
        return {
            "gains": self.gains.count,
            "losses": self.losses.count,
            "customers_losing": self.customers_losing.count,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "gains": self.gains.as_json(),
            "losses": self.losses.as_json(),
            "customers_losing": self.customers_losing.as_json(),
            "specifications": [s.as_json() for s in self.specifications],
            "left_with_nobody": list(self.left_with_nobody),
        }


NO_IMPACT = Impact()
