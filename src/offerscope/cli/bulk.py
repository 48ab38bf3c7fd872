"""`offerscope accounts import|export` and `offerscope users import|export` (SPEC.md §6)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Annotated, TextIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from offerscope.cli.impact import DryRunOption, print_impact
from offerscope.cli.main import DatabaseUrl, _fail, _open, err, out
from offerscope.domain.errors import OfferscopeError
from offerscope.domain.impact import NO_IMPACT
from offerscope.domain.windows import ALWAYS, describe, read_window
from offerscope.services import exports, imports, sellers, specified_users
from offerscope.services.imports import ErrorSink, ImportReport, RowError
from offerscope.storage.unit_of_work import dry_running

_Import = Callable[[IO[bytes], imports.Progress, ErrorSink | None], ImportReport]

accounts_app = typer.Typer(help="Customer accounts in bulk (CSV).", no_args_is_help=True)
users_app = typer.Typer(help="Specified-user lists in bulk (CSV).", no_args_is_help=True)

CsvFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]
SkipInvalid = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Import the valid rows and report the others."),
]
ErrorsFile = Annotated[
    Path | None,
    typer.Option("--errors", help="Write every bad row (line,value,code,message) to this CSV."),
]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
]
ProductOption = Annotated[str, typer.Option("--product", help="The product whose list it is.")]
SpecificationOption = Annotated[
    str | None, typer.Option("--specification", help="A specification's list instead.")
]
SHOWN_ERRORS = 20


@contextmanager
def _reading(path: Path) -> Iterator[tuple[IO[bytes], imports.Progress]]:
    """The file's bytes, and a Rich progress bar that the import advances as it reads."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with path.open("rb") as source, Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(f"Importing {path.name}", total=path.stat().st_size)
        yield source, lambda read: bar.advance(task, read)


def _report(report: ImportReport, rejected: bool) -> None:
    for error in report.errors[:SHOWN_ERRORS]:
        err.print(
            f"line {error.line}: {error.value!r}: ({error.code}) {error.message}",
            highlight=False,
            markup=False,
        )
    if report.error_count > SHOWN_ERRORS:
        err.print(f"... and {report.error_count - SHOWN_ERRORS} more bad rows.")
    if rejected:
        err.print(
            f"[red]Nothing imported[/red]: {report.error_count} bad row(s). Correct them, or "
            "use --skip-invalid to import the valid rows only."
        )
        return
    changed = f", windows changed {report.windows_changed}" if report.windows_changed else ""
    out.print(
        f"Imported {report.imported}, already present {report.unchanged}{changed}, "
        f"skipped {report.error_count} bad row(s).",
        highlight=False,
    )


@contextmanager
def _errors_file(path: Path | None) -> Iterator[ErrorSink | None]:
    """Every bad row written to `path` as the import finds it (memory stays bounded)."""
    if path is None:
        yield None
        return
    with path.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(["line", "value", "code", "message"])
        yield lambda e: writer.writerow([e.line, e.value, e.code, e.message])


def _rejected_report(error: OfferscopeError) -> ImportReport:
    details = error.details
    return ImportReport(
        error_count=details.get("error_count", 0),
        error_counts=details.get("error_counts", {}),
        errors=[RowError(**row) for row in details.get("errors", [])],
    )


def _write(lines: Iterable[str], output: Path | None) -> None:
    target: TextIO
    if output is None:
        for block in lines:
            sys.stdout.write(block)
        return
    with output.open("w", newline="", encoding="utf-8") as target:
        for block in lines:
            target.write(block)
    err.print(f"Written to {output}.")


def _import(file: Path, errors: Path | None, run: _Import, dry_run: bool) -> None:
    """Run one import with a progress bar; report it, or the bad rows of a refused one.

    A dry run (R14) is judged exactly as the import and changes nothing; it prints what the
    import would do, and its impact on decisions.
    """
    try:
        with (
            dry_running() if dry_run else nullcontext() as dry,
            _errors_file(errors) as sink,
            _reading(file) as (source, progress),
        ):
            report = run(source, progress, sink)
    except OfferscopeError as error:
        if error.code != "import_rejected":
            raise _fail(error) from error
        _report(_rejected_report(error), rejected=True)
        _mention(errors)
        raise typer.Exit(code=1) from error
    if dry is not None:
        out.print("[bold]Dry run[/bold]: nothing was imported. The import would do this:")
    _report(report, rejected=False)
    if report.error_count:
        _mention(errors)
    if dry is not None:
        print_impact(dry.impact if dry.reached_commit else NO_IMPACT)


