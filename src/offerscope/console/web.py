"""What every console and store page shares: portals, sessions, CSRF, rendering, errors.

Each page route belongs to a portal (the Seller Console or the buyer store) through its
router's route class, `PortalRoute`. The route class loads the portal's session cookie
before the handler runs, refuses every POST whose CSRF field does not match the session,
turns domain errors into HTML pages (never problem+json, never a 500 for bad input), and
sends the cookie back when the session changed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException

from offerscope.bootstrap import Backend
from offerscope.console.once import run_once
from offerscope.console.sessions import Session, SessionCodec, State
from offerscope.console.uploads import UPLOAD_SUFFIX, UploadTooLarge
from offerscope.domain.errors import NotFound, OfferscopeError
from offerscope.domain.targets import LABELS
from offerscope.domain.windows import moment_text
from offerscope.index.index import DecisionIndex
from offerscope.services import accounts, idempotency, sellers, web_sessions
from offerscope.services.actors import Actor, Role
from offerscope.services.idempotency import Attempt
from offerscope.services.views import Page
from offerscope.settings import Settings
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.storage.unit_of_work import Database
from offerscope.web.errors import UNAVAILABLE_RETRY_S, status_of
from offerscope.web.limits import MAX_UPLOAD_BYTES

log = logging.getLogger("offerscope.console")

HERE = Path(__file__).parent
CSRF_FIELD = "csrf_token"
KEY_FIELD = "idempotency_key"  # one per rendered form (R15)


@dataclass(frozen=True)
class Portal:
    """A signed-in area: the Seller Console for seller tokens, the store for buyer tokens."""

    name: str
    title: str
    prefix: str
    role: Role
    home: str

    @property
    def cookie(self) -> str:
        return f"offerscope_{self.name}"

    @property
    def login(self) -> str:
        return f"{self.prefix}/login"


CONSOLE = Portal("console", "Seller Console", "/console", Role.SELLER, "/console/products")
STORE = Portal("store", "Store", "/store", Role.BUYER, "/store")
PORTALS = (CONSOLE, STORE)


@dataclass
class WebState:
    """The console's part of one app: templates, cookie codecs and cookie flags."""

    templates: Jinja2Templates
    codecs: dict[str, SessionCodec]
    secure_cookies: bool
    idempotency_lease: timedelta
    max_upload: int = MAX_UPLOAD_BYTES  # a CSV file sent to a form (`console.uploads`)

    @classmethod
    def build(cls, settings: Settings) -> WebState:
        secret = settings.secret_key
        if secret is None:
            # Good for one process only: every worker would sign with its own key.
            secret = secrets.token_urlsafe(32)
            log.warning(
                "OFFERSCOPE_SECRET_KEY is not set: console sessions are signed with a key made "
                "for this process and end when it stops. Set it when running several processes."
            )
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals["LABELS"] = LABELS
        env.globals["form_key"] = lambda: secrets.token_urlsafe(16)
        env.filters["q"] = _quote
        env.filters["num"] = "{:,}".format
        env.filters["moment"] = moment_text  # every time in UTC, as R12's sentences say them
        templates = Jinja2Templates(env=env, context_processors=[_page_context])
        codecs = {p.name: SessionCodec(secret, p.name) for p in PORTALS}
        lease = timedelta(seconds=settings.idempotency_lease_seconds)
        return cls(templates, codecs, settings.secure_cookies, lease)


def _quote(value: str) -> str:
    """A path segment, percent-encoded (IDs are server-made, but a URL is no place to trust)."""
    return quote(value, safe="")


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.console
    return state


def get_db(request: Request) -> Database:
    backend: Backend = request.app.state.backend
    return backend.db


def get_index(request: Request) -> DecisionIndex:
    backend: Backend = request.app.state.backend
    return backend.index


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


# --- rendering --------------------------------------------------------------------------------


