"""Bulk lists over HTTP: streamed CSV uploads (not bound by the JSON body limit) and exports.

An upload is spooled to a temporary file as it arrives (memory stays bounded), then imported
in one transaction by the same use case as the command line's.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from offerscope.api.deps import Db, Operator, Seller
from offerscope.api.problems import PROBLEM_JSON
from offerscope.api.schemas import Problem
from offerscope.domain.errors import OfferscopeError
from offerscope.services import exports, groups, imports
from offerscope.services.imports import ErrorSink, ImportReport, RowError
from offerscope.web.errors import HttpError
from offerscope.web.limits import MAX_UPLOAD_BYTES

router = APIRouter(prefix="/v1", tags=["bulk"])

# Every path an upload may take, for the body-size middleware to let through.
UPLOAD_SUFFIXES = ("/specified-users/import", "/accounts/import", "/members/import")
_IN_MEMORY = 8 * 1024 * 1024
CSV = "text/csv"
SPEC = "/products/{product_id}/specifications/{specification_id}"
SkipInvalid = Annotated[
    bool, Query(description="Import the valid rows and report the others (else all or none).")
]
ErrorsFormat = Annotated[
    Literal["json", "csv"],
    Query(
        description="csv: answer every bad row as a streamed text/csv body "
        "(line,value,code,message), the counts in Offerscope-* headers."
    ),
]
Run = Callable[[IO[bytes], ErrorSink | None], ImportReport]


class RowErrorBody(BaseModel):
    line: int
    value: str
    code: str
    message: str


class ImportResult(BaseModel):
    """What an import did. `errors` lists the first bad rows (skipped under skip_invalid);
    `error_counts` counts every bad row by code; `?errors=csv` gives every bad row."""

    imported: int
    unchanged: int
    windows_changed: int = 0  # R16: accounts already listed that got another window
    error_count: int
    error_counts: dict[str, int] = {}
    errors: list[RowErrorBody]
    errors_truncated: bool = False

    @classmethod
    def of(cls, report: ImportReport) -> ImportResult:
        return cls(
            imported=report.imported,
            unchanged=report.unchanged,
            windows_changed=report.windows_changed,
            error_count=report.error_count,
            error_counts=report.error_counts,
            errors=[RowErrorBody(**vars(e)) for e in report.errors],
            errors_truncated=report.errors_truncated,
        )


async def _spool(request: Request) -> IO[bytes]:
    """The request body, streamed to a temporary file (415 unless CSV, 413 past the cap)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (CSV, "text/plain"):
        raise HttpError(415, "unsupported_media_type", "Send the rows as text/csv.")
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise HttpError(
                    413,
                    "request_too_large",
                    f"An upload may be at most {MAX_UPLOAD_BYTES} bytes; split the file.",
                )
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


class _ErrorsCsv:
    """Every bad row of one import, written to a temporary file as the import finds them."""

    def __init__(self) -> None:
        self.file: IO[str] = tempfile.TemporaryFile("w+", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self.file, lineterminator="\n")
        self._writer.writerow(["line", "value", "code", "message"])

    def __call__(self, error: RowError) -> None:
        self._writer.writerow([error.line, error.value, error.code, error.message])

    def response(self, status: int, headers: dict[str, str]) -> StreamingResponse:
        self.file.seek(0)
        blocks = iter(lambda: self.file.read(64 * 1024), "")
        return StreamingResponse(
            blocks,
            status_code=status,
            media_type=f"{CSV}; charset=utf-8",
            headers=headers,
            background=BackgroundTask(self.file.close),
        )


async def _run_import(request: Request, run: Run, errors: str) -> ImportResult | Response:
    """Spool the upload, import it off the event loop, answer JSON or every bad row as CSV."""
    spool = await _spool(request)
    sink = _ErrorsCsv() if errors == "csv" else None
    try:
        with spool:
            report = await run_in_threadpool(run, spool, sink)
    except OfferscopeError as error:
        if sink is None or error.code != "import_rejected":
            if sink is not None:
                sink.file.close()
            raise
        count = str(error.details["error_count"])
        return sink.response(422, {"Offerscope-Error-Count": count})
    if sink is None:
        return ImportResult.of(report)
    headers = {
        "Offerscope-Imported": str(report.imported),
        "Offerscope-Unchanged": str(report.unchanged),
        "Offerscope-Windows-Changed": str(report.windows_changed),
        "Offerscope-Error-Count": str(report.error_count),
    }
    return sink.response(200, headers)


