"""Reusable dependencies: the database, and the authenticated actor of each role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from offerscope.api.schemas import holds_nul
from offerscope.bootstrap import Backend
from offerscope.domain.limits import MAX_PAGE
from offerscope.index.index import DecisionIndex
from offerscope.services.actors import Actor, Role
from offerscope.services.guessing import FailedAuthLimiter
from offerscope.services.tokens import authenticate_in
from offerscope.storage.unit_of_work import Database
from offerscope.web.errors import HttpError

_bearer = HTTPBearer(auto_error=False, description="An offerscope access token.")


# Dependencies that do no I/O are `async def`: FastAPI then calls them on the event loop
# instead of sending each through the thread pool (a hop that costs more than their work).


async def get_db(request: Request) -> Database:
    backend: Backend = request.app.state.backend
    return backend.db


async def get_index(request: Request) -> DecisionIndex:
    backend: Backend = request.app.state.backend
    return backend.index


Db = Annotated[Database, Depends(get_db)]
Index = Annotated[DecisionIndex, Depends(get_index)]


def client_address(request: Request) -> str:
    """The address failed authentications are counted under (see `services.guessing`)."""
    return request.client.host if request.client else "unknown"


async def _actor(
    request: Request,
    index: Index,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    # From memory: the index knows every token, as fresh as its decisions (one shared read
    # of the revision, awaited on the loop rather than sent through the thread pool; no
    # token query).
    actor = None
    if credentials is not None:
        actor = authenticate_in(await index.refreshed(), credentials.credentials)
    if actor is None:
        if credentials is not None:  # a guess: counted, and 429 once over the limit
            limiter: FailedAuthLimiter = request.app.state.auth_limiter
            limiter.failed(client_address(request))
        raise HttpError(
            401, "unauthenticated", "Send a valid access token as 'Authorization: Bearer <token>'."
        )
    return actor


def _role(role: Role) -> object:
    async def require(actor: Annotated[Actor, Depends(_actor)]) -> Actor:
        if actor.role is not role:
            raise HttpError(403, "forbidden", f"This endpoint is for {role.value} tokens only.")
        return actor

    return Depends(require)


Authenticated = Annotated[Actor, Depends(_actor)]  # any role; the endpoint decides
Operator = Annotated[Actor, _role(Role.OPERATOR)]
Seller = Annotated[Actor, _role(Role.SELLER)]
Buyer = Annotated[Actor, _role(Role.BUYER)]


# Query parameters every list endpoint takes (SPEC.md §4: pages of at most 1,000).
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200)]
Search = Annotated[str, Query(max_length=100)]


async def refuse_nul(request: Request) -> None:
    """Path and query parameters with NUL are invalid (see `schemas.Request._refuse_nul`)."""
    for params in (request.path_params, request.query_params):
        for name, value in params.items():
            if holds_nul(value):
                raise HttpError(
                    422, "invalid_request", f"{name} cannot contain the NUL character.", field=name
                )


# Every router of the API checks its parameters so.
CheckedText = Depends(refuse_nul)
