"""GET /healthz: liveness, for anyone, with no token."""

from __future__ import annotations

from tests.api.helpers import ok, problem
from tests.support import Api


def test_healthz_answers_200_to_anyone(api: Api) -> None:
    for client in (api.client(), api.client("osk_unknown"), api.operator):
        response = client.get("/healthz")
        assert ok(response) == {"status": "ok"}


def test_healthz_only_reads(api: Api) -> None:
    response = api.client().post("/healthz")
    problem(response, 405, "method_not_allowed")
