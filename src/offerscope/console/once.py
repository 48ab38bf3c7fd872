"""R15 for the console's and the store's forms: one change per rendered form.

Each POST form carries a key of its own. The first submission runs and, when it succeeds (a
redirect that carries no error message), its redirect and message are stored with the key in
the transaction of its write. A second submission of the same form (a double click, Reload,
Back and resend) waits for the first to finish and then gets the same redirect and message,
changing nothing. A submission that was refused stores nothing: the form may be sent again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session as DbSession
from starlette.concurrency import run_in_threadpool

from offerscope.console.sessions import Session, flash_of
from offerscope.domain.errors import Conflict, OfferscopeError
from offerscope.services import idempotency
from offerscope.services.idempotency import Attempt, Claim, StoredAnswer
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.storage.unit_of_work import Database, holding
from offerscope.web import claims

# How long a second submission waits for the first before saying it is still running.
WAIT_SECONDS = 15.0
_POLL_SECONDS = 0.05


def _claim_waiting(db: Database, attempt: Attempt, lease: timedelta) -> Claim | StoredAnswer:
    """Claim the form's key, waiting while an earlier submission of it still runs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return idempotency.claim(db, attempt, lease)
        except Conflict as error:
            if error.code != "request_in_progress" or time.monotonic() > deadline:
                raise
        time.sleep(_POLL_SECONDS)


def _replayed(answer: StoredAnswer, session: Session) -> Response:
    message = flash_of(json.loads(answer.body or b"null"))
    if message is not None:
        session.flash_message(*message)
    return RedirectResponse(answer.headers.get("location", "/"), status_code=303)


def _succeeded(response: Response, session: Session) -> bool:
    """A redirect without an error message: what a form answers when it did its work."""
    return response.status_code in (302, 303) and (session.flash or ("", ""))[0] != "error"


async def run_once(
    db: Database,
    attempt: Attempt,
    lease: timedelta,
    session: Callable[[], Session],
    run: Callable[[], Awaitable[Response]],
    refused: Callable[[OfferscopeError], Response],
) -> Response:
    """`run` the form's handler once for `attempt`'s key; see the module's docstring."""
    try:
        outcome = await run_in_threadpool(_claim_waiting, db, attempt, lease)
    except OfferscopeError as error:
        return refused(error)
    if isinstance(outcome, StoredAnswer):
        return _replayed(outcome, session())
    with holding() as hold:
        try:
            response = await run()
        except BaseException:
            await run_in_threadpool(hold.abandon)
            await claims.release(db, outcome)
            raise
        final = session()  # the handler may have started another (signed out, expired)
        if not _succeeded(response, final):
            await run_in_threadpool(hold.abandon)  # before the release: SQLite's lock
            await claims.release(db, outcome)
            return response
        answer = StoredAnswer(
            response.status_code,
            {"location": response.headers["location"]},
            json.dumps(list(final.flash) if final.flash else None).encode(),
        )

        def keep(transaction: DbSession) -> bool:
            return idempotency.store(transaction, outcome, answer)

        try:
            kept = await run_in_threadpool(hold.finish, db, keep)
        except UNAVAILABLE:  # answered 503 by the page; the commit may have landed
            await claims.release(db, outcome)
            raise
        if not kept:
            return refused(idempotency.taken_over())
    return response
