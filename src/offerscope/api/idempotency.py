"""R15 over HTTP: every POST, PUT, PATCH and DELETE under /v1 honours `Idempotency-Key`.

A pure ASGI middleware, so that no write can forget it: it reads the body (already bounded by
`BodyLimitMiddleware`; uploads are spooled to disk), claims the key, runs the request holding
its write's commit, and on a 2xx stores the answer in that same transaction before the client
sees a byte of it (`services.idempotency`). Repeats get the stored answer with
`Idempotent-Replayed: true`.

A database out of reach is answered 503 here as everywhere (`problems.unavailable`): at the
claim, during the write, or at its commit. A claim its request could not release then is
released once the database is back (`web.claims`); a commit that landed with its answer lost
keeps its stored answer, which the retry gets.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import timedelta
from typing import IO

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerscope.api.dry_run import asks_dry_run
from offerscope.api.problems import problem, unavailable
from offerscope.domain.errors import OfferscopeError
from offerscope.services import idempotency
from offerscope.services.idempotency import Attempt, Claim, StoredAnswer
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.storage.unit_of_work import Database, holding
from offerscope.web import claims
from offerscope.web.errors import status_of

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Response headers that belong to one delivery, not to the answer.
_NOT_STORED = frozenset({"content-length", "date", "server", "set-cookie"})


class IdempotencyMiddleware:
    """Runs each keyed write once; see the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        upload_suffixes: tuple[str, ...] = (),
        max_upload: int = 0,
        lease: timedelta = idempotency.LEASE,
    ) -> None:
        self.app = app
        self.upload_suffixes = upload_suffixes
        self.max_upload = max_upload
        self.lease = lease

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITES
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        # Of a header sent twice the first counts, as FastAPI authenticates with the first.
        headers = Headers(scope=scope)
        raw_key, authorization = headers.get("idempotency-key"), headers.get("authorization")
        if raw_key is None or asks_dry_run(scope) is not False:  # a dry run changes nothing
            await self.app(scope, receive, send)
            return
        try:
            key = idempotency.check_key(raw_key)
        except OfferscopeError as error:
            await _problem(error, scope, receive, send)
            return
        if authorization is None:  # nobody to scope the key to: the request answers 401
            await self.app(scope, receive, send)
            return
        body = await _Body.read(receive, self._spool_limit(scope))
        try:
            await self._keyed(scope, body, receive, send, key, authorization.encode("latin-1"))
        finally:
            body.close()

    async def _keyed(
        self, scope: Scope, body: _Body, receive: Receive, send: Send, key: str, credential: bytes
    ) -> None:
        if body.digest is None:  # an upload over the cap: the route answers 413
            await self.app(scope, body.replay(receive), send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        attempt = Attempt(
            scope=hashlib.sha256(credential).hexdigest(),
            key=key,
            method=scope["method"],
            path=scope["path"] + (f"?{query}" if query else ""),
            body_digest=body.digest,
        )
        db: Database = scope["app"].state.backend.db
        try:
            outcome = await run_in_threadpool(idempotency.claim, db, attempt, self.lease)
        except OfferscopeError as error:
            await _problem(error, scope, receive, send)
            return
        except UNAVAILABLE as error:
            await unavailable(error)(scope, receive, send)
            return
        if isinstance(outcome, StoredAnswer):
            await _replay(outcome, send)
            return
        await self._run_once(scope, body.replay(receive), send, db, outcome)

    def _spool_limit(self, scope: Scope) -> int | None:
        """Uploads are streamed past the JSON body limit; spool them up to their own cap."""
        return self.max_upload if scope["path"].endswith(self.upload_suffixes) else None

    async def _run_once(
        self, scope: Scope, receive: Receive, send: Send, db: Database, claim: Claim
    ) -> None:
        answer = _Buffered()
        with holding() as hold:
            try:
                await self.app(scope, receive, answer.send)
            except BaseException:
                answer.close()
                await run_in_threadpool(hold.abandon)
                await claims.release(db, claim)
                raise
            if not 200 <= answer.status < 300:
                await run_in_threadpool(hold.abandon)  # before the release: SQLite's lock
                await claims.release(db, claim)
                await answer.deliver(send)
                return
            stored = StoredAnswer(answer.status, answer.stored_headers(), answer.body())

            def keep(session: Session) -> bool:
                return idempotency.store(session, claim, stored)

            try:
                kept = await run_in_threadpool(hold.finish, db, keep)
            except UNAVAILABLE as error:  # the commit may have landed: its answer stays
                answer.close()
                await claims.release(db, claim)
                await unavailable(error)(scope, receive, send)
                return
            if not kept:
                answer.close()
                await _problem(idempotency.taken_over(), scope, receive, send)
                return
        await answer.deliver(send)


class _Body:
    """A request body read whole (and spooled to disk if large), with its digest."""

    def __init__(self, chunks: IO[bytes] | list[bytes], digest: str | None, rest: bool) -> None:
        self._chunks = chunks
        self.digest = digest
        self._rest = rest  # more of the body is still to be received

    @classmethod
    async def read(cls, receive: Receive, spool_limit: int | None) -> _Body:
        hasher = hashlib.sha256()
        store: IO[bytes] | list[bytes]
        store = tempfile.SpooledTemporaryFile(8 * 1024 * 1024) if spool_limit else []  # noqa: SIM115
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            hasher.update(chunk)
            if isinstance(store, list):
                store.append(chunk)
            else:
                store.write(chunk)
            more = message.get("more_body", False)
            if spool_limit is not None and size > spool_limit:
                return cls(store, None, more)
            if not more:
                return cls(store, hasher.hexdigest(), False)

    def close(self) -> None:
        if not isinstance(self._chunks, list):
            self._chunks.close()

    def replay(self, receive: Receive) -> Receive:
        """A `receive` that gives the body again, then whatever the client sends next."""
        store = self._chunks
        if isinstance(store, list):
            blocks = iter(store)
        else:
            store.seek(0)
            blocks = iter(lambda: store.read(1024 * 1024), b"")
        done = False

        async def again() -> Message:
            nonlocal done
            if not done:
                block = next(blocks, None)
                if block is not None:
                    return {"type": "http.request", "body": block, "more_body": True}
                done = True
                if self._rest:
                    return await receive()
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        return again


class _Buffered:
    """A response kept back until its answer is stored (the client must not see a 2xx whose
    write could still roll back); spooled to disk when large."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self._body = tempfile.SpooledTemporaryFile(idempotency.MAX_STORED_BODY)  # noqa: SIM115
        self._size = 0

    @property
    def status(self) -> int:
        assert self.start is not None, "the app answered nothing"
        return int(self.start["status"])

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self._size += len(chunk)
            self._body.write(chunk)

    def stored_headers(self) -> dict[str, str]:
        assert self.start is not None
        return {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in self.start.get("headers", [])
            if name.decode("latin-1").lower() not in _NOT_STORED
        }

    def body(self) -> bytes | None:
        """The whole body if it may be stored; None when it is too large to keep."""
        if self._size > idempotency.MAX_STORED_BODY:
            return None
        self._body.seek(0)
        return self._body.read()

    async def deliver(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        self._body.seek(0)
        while block := self._body.read(1024 * 1024):
            await send({"type": "http.response.body", "body": block, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.close()

    def close(self) -> None:
        self._body.close()


async def _replay(answer: StoredAnswer, send: Send) -> None:
    body = answer.body or b""
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    headers += [
        (b"content-length", str(len(body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    if answer.body is None:
        headers.append((b"idempotent-body-omitted", b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(error: OfferscopeError, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(status_of(error), error.code, error.message, **error.details)
    await response(scope, receive, send)
