"""Bulk lists over HTTP: streamed CSV uploads (not bound by the JSON body limit) and exports.

An upload is spooled to a temporary file as it arrives (memory stays bounded), then imported
in one transaction by the same use case as the command line's.
"""

from __future__ import annotations

import tempfile
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from offerscope.api.deps import Db, Operator, Seller
from offerscope.api.problems import PROBLEM_JSON, ApiError
from offerscope.api.schemas import Problem
from offerscope.services import imports
from offerscope.services.imports import ImportReport

router = APIRouter(prefix="/v1", tags=["bulk"])

# Every path an upload may take, for the body-size middleware to let through.
UPLOAD_SUFFIXES = ("/specified-users/import", "/accounts/import")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_IN_MEMORY = 8 * 1024 * 1024
CSV = "text/csv"
SPEC = "/products/{product_id}/specifications/{specification_id}"
SkipInvalid = Annotated[
    bool, Query(description="Import the valid rows and report the others (else all or none).")
]


class RowErrorBody(BaseModel):
    line: int
    value: str
    code: str
    message: str


class ImportResult(BaseModel):
    """What an import did. `errors` lists every bad row (skipped under skip_invalid)."""

    imported: int
    unchanged: int
    error_count: int
    errors: list[RowErrorBody]

    @classmethod
    def of(cls, report: ImportReport) -> ImportResult:
        return cls(
            imported=report.imported,
            unchanged=report.unchanged,
            error_count=len(report.errors),
            errors=[RowErrorBody(**vars(e)) for e in report.errors],
        )


async def _spool(request: Request) -> IO[bytes]:
    """The request body, streamed to a temporary file (415 unless CSV, 413 past the cap)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (CSV, "text/plain"):
        raise ApiError(415, "unsupported_media_type", "Send the rows as text/csv.")
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise ApiError(
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


async def _import_users(
    request: Request,
    db: Db,
    actor: Seller,
    product_id: str,
    specification_id: str | None,
    skip_invalid: bool,
) -> ImportResult:
    spool = await _spool(request)
    with spool:
        report = await run_in_threadpool(
            imports.import_specified_users,
            db,
            actor,
            product_id,
            specification_id,
            spool,
            skip_invalid=skip_invalid,
        )
    return ImportResult.of(report)


_IMPORT_DOC = {
    "response_model": ImportResult,
    "openapi_extra": {"requestBody": {"content": {CSV: {"schema": {"type": "string"}}}}},
    # Found by the fuzzer: a body that is not CSV answers 415, which must be documented.
    "responses": {415: {"model": Problem, "content": {PROBLEM_JSON: {}}}},
}


@router.post("/products/{product_id}/specified-users/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_product_users(
    product_id: str, request: Request, db: Db, actor: Seller, skip_invalid: SkipInvalid = False
) -> ImportResult:
    """R5: add `account_id,account_name` CSV rows to the product's list, all or none (422
    `import_rejected` listing every bad row)."""
    return await _import_users(request, db, actor, product_id, None, skip_invalid)


@router.post(SPEC + "/specified-users/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_specification_users(
    product_id: str,
    specification_id: str,
    request: Request,
    db: Db,
    actor: Seller,
    skip_invalid: SkipInvalid = False,
) -> ImportResult:
    """R5, R6: the specification's twin of the product list import."""
    return await _import_users(request, db, actor, product_id, specification_id, skip_invalid)


@router.post("/accounts/import", **_IMPORT_DOC)  # type: ignore[arg-type]
async def import_accounts(
    request: Request, db: Db, _: Operator, skip_invalid: SkipInvalid = False
) -> ImportResult:
    """Register `account_id,account_name,account_type` CSV rows, all or none."""
    spool = await _spool(request)
    with spool:
        report = await run_in_threadpool(
            imports.import_accounts, db, spool, skip_invalid=skip_invalid
        )
    return ImportResult.of(report)


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
    lines = imports.export_specified_users(db, actor, product_id, None)
    return _csv(lines, f"{product_id}-specified-users.csv")


@router.get(SPEC + "/specified-users/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_specification_users(
    product_id: str, specification_id: str, db: Db, actor: Seller
) -> StreamingResponse:
    """The specification's list as `account_id,account_name` CSV."""
    lines = imports.export_specified_users(db, actor, product_id, specification_id)
    return _csv(lines, f"{specification_id}-specified-users.csv")


@router.get("/accounts/export", **_EXPORT_DOC)  # type: ignore[arg-type]
def export_accounts(db: Db, _: Operator) -> StreamingResponse:
    """Every account as `account_id,account_name,account_type` CSV."""
    return _csv(imports.export_accounts(db), "accounts.csv")
