"""What the hot paths share: an endpoint's common case answered before FastAPI's stack.

A `HotPath` takes a POST to one of its paths with no query string, a bearer token and no
Idempotency-Key, and a body within the limit sent as JSON (`media_types`). It brings the
index up to every commit acknowledged before the request began (one shared read of the
revision, awaited so that the loop serves other requests meanwhile: `AsyncRevisionProbe`),
finds the token's actor in the index's memory, and offers the request to `answer`.
Everything else, and whatever `answer` declines, goes to the full stack with its body
replayed, so that every refusal (401, 403, 422 and the failure count among them) keeps its
one definition there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api import problems
from offerscope.api.media_types import is_json
from offerscope.bootstrap import Backend
from offerscope.index.index import DecisionIndex
from offerscope.services.actors import Actor
from offerscope.services.tokens import TOKEN_PREFIX, authenticate_in
from offerscope.storage.unavailable import UNAVAILABLE

_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True)
class Route:
    """What the metrics middleware reads of a matched route: its path template."""

    path: str


Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Headers = (_JSON,)  # all but the length, which is the body's

    @classmethod
    def of(cls, response: Response) -> Answer:
        """A response the full stack would send (a problem, say), sent from here."""
        kept = tuple((k, v) for k, v in response.raw_headers if k != b"content-length")
        return cls(response.status_code, bytes(response.body), kept)


class HotPath:
    """Pure ASGI middleware for `paths`; subclasses say how to `answer` (see the module)."""

    paths: ClassVar[tuple[str, ...]]

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._routes = {path: Route(path) for path in self.paths}

    async def answer(
        self, scope: Scope, backend: Backend, index: DecisionIndex, actor: Actor, body: bytes
    ) -> Answer | None:
        """The answer to a request of `actor`'s, or None to let the full stack answer."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._routes.get(scope.get("path", ""))
        token = None
        if (
            route is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope.get("query_string")
        ):
            token = _bearer(scope)
        if token is None:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive, self.max_body_bytes)
        answered = await self._answered(scope, token, body) if complete else None
        if answered is None:
            await self.app(scope, _replaying(body, complete, receive), send)
            return
        scope["route"] = route
        length = (b"content-length", str(len(answered.body)).encode())
        start = {"type": "http.response.start", "status": answered.status}
        await send({**start, "headers": [*answered.headers, length]})
        await send({"type": "http.response.body", "body": answered.body})

    async def _answered(self, scope: Scope, token: str, body: bytes) -> Answer | None:
        backend: Backend = scope["app"].state.backend
        try:
            index = await backend.index.refreshed()
        except Exception:  # the database unreadable: the full stack answers as it always does
            return None
        actor = authenticate_in(index, token)
        if actor is None:
            return None
        try:
            return await self.answer(scope, backend, index, actor, body)
        except UNAVAILABLE as error:  # as the full stack's handler answers; this runs before
            return Answer.of(problems.unavailable(error))


def _bearer(scope: Scope) -> str | None:
    """The bearer token, when the request carries one, no Idempotency-Key and a body sent as
    JSON. Of a header sent twice the first counts, as it does for FastAPI."""
    authorization: str | None = None
    content_type: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"idempotency-key":
            return None
    if authorization is None or not is_json(content_type):
        return None
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.startswith(TOKEN_PREFIX):
        return None
    return credential.strip()


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, or as much as arrived before it passed `limit` (then incomplete)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A `receive` that gives what was read again, then the rest from the client."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return again
