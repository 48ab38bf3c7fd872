"""The ASGI entry point for server processes: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from offerscope.app import create_app
from offerscope.settings import Settings


def create() -> FastAPI:
    """Called by uvicorn in each worker process (`offerscope serve` migrates first)."""
    app = create_app(Settings.from_environment())
    app.state.backend.index.refresh()  # build the decision index before the first request
    return app
