"""The app factory: builds the whole service from settings, nothing at import time."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request

from offerscope import __version__, console
from offerscope.api import docs, problems, schemas
from offerscope.api.deps import Operator
from offerscope.api.idempotency import IdempotencyMiddleware
from offerscope.api.limits import BodyLimitMiddleware
from offerscope.api.metrics import Metrics, MetricsMiddleware
from offerscope.api.overload import OverloadMiddleware
from offerscope.api.routes import bulk, buyer, operator, seller
from offerscope.services.guessing import FailedAuthLimiter
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from offerscope.web.security import SecurityHeadersMiddleware

_ERRORS = {
    code: {"model": schemas.Problem, "content": {problems.PROBLEM_JSON: {}}}
    for code in (400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
}


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The service for `settings`; the database must already be migrated."""
    app = FastAPI(
        title="offerscope",
        version=__version__,
        description="Who may buy which product and specification on a cloud marketplace.",
        responses=_ERRORS,  # type: ignore[arg-type]
        docs_url=None,  # served by `docs` from our own files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database.connect(settings.database_url, pool_size=settings.pool_size)
    app.state.metrics = Metrics()
    # Failed authentications per client address (API tokens and console sign-ins alike).
    app.state.auth_limiter = FailedAuthLimiter(settings.auth_failures_per_minute)
    problems.install(app)
    # bulk first: its /v1/accounts/export must not be taken for an account ID.
    for router in (bulk.router, operator.router, seller.router, buyer.router):
        app.include_router(router)
    pages = console.install(app, settings)  # the Seller Console and the buyer store
    pages += docs.install(app)

    @app.get("/healthz", response_model=schemas.Health, tags=["service"])
    async def healthz() -> schemas.Health:
        """Liveness: answers once the server serves."""
        return schemas.Health(status="ok")

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def metrics(request: Request, _: Operator) -> PlainTextResponse:
        """Prometheus text format for this process (scrape with an operator token)."""
        registry = request.app.state.metrics.registry
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(SecurityHeadersMiddleware, areas=pages)
    app.add_middleware(  # inside the body limit: it reads bodies already bounded
        IdempotencyMiddleware,
        upload_suffixes=bulk.UPLOAD_SUFFIXES,
        max_upload=bulk.MAX_UPLOAD_BYTES,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        unlimited_suffixes=bulk.UPLOAD_SUFFIXES,  # streamed to disk, capped there
    )
    app.add_middleware(OverloadMiddleware, max_inflight=settings.max_inflight)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
