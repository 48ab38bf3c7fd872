"""The API's documentation page works without the internet and is protected like every page:
Swagger UI's assets come from offerscope itself (a packaged dependency), under a strict
Content-Security-Policy and X-Frame-Options."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.console.support import Site


def test_docs_load_nothing_from_other_origins_and_send_security_headers(site: Site) -> None:
    page = httpx.get(site.url("/docs"), timeout=30)
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
        assert httpx.get(site.url(asset), timeout=30).status_code == 200, asset
    assert httpx.get(site.url("/redoc"), timeout=30).status_code == 404  # it used a CDN too


@pytest.mark.browser
def test_docs_render_offline_with_no_policy_violation(site: Site, page: Page) -> None:
    outside: list[str] = []
    errors: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(site.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(site.url("/docs"))
    expect(page.get_by_role("heading", name=re.compile("offerscope"))).to_be_visible()
    expect(page.get_by_text("/v1/decisions").first).to_be_visible()
    assert outside == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
