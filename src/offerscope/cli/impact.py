"""How the command line shows a change's impact (R14), and its `--dry-run` option."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from offerscope.domain.impact import Impact

DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Judge the change exactly, change nothing, and print its impact on decisions.",
    ),
]


def print_impact(impact: Impact | None, console: Console | None = None) -> None:
    """The impact as a table: who would gain and lose the right to buy, per specification."""
    console = console or Console()
    if impact is None:
        console.print("The impact cannot be told without reading everything again.")
        return
    summary = Table(title="Impact on who may buy", title_justify="left")
    summary.add_column("")
    summary.add_column("accounts", justify="right")
    summary.add_column("first account IDs")
    for label, figure in (
        ("gain the right to buy", impact.gains),
        ("lose it", impact.losses),
        ("current customers losing it", impact.customers_losing),
    ):
        summary.add_row(label, f"{figure.count:,}", " ".join(figure.sample[:5]))
    console.print(summary)
    if impact.specifications:
        per_spec = Table(title="Per specification", title_justify="left")
        for column in ("specification", "gains", "losses", "customers losing"):
            per_spec.add_column(column, justify="left" if column == "specification" else "right")
        for spec in impact.specifications:
            per_spec.add_row(
                spec.specification_id,
                f"{spec.gains:,}",
                f"{spec.losses:,}",
                f"{spec.customers_losing:,}",
            )
        console.print(per_spec)
    for spec_id in impact.left_with_nobody:
        console.print(f"[yellow]Warning[/yellow]: nobody could buy {spec_id} any more.")