def _page_context(request: Request) -> dict[str, Any]:
    """What the base layout needs on every page."""
    session = session_of(request)
    return {
        "portal": request.state.portal,
        "csrf_token": session.csrf,
        "csrf_field": CSRF_FIELD,
        "key_field": KEY_FIELD,
        "flash": session.pop_flash(),
        "display_name": getattr(request.state, "display_name", None),
    }


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    return web_state(request).templates.TemplateResponse(
        request, template, context or {}, status_code=status
    )


def render_error(request: Request, status: int, message: str) -> Response:
    """The friendly page for anything that went wrong; the message is in the reader's words."""
    return render(request, "error.html", {"status": status, "message": message}, status)


def redirect(path: str, **query: str) -> RedirectResponse:
    """303 See Other: after a POST the browser fetches the page with GET (no resubmission)."""
    params = {k: v for k, v in query.items() if v}
    return RedirectResponse(f"{path}?{urlencode(params)}" if params else path, status_code=303)


SEARCH_MAX = 100


def search_param(request: Request, name: str) -> str:
    """A search box's value from the query string, trimmed and bounded."""
    return request.query_params.get(name, "").strip()[:SEARCH_MAX]


def cursor_param(request: Request, name: str) -> str | None:
    """A page cursor from the query string; the use case refuses one it did not give out."""
    return request.query_params.get(name) or None


def href(path: str, anchor: str = "", **query: str | None) -> str:
    """A link to `path` with the non-empty query parameters (and an anchor)."""
    params = {k: v for k, v in query.items() if v}
    return path + (f"?{urlencode(params)}" if params else "") + (f"#{anchor}" if anchor else "")


def flash(request: Request, text: str, kind: str = "success", near: str = "") -> None:
    """A message for the page the browser shows next (after the redirect); `near` names the
    part of that page it is about, where it is then shown (the top of the page without)."""
    session_of(request).flash_message(kind, text, near)


# --- paging -----------------------------------------------------------------------------------

PAGE_SIZES = (10, 20, 50, 100)


def size_param(request: Request, name: str, default: int) -> int:
    """A page size from the query string: one of PAGE_SIZES, else `default`."""
    value = request.query_params.get(name, "")
    return int(value) if value in {str(size) for size in PAGE_SIZES} else default


@dataclass(frozen=True)
class Pager:
    """What the `pager` macro shows under a list: the position, Previous and Next, and the
    choice of page size; every link keeps the page's other query parameters."""

    label: str  # what is paged, for screen readers ("users")
    first: int  # the position of the first item shown, from 1 (0: none shown)
    last: int
    total: int | None
    partial: bool  # `total` counts the best matches of a search only
    looked_in_part: bool  # a search's page ended where it stopped looking
    previous_href: str | None
    next_href: str | None
    sizes: list[tuple[int, str, bool]]  # (size, link, chosen)


@dataclass(frozen=True)
class PageLinks:
    """How a list's page links are made: its path and anchor, its parameter names, the query
    to keep, and the default page size."""

    path: str
    label: str
    default_size: int
    cursor_name: str = "cursor"
    size_name: str = "size"
    anchor: str = ""
    keep: dict[str, str] = field(default_factory=dict)

    def pager(self, page: Page[Any], size: int) -> Pager:
        chosen = {self.size_name: str(size) if size != self.default_size else None}
        start = page.start or 0
        shown = len(page.items)
        return Pager(
            label=self.label,
            first=start + 1 if shown else 0,
            last=start + shown,
            total=page.total,
            partial=page.partial_total,
            looked_in_part=page.looked_in_part,
            previous_href=self._link(page.previous_cursor, chosen),
            next_href=self._link(page.next_cursor, chosen),
            sizes=[
                (
                    n,
                    self._href({self.size_name: str(n) if n != self.default_size else None}),
                    n == size,
                )
                for n in PAGE_SIZES
            ],
        )

    def _link(self, cursor: str | None, chosen: dict[str, str | None]) -> str | None:
        return self._href({**chosen, self.cursor_name: cursor}) if cursor else None

    def _href(self, query: dict[str, str | None]) -> str:
        return href(self.path, self.anchor, **{**self.keep, **query})


