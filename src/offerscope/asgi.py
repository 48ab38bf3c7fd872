"""The ASGI entry point for server processes: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from offerscope.app import create_app
from offerscope.services.background import Background
from offerscope.settings import Settings


def create() -> FastAPI:
    """Called by uvicorn in each worker process (`offerscope serve` migrates first)."""
    settings = Settings.from_environment()
    app = create_app(settings)
    app.state.backend.index.refresh()  # build the decision index before the first request
    if settings.background_tasks:  # R18: windows published, the feed pruned, webhooks fed
        backend = app.state.backend
        app.state.background = Background(
            backend.db, settings, backend.index.committed_revision
        ).start()
    return app
