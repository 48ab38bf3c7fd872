"""Browser tests of the Seller Console and the store: a real server, a real Chromium.

One uvicorn server serves the whole package; each test gets a fresh SQLite file (swapped
into the app) and a fresh browser context (no cookies). On failure, the page the test was
looking at is saved to test-artifacts/ so that one can see what the seller saw.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from offerscope.app import create_app
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.console.support import SECRET, Site
from tests.support import backend_of, live_server

CHROMIUM = os.environ.get("OFFERSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, for the screenshot fixture to read."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def console_server() -> Iterator[tuple[FastAPI, str]]:
    app = create_app(Settings(database_url="sqlite://", secret_key=SECRET))
    with live_server(app) as base_url:
        yield app, base_url


@pytest.fixture
def site(console_server: tuple[FastAPI, str], sqlite_url: str) -> Iterator[Site]:
    app, base_url = console_server
    db = Database.connect(sqlite_url, pool_size=4)
    app.state.backend = backend_of(db)
    yield Site(base_url, db, app)
    db.dispose()


@pytest.fixture
def any_site(console_server: tuple[FastAPI, str], database_url: str) -> Iterator[Site]:
    """The test server on a fresh database of each store (SQLite, then PostgreSQL)."""
    app, base_url = console_server
    db = Database.connect(database_url, pool_size=4)
    app.state.backend = backend_of(db)
    yield Site(base_url, db, app)
    db.dispose()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: while Playwright's sync driver runs, its event loop counts
    # as running on this thread, and other packages' tests could not call asyncio.run().
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Debian's Chromium: browser downloads are neither possible nor wanted here.
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: apt-get install chromium (or set OFFERSCOPE_CHROMIUM), "
            'or leave the browser tests out with -m "not browser".'
        )
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


# The widths the console is laid out for and checked at: a laptop and a phone.
WIDTHS = {"desktop": (1366, 768), "phone": (390, 844)}


def _page_of(
    browser: Browser, request: pytest.FixtureRequest, width: int, height: int
) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _page_of(browser, request, 1280, 900)


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    """Each layout test runs at every width of WIDTHS: "desktop", then "phone"."""
    name: str = request.param
    return name


@pytest.fixture
def sized_page(browser: Browser, request: pytest.FixtureRequest, width: str) -> Iterator[Page]:
    """A page at the width the test is running at (see `width`)."""
    yield from _page_of(browser, request, *WIDTHS[width])
