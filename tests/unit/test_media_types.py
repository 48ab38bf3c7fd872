"""Which Content-Type headers make a body JSON, as FastAPI decides it (`api.media_types`)."""

from __future__ import annotations

import pytest

from offerscope.api.media_types import is_json


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/problem+json",
        "application/merge-patch+json; charset=UTF-8",
    ],
)
def test_json_media_types_are_json(content_type: str) -> None:
    assert is_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/octet-stream",
        "text/csv",
    ],
)
def test_anything_else_is_not(content_type: str | None) -> None:
    assert not is_json(content_type)