def _mention(errors: Path | None) -> None:
    if errors is not None:
        err.print(f"Every bad row is in {errors}.")


@accounts_app.command("import")
def accounts_import(
    file: CsvFile,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFile = None,
    dry_run: DryRunOption = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Register accounts from `account_id,account_name,account_type` rows: all or none."""
    _, db = _open(database_url)

    def run(source: IO[bytes], progress: imports.Progress, sink: ErrorSink | None) -> ImportReport:
        return imports.import_accounts(
            db, source, skip_invalid=skip_invalid, progress=progress, errors=sink
        )

    _import(file, errors, run, dry_run)


@accounts_app.command("export")
def accounts_export(output: Output = None, database_url: DatabaseUrl = None) -> None:
    """Every account as `account_id,account_name,account_type` CSV."""
    _, db = _open(database_url)
    _write(exports.export_accounts(db), output)


@users_app.command("import")
def users_import(
    file: CsvFile,
    product: ProductOption,
    specification: SpecificationOption = None,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFile = None,
    dry_run: DryRunOption = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add `account_id,account_name[,valid_from,valid_until]` rows to a product's
    (specification's) list: all or none. A window (RFC 3339, either end may be empty) makes
    an entry count only within it, and replaces the window of an account already listed."""
    _, db = _open(database_url)

    def run(source: IO[bytes], progress: imports.Progress, sink: ErrorSink | None) -> ImportReport:
        seller = sellers.seller_of_product(db, product)
        return imports.import_specified_users(
            db,
            seller,
            product,
            specification,
            source,
            skip_invalid=skip_invalid,
            progress=progress,
            errors=sink,
        )

    _import(file, errors, run, dry_run)


@users_app.command("export")
def users_export(
    product: ProductOption,
    specification: SpecificationOption = None,
    output: Output = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A product's (specification's) list as `account_id,account_name,valid_from,valid_until`
    CSV."""
    _, db = _open(database_url)
    try:
        seller = sellers.seller_of_product(db, product)
        lines = exports.export_specified_users(db, seller, product, specification)
    except OfferscopeError as error:
        raise _fail(error) from error
    _write(lines, output)


ValidFrom = Annotated[
    str | None,
    typer.Option(
        "--from", help="Counts from this moment (RFC 3339 with zone, e.g. 2027-01-01T00:00:00Z)."
    ),
]
ValidUntil = Annotated[
    str | None, typer.Option("--until", help="Counts until this moment (RFC 3339 with zone).")
]


@users_app.command("add")
def users_add(
    account_id: Annotated[str, typer.Argument(help="The account's ID.")],
    account_name: Annotated[str, typer.Argument(help="The account's name, as registered.")],
    product: ProductOption,
    specification: SpecificationOption = None,
    valid_from: ValidFrom = None,
    valid_until: ValidUntil = None,
    dry_run: DryRunOption = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Put one account on a list (R5), counting only within --from/--until when given (R16);
    an account already listed gets this window."""
    _, db = _open(database_url)
    try:
        window = read_window(valid_from, valid_until)
        seller = sellers.seller_of_product(db, product)
        with dry_running() if dry_run else nullcontext() as dry:
            added = specified_users.add_specified_user(
                db, seller, product, specification, account_id, account_name, window
            )
    except OfferscopeError as error:
        raise _fail(error) from error
    user = added.user
    state = "Added" if added.created else "Already listed"
    when = "" if window == ALWAYS else f", {describe(window)}"
    prefix = "[bold]Dry run[/bold]: " if dry is not None else ""
    out.print(
        f"{prefix}{state}: {user.account_name} ({user.account_id}){when}; {user.status}.",
        soft_wrap=True,
        highlight=False,
    )
    if dry is not None:
        print_impact(dry.impact if dry.reached_commit else NO_IMPACT)
