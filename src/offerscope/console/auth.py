"""Sign-in and sign-out, the same for the Seller Console and the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from offerscope.console.sessions import Session
from offerscope.console.web import PORTALS, Portal, get_db, redirect, render, session_of
from offerscope.services import tokens, web_sessions
from offerscope.services.actors import Role
from offerscope.services.guessing import FailedAuthLimiter, TooManyFailures

TokenField = Annotated[str, Form()]

WRONG_TOKEN = "This access token is not valid. Check that you copied all of it."  # noqa: S105 (a sentence, not a secret)


def add_sign_in(router: APIRouter, portal: Portal) -> None:
    """Add `/login` and `/logout` of `portal` to its router."""

    @router.get("/login")
    def login_page(request: Request, expired: str = "") -> Response:
        """The sign-in form: a field labelled Access token and a Sign in button."""
        # Only where no session is signed in: an old link to this page must not claim it.
        ended = expired and session_of(request).session_key is None
        notice = "Your session has expired. Sign in again." if ended else None
        return render(request, "login.html", {"notice": notice, "error": None})

    @router.post("/login")
    def login(request: Request, token: TokenField = "") -> Response:
        actor = tokens.authenticate(get_db(request), token.strip())
        if actor is None:
            return _wrong_token(request)
        if actor.role is not portal.role:
            error = _other_portal(actor.role)
            return render(request, "login.html", {"notice": None, "error": error}, status=401)
        # A new session and a new CSRF token at sign-in: nothing from before carries over.
        session = Session.fresh()
        ends = datetime.fromtimestamp(session.expires_at, UTC)
        session.session_key = web_sessions.start(get_db(request), token.strip(), ends)
        if session.session_key is None:  # the token was deleted in between
            return _wrong_token(request)
        request.state.session = session
        return redirect(portal.home)

    @router.post("/logout")
    def logout(request: Request) -> Response:
        """Sign out ends the session on the server: a copy of its cookie opens nothing."""
        key = session_of(request).session_key
        if key is not None:
            web_sessions.end(get_db(request), key)
        session = Session.fresh()
        session.flash_message("info", "You have signed out.")
        request.state.session = session
        return redirect(portal.login)


def _wrong_token(request: Request) -> Response:
    """A failed sign-in counts as a failed authentication of the address (429 past the limit)."""
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    try:
        limiter.failed(client)
    except TooManyFailures as error:
        context = {"notice": None, "error": error.message}
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    return render(request, "login.html", {"notice": None, "error": WRONG_TOKEN}, status=401)


def _other_portal(role: Role) -> str:
    for other in PORTALS:
        if other.role is role:
            return (
                f"This is a {role.value} token: sign in at {other.login} instead ({other.title})."
            )
    return "This token cannot sign in here: the console is for sellers and the store for buyers."