async def _import_users(
    request: Request,
    db: Db,
    actor: Seller,
    product_id: str,
    specification_id: str | None,
    skip_invalid: bool,
    errors: str,
) -> ImportResult | Response:
    def run(spool: IO[bytes], sink: ErrorSink | None) -> ImportReport:
        return imports.import_specified_users(
            db, actor, product_id, specification_id, spool, skip_invalid=skip_invalid, errors=sink
        )

    return await _run_import(request, run, errors)


_IMPORT_DOC = {
    "response_model": ImportResult,
    "openapi_extra": {"requestBody": {"content": {CSV: {"schema": {"type": "string"}}}}},
    # Found by the fuzzer: a body that is not CSV answers 415, which must be documented.
    "responses": {
        200: {"content": {CSV: {"schema": {"type": "string"}}}},
        415: {"model": Problem, "content": {PROBLEM_JSON: {}}},
        422: {"model": Problem, "content": {PROBLEM_JSON: {}, CSV: {"schema": {"type": "string"}}}},
    },
}


@router.post("/products/{product_id}/specified-users/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_product_users(
    product_id: str,
    request: Request,
    db: Db,
    actor: Seller,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFormat = "json",
) -> ImportResult | Response:
    """R5: add `account_id,account_name` CSV rows to the product's list, all or none (422
    `import_rejected` with a count per error code and the first bad rows)."""
    return await _import_users(request, db, actor, product_id, None, skip_invalid, errors)


@router.post(SPEC + "/specified-users/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_specification_users(
    product_id: str,
    specification_id: str,
    request: Request,
    db: Db,
    actor: Seller,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFormat = "json",
) -> ImportResult | Response:
    """R5, R6: the specification's twin of the product list import."""
    return await _import_users(
        request, db, actor, product_id, specification_id, skip_invalid, errors
    )


@router.post("/customer-groups/{group_id}/members/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_group_members(
    group_id: str,
    request: Request,
    db: Db,
    actor: Seller,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFormat = "json",
) -> ImportResult | Response:
    """R17: add `account_id,account_name[,valid_from,valid_until]` rows to a customer group,
    all or none; the members count on every list holding the group from this one commit."""

    def run(spool: IO[bytes], sink: ErrorSink | None) -> ImportReport:
        return groups.import_members(
            db, actor, group_id, spool, skip_invalid=skip_invalid, errors=sink
        )

    return await _run_import(request, run, errors)


@router.post("/accounts/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_accounts(
    request: Request,
    db: Db,
    _: Operator,
    skip_invalid: SkipInvalid = False,
    errors: ErrorsFormat = "json",
) -> ImportResult | Response:
    """Register `account_id,account_name,account_type` CSV rows, all or none."""

    def run(spool: IO[bytes], sink: ErrorSink | None) -> ImportReport:
        return imports.import_accounts(db, spool, skip_invalid=skip_invalid, errors=sink)

    return await _run_import(request, run, errors)


def _csv(lines: object, filename: str) -> StreamingResponse:
    return StreamingResponse(
        lines,  # type: ignore[arg-type]
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_EXPORT_DOC = {"response_class": StreamingResponse, "responses": {200: {"content": {CSV: {}}}}}


@router.get("/products/{product_id}/specified-users/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_product_users(product_id: str, db: Db, actor: Seller) -> StreamingResponse:
    """The product's list as `account_id,account_name` CSV (names as entered)."""
    lines = exports.export_specified_users(db, actor, product_id, None)
    return _csv(lines, f"{product_id}-specified-users.csv")


@router.get(SPEC + "/specified-users/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_specification_users(
    product_id: str, specification_id: str, db: Db, actor: Seller
) -> StreamingResponse:
    """The specification's list as `account_id,account_name` CSV."""
    lines = exports.export_specified_users(db, actor, product_id, specification_id)
    return _csv(lines, f"{specification_id}-specified-users.csv")


@router.get("/customer-groups/{group_id}/members/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_group_members(group_id: str, db: Db, actor: Seller) -> StreamingResponse:
    """R17: a customer group's members as the list export's CSV."""
    return _csv(groups.export_members(db, actor, group_id), f"{group_id}-members.csv")


@router.get("/accounts/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_accounts(db: Db, _: Operator) -> StreamingResponse:
    """Every account as `account_id,account_name,account_type` CSV."""
    return _csv(exports.export_accounts(db), "accounts.csv")
