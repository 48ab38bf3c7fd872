"""The ASGI entry point for server processes: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from offerscope.app import create_app
from offerscope.index.probe import RevisionProbe
from offerscope.services.background import Background
from offerscope.settings import Settings


def create() -> FastAPI:
    """Called by uvicorn in each worker process (`offerscope serve` migrates first)."""
    settings = Settings.from_environment()
    app = create_app(settings)
    app.state.backend.index.refresh()  # build the decision index before the first request
    if settings.background_tasks:  # R18: windows published, the feed pruned, webhooks fed
        backend = app.state.backend
        # A probe of their own: a request must never wait behind a background look's read
        # (it needs a read begun after it arrived, so one in flight costs it a round trip).
        revision = RevisionProbe(backend.db.engine).read
        app.state.background = Background(backend.db, settings, revision).start()
    return app
