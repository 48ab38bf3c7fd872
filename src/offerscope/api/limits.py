"""Request-size limits, applied before any handler reads a byte of the body."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.problems import PROBLEM_JSON


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413 problem+json, whether announced or streamed."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        unlimited_suffixes: tuple[str, ...] = (),
        larger: Mapping[str, int] | None = None,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.unlimited_suffixes = unlimited_suffixes
        self.larger = dict(larger or {})  # exact paths with a limit of their own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(self.unlimited_suffixes):
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length")
        if announced is not None and (not announced.isdigit() or int(announced) > limit):
            await self._refuse(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "/problems/request_too_large",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"A request body here may be at most {limit} bytes.",
                "code": "request_too_large",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
