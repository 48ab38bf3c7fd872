"""The performance goals, each measured beside its peer in the same run, and their table.

A goal is a figure of offerscope's and a target: either a ratio to a peer measured side by
side (offerscope / peer, higher is better), or an absolute bound. The table says whether each
was met; nothing here asserts, the run only reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["ratio", "at_least", "at_most"]


@dataclass
class Goal:
    number: int  # the goal's number in the harness's brief (1-6)
    name: str
    measured: float | None  # offerscope's figure; None: not measured this run
    unit: str
    target: float
    kind: Kind
    peer: str = ""
    peer_measured: float | None = None
    note: str = ""
    # False when measured away from the goal's own conditions (e.g. 50,000 import rows
    # extrapolated to 1,000,000): the verdict is then shown in parentheses.
    at_goal_conditions: bool = True

    @property
    def ratio(self) -> float | None:
        if self.kind != "ratio" or self.measured is None or not self.peer_measured:
            return None
        return self.measured / self.peer_measured

    @property
    def met(self) -> bool | None:
        if self.kind == "ratio":
            ratio = self.ratio
            return None if ratio is None else ratio >= self.target
        if self.measured is None:
            return None
        if self.kind == "at_least":
            return self.measured >= self.target
        return self.measured <= self.target

    def target_text(self) -> str:
        if self.kind == "ratio":
            return f">= {self.target:g}x"
        sign = ">=" if self.kind == "at_least" else "<="
        return f"{sign} {_number(self.target)}{_unit(self.unit)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "goal": self.name,
            "measured": self.measured,
            "unit": self.unit,
            "peer": self.peer,
            "peer_measured": self.peer_measured,
            "ratio": self.ratio,
            "target": self.target_text(),
            "met": self.met,
            "at_goal_conditions": self.at_goal_conditions,
            "note": self.note,
        }


def _number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 1 else f"{value:.2g}"


def _unit(unit: str) -> str:
    return "" if not unit else (unit if unit.startswith("/") else f" {unit}")


def verdict(goal: Goal) -> str:
    met = goal.met
    text = "not measured" if met is None else ("yes" if met else "**no**")
    if met is not None and not goal.at_goal_conditions:
        text = f"({text.strip('*')})"
    return text


def goals_table(goals: list[Goal]) -> list[str]:
    """The Markdown lines of the Goals table."""
    lines = [
        "| # | goal | offerscope | peer | ratio | target | met | note |",
        "| ---: | --- | ---: | --- | ---: | --- | --- | --- |",
    ]
    for goal in goals:
        measured = "-" if goal.measured is None else f"{_number(goal.measured)}{_unit(goal.unit)}"
        peer = "-"
        if goal.peer:
            peer_value = (
                ""
                if goal.peer_measured is None
                else f" {_number(goal.peer_measured)}{_unit(goal.unit)}"
            )
            peer = f"{goal.peer}:{peer_value}"
        ratio = "-" if goal.ratio is None else f"{goal.ratio:.3g}x"
        lines.append(
            f"| {goal.number} | {goal.name} | {measured} | {peer} | {ratio} "
            f"| {goal.target_text()} | {verdict(goal)} | {goal.note} |"
        )
    return lines
