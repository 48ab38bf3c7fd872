"""Every case the fuzzer found, kept as a plain test that sends exactly that request.

Each is checked the way the fuzzer checks: the answer is no 5xx, and its status, content type
and body are the ones /openapi.json documents for the operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from offerscope.app import create_app
from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.support import backend_of, live_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def target(sqlite_url: str) -> Iterator[tuple[str, Any, str]]:
    db = Database.connect(sqlite_url, pool_size=2)
    operator = tokens.create_token(db, Role.OPERATOR)
    with live_server(create_app(Settings(database_url=sqlite_url), backend_of(db))) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        yield base_url, schema, operator
    db.dispose()


def test_an_upload_that_is_not_csv_answers_a_documented_415(
    target: tuple[str, Any, str],
) -> None:
    """Found by the fuzzer: POST /v1/accounts/import without a CSV body answered 415, a
    status the schema did not document (fixed: the import routes declare it)."""
    base_url, schema, operator = target
    headers = {"Authorization": f"Bearer {operator}"}
    case = schema["/v1/accounts/import"]["POST"].Case()
    for content_type in (None, "application/json"):
        sent = dict(headers, **({"Content-Type": content_type} if content_type else {}))
        response = requests.post(
            f"{base_url}/v1/accounts/import", data=b"{}", headers=sent, timeout=30
        )
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"
        case.validate_response(response, checks=CHECKS, headers=sent)


def test_a_batch_over_the_size_limit_is_refused_with_a_documented_413(
    target: tuple[str, Any, str],
) -> None:
    """Found by the fuzzer: a too-large batch answers 413 (before authentication is even
    looked at), which is a rejection the schema documents."""
    base_url, schema, operator = target
    check = {"account_id": "x" * 64, "specification_id": "y" * 64}
    body = {"checks": [check] * 20_000}
    case = schema["/v1/decisions/batch"]["POST"].Case(body=body)
    for headers in ({}, {"Authorization": f"Bearer {operator}"}):
        response = requests.post(
            f"{base_url}/v1/decisions/batch", json=body, headers=headers, timeout=30
        )
        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"
        case.validate_response(response, checks=CHECKS, headers=headers)


def test_a_csv_row_that_is_not_an_account_is_reported_not_imported(
    target: tuple[str, Any, str],
) -> None:
    """Found by the fuzzer: the text `[]` sent as CSV. It is one bad row: refused whole
    (422 import_rejected), or with skip_invalid listed as an error and nothing imported."""
    base_url, schema, operator = target
    headers = {"Authorization": f"Bearer {operator}", "Content-Type": "text/csv"}
    url = f"{base_url}/v1/accounts/import"
    operation = schema["/v1/accounts/import"]["POST"]
    refused = requests.post(url, data=b"[]", headers=headers, timeout=30)
    assert refused.status_code == 422
    assert refused.json()["code"] == "import_rejected"
    operation.Case().validate_response(refused, checks=CHECKS, headers=headers)
    skipped = requests.post(
        url, data=b"[]", headers=headers, params={"skip_invalid": "true"}, timeout=30
    )
    assert skipped.status_code == 200
    assert (skipped.json()["imported"], skipped.json()["error_count"]) == (0, 1)
    operation.Case(query={"skip_invalid": True}).validate_response(
        skipped, checks=CHECKS, headers=headers
    )
