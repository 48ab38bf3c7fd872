"""The composition root of the web service: the API, the Seller Console and the store on one
app, built from settings, nothing at import time.

The API and the console never import each other; both are installed here, over one backend
(`bootstrap.Backend`: the database and its decision index).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from offerscope import __version__, console
from offerscope.api import app as api
from offerscope.api.dry_run import DryRunMiddleware
from offerscope.api.fast_decisions import FastDecisions
from offerscope.api.fast_orders import FastOrders
from offerscope.api.idempotency import IdempotencyMiddleware
from offerscope.api.limits import BodyLimitMiddleware
from offerscope.api.metrics import Metrics, MetricsMiddleware
from offerscope.api.overload import OverloadMiddleware
from offerscope.bootstrap import Backend
from offerscope.services.guessing import FailedAuthLimiter
from offerscope.settings import Settings
from offerscope.web.security import SecurityHeadersMiddleware


def create_app(settings: Settings, backend: Backend | None = None) -> FastAPI:
    """The service for `settings`; the database must already be migrated."""
    app = FastAPI(
        title="offerscope",
        version=__version__,
        description="Who may buy which product and specification on a cloud marketplace.",
        responses=api.ERROR_RESPONSES,  # type: ignore[arg-type]
        docs_url=None,  # served by the API's own docs page, not from a CDN
        redoc_url=None,
        strict_content_type=True,  # a body is JSON only when sent as such (`api.media_types`)
    )
    app.state.settings = settings
    app.state.backend = backend or Backend.connect(
        settings.database_url, pool_size=settings.pool_size
    )
    app.state.metrics = Metrics()
    # Failed authentications per client address (API tokens and console sign-ins alike).
    app.state.auth_limiter = FailedAuthLimiter(settings.auth_failures_per_minute)
    pages = api.install(app)
    pages += console.install(app, settings)  # the Seller Console and the buyer store

    app.add_middleware(SecurityHeadersMiddleware, areas=pages)
    app.add_middleware(DryRunMiddleware)
    app.add_middleware(  # inside the body limit: it reads bodies already bounded
        IdempotencyMiddleware,
        upload_suffixes=api.UPLOAD_SUFFIXES,
        max_upload=api.MAX_UPLOAD_BYTES,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # streamed to disk, capped there (the API's uploads, and the console's forms')
        unlimited_suffixes=(*api.UPLOAD_SUFFIXES, console.UPLOAD_SUFFIX),
        larger=api.LARGER_BODIES,
    )
    # Checkout's hot path, before the body limit and FastAPI (it keeps to the same limit).
    app.add_middleware(FastOrders, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(FastDecisions, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(OverloadMiddleware, max_inflight=settings.max_inflight)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
