"""The Seller Console (`/console`) and the buyer store (`/store`): server-rendered pages.

`install` mounts both on an app built by `offerscope.api.app.create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from offerscope.console import (
    groups,
    history,
    seller,
    seller_groups,
    seller_lists,
    seller_targets,
    store,
)
from offerscope.console.uploads import UPLOAD_SUFFIX, UploadCap
from offerscope.console.web import (
    HERE,
    PORTALS,
    ConsoleRoute,
    StoreRoute,
    WebState,
    fallback_router,
)
from offerscope.settings import Settings
from offerscope.web.security import Area, content_security_policy

STATIC_PREFIX = "/static"
__all__ = ["UPLOAD_SUFFIX", "install"]


def install(app: FastAPI, settings: Settings) -> list[Area]:
    """Add the console's and store's pages and their static files; return the areas whose
    security headers the app must send.

    Sessions are signed with `settings.secret_key`; without one, a key is made for this app,
    which is right for one process only (every process of a deployment needs the same key).
    """
    app.state.console = WebState.build(settings)
    modules = (seller, seller_targets, seller_lists, seller_groups, history, groups, store)
    for module in modules:
        app.include_router(module.router)
    for route_class in (ConsoleRoute, StoreRoute):
        app.include_router(fallback_router(route_class))
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(UploadCap, prefixes=tuple(portal.prefix for portal in PORTALS))
    policy = content_security_policy()
    return [
        *(Area(portal.prefix, policy) for portal in PORTALS),
        Area(STATIC_PREFIX, policy, static=True),
    ]