# --- who is signed in -------------------------------------------------------------------------


class SignInRequired(Exception):
    """No valid session: the route class answers with a redirect to the portal's sign-in."""


def _signed_in(portal: Portal) -> Callable[[Request], Actor]:
    def require(request: Request) -> Actor:
        session = session_of(request)
        if session.session_key is None:
            raise SignInRequired
        db = get_db(request)
        actor = web_sessions.actor_of_session(db, session.session_key)
        if actor is None or actor.role is not portal.role:
            request.state.session = Session.fresh()  # signed out, expired or token gone
            raise SignInRequired
        request.state.display_name = _display_name(db, actor)
        return actor

    return require


def _display_name(db: Database, actor: Actor) -> str:
    if actor.role is Role.SELLER and actor.seller_pk is not None:
        return sellers.seller_name(db, actor.seller_pk)
    if actor.role is Role.BUYER and actor.account_id is not None:
        return accounts.get_account(db, actor.account_id).account_name
    return ""


SellerSession = Annotated[Actor, Depends(_signed_in(CONSOLE))]
BuyerSession = Annotated[Actor, Depends(_signed_in(STORE))]


# --- the route class --------------------------------------------------------------------------

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

FORM_EXPIRED = (
    "This form has expired or did not come from this page, so nothing was changed. "
    "Go back, reload the page and try again."
)


class PortalRoute(APIRoute):
    """A page of one portal; subclasses name the portal."""

    portal: ClassVar[Portal]

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        portal = self.portal

        async def run(request: Request) -> Response:
            web = web_state(request)
            codec = web.codecs[portal.name]
            request.state.portal = portal
            request.state.session = Session.fresh()
            try:
                session, state = codec.loads(request.cookies.get(portal.cookie))
                request.state.session = session or Session.fresh()
                response = await _guarded(handler, request, state)
            except UNAVAILABLE:
                return _unavailable(request)
            except Exception:  # a defect or damaged data: the site's page, not the API's JSON
                log.exception("unexpected error on %s", request.url.path)
                return render_error(request, 500, UNEXPECTED)
            finally:  # a form's files, also where no handler ran (a repeat, a refusal)
                await request.close()
            final = session_of(request)
            if final.dirty:
                response.set_cookie(
                    portal.cookie,
                    codec.dumps(final),
                    max_age=final.seconds_left(),
                    path=portal.prefix,
                    secure=web.secure_cookies,
                    httponly=True,
                    samesite="lax",
                )
            return response

        return run


UNEXPECTED = (
    "Something went wrong on our side, and it has been logged. If you were saving a change, "
    "open the page again to see whether it was made."
)


def _unavailable(request: Request) -> Response:
    """The page for a request the database was out of reach for (`storage.unavailable`);
    the session is left as the browser holds it."""
    response = render_error(
        request,
        503,
        "The service cannot reach its data right now. Try again in a moment; "
        "a form sent again is never applied twice.",
    )
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_S)
    return response


async def _guarded(handler: Handler, request: Request, state: State) -> Response:
    if request.method == "POST":
        refusal = await _check_csrf(request, state)
        if refusal is not None:
            return refusal
        attempt = await _attempt(request)
        if attempt is not None:
            return await run_once(
                get_db(request),
                attempt,
                web_state(request).idempotency_lease,
                lambda: session_of(request),
                lambda: _handled(handler, request, state),
                lambda error: render_error(request, status_of(error), _in_words(error)),
            )
    return await _handled(handler, request, state)


FORM_SENT_BEFORE = (
    "This form was already sent with other values, so nothing was changed. Reload the page "
    "and send it again."
)


def _in_words(error: OfferscopeError) -> str:
    """A refusal of a form's key (R15), said as a page says it, not as the API does."""
    return FORM_SENT_BEFORE if error.code == "idempotency_key_reused" else error.message


