"""The HTTP API: its routes, its problem+json errors, health, metrics and its documentation.

`install` adds them to an app made by the composition root (`offerscope.app.create_app`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request

from offerscope.api import docs, dry_run, problems, schemas
from offerscope.api.deps import Operator
from offerscope.api.routes import bulk, buyer, config, feed, groups, operator, seller, webhooks
from offerscope.web import limits
from offerscope.web.security import Area

# Every error status an endpoint may answer, documented once as problem+json.
ERROR_RESPONSES = {
    code: {"model": schemas.Problem, "content": {problems.PROBLEM_JSON: {}}}
    for code in (400, 401, 403, 404, 409, 410, 412, 413, 422, 429, 503)
}
# Paths whose bodies are streamed uploads, not bound by the JSON body limit.
UPLOAD_SUFFIXES = bulk.UPLOAD_SUFFIXES
MAX_UPLOAD_BYTES = limits.MAX_UPLOAD_BYTES
# Paths whose JSON bodies may be larger than the rest (R19's documents).
LARGER_BODIES = {config.PATH: config.MAX_CONFIG_BYTES}


def install(app: FastAPI) -> list[Area]:
    """Add the API to `app`; return the areas (its docs) whose security headers it needs."""
    problems.install(app)
    # bulk first: its /v1/accounts/export must not be taken for an account ID.
    routers = (bulk, operator, seller, groups, buyer, config, feed, webhooks)
    for router in (module.router for module in routers):
        app.include_router(router)

    @app.get("/healthz", response_model=schemas.Health, tags=["service"])
    async def healthz() -> schemas.Health:
        """Liveness: answers once the server serves."""
        return schemas.Health(status="ok")

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def metrics(request: Request, _: Operator) -> PlainTextResponse:
        """Prometheus text format for this process (scrape with an operator token)."""
        registry = request.app.state.metrics.registry
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    _document_dry_runs(app)
    return docs.install(app)


def _document_dry_runs(app: FastAPI) -> None:
    """Every write takes `?dry_run=true` (a middleware); say so in the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = dry_run.document(build())
            extra = schemas.DryRun.model_json_schema(ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(extra.pop("$defs", {}))
            components["DryRun"] = extra
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
