"""Errors as application/problem+json: one handler per family, at the edge only."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from offerscope.api.media_types import is_json
from offerscope.domain.errors import OfferscopeError
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.web.errors import UNAVAILABLE_RETRY_S, retry_after, status_of

log = logging.getLogger("offerscope.api")

PROBLEM_JSON = "application/problem+json"
UNAVAILABLE_DETAIL = (
    "The database cannot be reached right now. Try again in a moment; a write retried with "
    "the same Idempotency-Key is never applied twice."
)
NOT_JSON = "Send the body as JSON, with the header 'Content-Type: application/json'."


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OfferscopeError)
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else retry_after(error)
    return problem(status, error.code, error.message, headers or None, **error.details)


def _message(error: Any) -> str:
    # The only pattern request strings carry is schemas.NO_NUL: say what it means.
    if error.get("type") == "string_pattern_mismatch":
        return "cannot contain the NUL character"
    return str(error.get("msg", ""))


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": [str(part) for part in e.get("loc", ())], "message": _message(e)}
        for e in error.errors()[:20]
    ]
    if error.body and not is_json(request.headers.get("content-type")):
        # FastAPI left the body unread (`media_types`): what it says of it misleads.
        return problem(422, "invalid_request", NOT_JSON, errors=errors)
    malformed = any(e.get("type") == "json_invalid" for e in error.errors())
    if malformed:
        return problem(400, "invalid_request", "The request body is not valid JSON.", errors=errors)
    first = errors[0] if errors else {"location": [], "message": "invalid"}
    where = ".".join(p for p in first["location"] if p not in ("body", "query", "path"))
    detail = f"{where}: {first['message']}" if where else str(first["message"])
    return problem(422, "invalid_request", detail, errors=errors)


def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
    code = codes.get(error.status_code, "invalid_request")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem(error.status_code, code, detail, dict(error.headers or {}))


def unavailable(error: BaseException) -> JSONResponse:
    """503: the database cannot be used right now (`storage.unavailable`); logged, since
    an operator wants to know."""
    log.error("the database is unavailable: %s", error)
    return problem(
        503, "database_unavailable", UNAVAILABLE_DETAIL, {"Retry-After": str(UNAVAILABLE_RETRY_S)}
    )


def _unavailable(_request: Request, error: Exception) -> JSONResponse:
    return unavailable(error)


def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=error)
    return problem(500, "internal_error", "Something went wrong on our side; nothing was changed.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OfferscopeError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unusable in UNAVAILABLE:
        app.add_exception_handler(unusable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