async def _attempt(request: Request) -> Attempt | None:
    """The form's submission as an idempotent attempt, scoped to the signed-in session."""
    form = await request.form()
    key, session_key = form.get(KEY_FIELD), session_of(request).session_key
    if not isinstance(key, str) or session_key is None:
        return None
    try:
        idempotency.check_key(key)
    except OfferscopeError:
        return None  # not a key this page gave out: the form simply runs
    fields = sorted(
        [
            (name, value if isinstance(value, str) else await _file_digest(value))
            for name, value in form.multi_items()
            if name not in (CSRF_FIELD, KEY_FIELD)
        ]
    )
    return Attempt(
        scope=idempotency.digest("web-session", session_key),
        key=key,
        method="POST",
        path=request.url.path,
        body_digest=idempotency.digest(*(part for pair in fields for part in pair)),
    )


async def _file_digest(upload: StarletteUpload) -> str:
    """A file field as a form's submission counts it: by its content, so that the form sent
    again with another file is another submission, not the first one's repeat."""
    hasher = hashlib.sha256()
    while chunk := await upload.read(1024 * 1024):
        hasher.update(chunk)
    await upload.seek(0)
    return f"file:{upload.filename}:{hasher.hexdigest()}"


async def _handled(handler: Handler, request: Request, state: State) -> Response:
    """The handler's page, or the page for whatever it refused or failed on."""
    portal: Portal = request.state.portal
    try:
        return await handler(request)
    except SignInRequired:
        return redirect(portal.login, expired="1" if state is State.EXPIRED else "")
    except OfferscopeError as error:
        return render_error(request, status_of(error), error.message)
    except RequestValidationError:
        return render_error(
            request, 400, "Some of the values sent could not be read. Go back and check them."
        )
    except HTTPException as error:
        detail = error.detail if isinstance(error.detail, str) else "This request is not valid."
        return render_error(request, error.status_code, detail)


async def _check_csrf(request: Request, state: State) -> Response | None:
    """Every POST carries the session's CSRF token in a hidden field, or changes nothing."""
    portal: Portal = request.state.portal
    try:
        form = await request.form()
    except UploadTooLarge as error:
        return _too_large(request, state, error.limit)
    except Exception:  # a malformed body is the sender's problem, never a 500
        return render_error(
            request, 400, "The form could not be read. Reload the page and try again."
        )
    session = session_of(request)
    if session.csrf_matches(form.get(CSRF_FIELD)):
        return None
    if state is State.EXPIRED:
        return redirect(portal.login, expired="1")
    # A form posted from another site comes without the cookie (SameSite=Lax): the session
    # made up for it must not replace the browser's, which would sign its owner out.
    session.dirty = False
    return render_error(request, 403, FORM_EXPIRED)


def _too_large(request: Request, state: State, limit: int) -> Response:
    """Back to the form's page, which says why beside its Import form (`near="import"`).
    The form was not read, so its CSRF token neither: a request without the session's cookie
    (another site's) gets a page of its own, and the browser's cookie is left alone."""
    said = (
        f"This file is larger than the {limit // (1024 * 1024):,} MB a form takes, so nothing "
        "was imported. Split it into smaller files and import them one by one."
    )
    if state is not State.VALID:
        session_of(request).dirty = False
        return render_error(request, 413, said)
    flash(request, said, kind="error", near="import")
    return redirect(request.url.path.removesuffix(UPLOAD_SUFFIX) + "#import")


class ConsoleRoute(PortalRoute):
    portal = CONSOLE


class StoreRoute(PortalRoute):
    portal = STORE


def fallback_router(route_class: type[PortalRoute]) -> APIRouter:
    """Unknown paths of a portal: a page (not the API's problem+json); included last."""
    portal = route_class.portal
    router = APIRouter(prefix=portal.prefix, route_class=route_class, include_in_schema=False)

    @router.get("/{rest:path}")
    def not_found(rest: str) -> Response:
        if not rest:  # a trailing slash
            return redirect(portal.home)
        raise NotFound("not_found", f"There is no such page in the {portal.title}.")

    return router
