"""R14 over HTTP: every POST, PUT, PATCH and DELETE under /v1 takes `?dry_run=true`.

A pure ASGI middleware, so that no write can forget it. The request runs through its route and
use case exactly as the write would, inside `dry_running()`: the same refusals (4xx) come back
unchanged, and where the write would have succeeded its commit rolls back and the answer is
200 `{"dry_run": true, "impact": ..., "result": ...}`, with `result` the body the write would
have answered (an import's report, say).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.problems import problem
from offerscope.domain.impact import NO_IMPACT
from offerscope.storage.unit_of_work import dry_running

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARAMETER = "dry_run"


def asks_dry_run(scope: Scope) -> bool | None:
    """True or False as the query says (False when it does not say); None when it says it
    badly, or more than once: `?dry_run=false&dry_run=true` must not be guessed at."""
    query = scope.get("query_string", b"").decode("latin-1")
    given = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == PARAMETER]
    if not given:
        return False
    return {"true": True, "false": False}.get(given[0]) if len(given) == 1 else None


class DryRunMiddleware:
    """Runs a write as a dry run when asked; see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITES
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        asked = asks_dry_run(scope)
        if asked is None:
            response = problem(
                422,
                "invalid_request",
                "dry_run is given once, as true or false.",
                errors=[{"location": ["query", PARAMETER], "message": "true or false"}],
            )
            await response(scope, receive, send)
            return
        if not asked:
            await self.app(scope, receive, send)
            return
        answer = _Kept()
        with dry_running() as dry:
            await self.app(scope, receive, answer.send)
        if not 200 <= answer.status < 300:
            await answer.deliver(send)
            return
        impact = dry.impact if dry.reached_commit else NO_IMPACT  # nothing to commit: none
        body: dict[str, Any] = {
            "dry_run": True,
            "impact": impact.as_json() if impact is not None else None,
        }
        if answer.json_body() is not None:
            body["result"] = answer.json_body()
        content = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


class _Kept:
    """The response the write would have sent, kept back."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    @property
    def status(self) -> int:
        assert self.start is not None, "the app answered nothing"
        return int(self.start["status"])

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    def json_body(self) -> Any:
        assert self.start is not None
        headers = dict(self.start.get("headers", []))
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        raw = b"".join(self.chunks)
        return json.loads(raw) if raw else None

    async def deliver(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks)})


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add `?dry_run` and its 200 answer to every write of an OpenAPI document."""
    parameter = {
        "name": PARAMETER,
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "R14: judge the write exactly, change nothing, answer its impact.",
    }
    dry = {"$ref": "#/components/schemas/DryRun"}
    for path, operations in openapi.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            if method.upper() not in WRITES:
                continue
            operation.setdefault("parameters", []).append(parameter)
            answer = operation.setdefault("responses", {}).setdefault(
                "200", {"description": "A dry run: what the write would do (R14)."}
            )
            content = answer.setdefault("content", {}).setdefault("application/json", {})
            # A write that answers 200 itself answers either its own body or a dry run's.
            own = content.get("schema")
            content["schema"] = {"anyOf": [own, dry]} if own else dry
    return openapi
