"""API tests run over real HTTP against a uvicorn server, on a fresh database of each store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database
from tests.support import Api, backend_of, live_server, placeholder_app


@pytest.fixture(scope="session")
def server_app() -> Iterator[tuple[FastAPI, str]]:
    app = placeholder_app()
    with live_server(app) as base_url:
        yield app, base_url


@pytest.fixture
def api(server_app: tuple[FastAPI, str], db: Database) -> Iterator[Api]:
    app, base_url = server_app
    app.state.backend = backend_of(db)
    driver = Api(base_url, db, tokens.create_token(db, Role.OPERATOR))
    yield driver
    driver.close()
