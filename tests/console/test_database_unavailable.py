"""A console page asked for while the database is out of reach says so in a page of its own
(503, Retry-After), never raw JSON or a 500, and the same signed-in page comes back once the
database does: the session survives the outage.

The outage is real: the server reaches PostgreSQL through a relay on 127.0.0.1 that the test
cuts (`tests.support.Relay`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.engine import make_url

from offerscope.console.once import WAIT_SECONDS
from offerscope.domain.targets import Target
from offerscope.services import history, targets
from offerscope.services.views import ProductView
from offerscope.storage.unit_of_work import Database
from tests.conftest import _empty_postgres
from tests.console.support import Seller, Site, flash, sign_in
from tests.support import Relay, backend_of

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SET = "Product Target Customer set to Enterprise users."
# A form sent again once the database is back may wait for its key to be given up (released
# within a second; a second submission waits for the first up to 15 s): on a busy machine that
# takes longer than an expectation's default 5 s.
SETTLING_MS = 20_000


@pytest.fixture
def relayed_site(
    console_server: tuple[FastAPI, str], postgres_url: str
) -> Iterator[tuple[Relay, Site]]:
    _empty_postgres(postgres_url)
    url = make_url(postgres_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.mend()
    db = Database.connect(url.set(port=relay.port).render_as_string(hide_password=False))
    app, base_url = console_server
    app.state.backend = backend_of(db)
    try:
        yield relay, Site(base_url, db, app)
    finally:
        relay.cut()
        db.dispose()


def test_a_page_during_an_outage_says_so_and_comes_back_after_it(
    relayed_site: tuple[Relay, Site], sized_page: Page
) -> None:
    relay, site = relayed_site
    seller = site.seller()
    site.product(seller, "CloudDB", "Basic")
    sign_in(sized_page, site, seller.token)
    products = site.url("/console/products")
    sized_page.goto(products)
    expect(sized_page.get_by_text("CloudDB").first).to_be_visible()
    relay.cut()
    answer = sized_page.goto(products)
    assert answer is not None and answer.status == 503
    assert int(answer.headers["retry-after"]) > 0
    expect(sized_page.get_by_role("heading", name="Not available right now")).to_be_visible()
    expect(sized_page.locator(".error-message")).to_contain_text("cannot reach its data")
    relay.mend()
    answer = sized_page.goto(products)
    assert answer is not None and answer.status == 200
    expect(sized_page.get_by_text("CloudDB").first).to_be_visible()


def _enterprise_previewed(site: Site, page: Page) -> tuple[Seller, ProductView, Locator]:
    """A seller signed in, on the preview (R14) of setting a product to Enterprise users:
    the seller, the product and the preview's Confirm button."""
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    page.get_by_label("Product Target Customer").select_option("Enterprise users")
    page.get_by_role("button", name="OK").click()
    confirm = page.get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible()
    return seller, product, confirm


def test_a_form_sent_during_an_outage_changes_nothing_and_goes_through_once_after_it(
    relayed_site: tuple[Relay, Site], page: Page
) -> None:
    """As a person would: Confirm while the database is away (a 503 page); once it is back,
    Back to the preview and Confirm again with a double click: the change is made once and
    said so."""
    relay, site = relayed_site
    seller, product, confirm = _enterprise_previewed(site, page)
    relay.cut()
    confirm.click()
    expect(page.get_by_role("heading", name="Not available right now")).to_be_visible()
    relay.mend()
    page.go_back()  # to the preview: the form's own page
    expect(confirm).to_be_visible()
    assert targets.get_target_customers(site.db, seller.actor, product.product_id).target is (
        Target.ALL
    )
    confirm.dblclick()
    expect(flash(page)).to_have_text(SET, timeout=SETTLING_MS)
    entries = history.product_history(site.db, seller.actor, product.product_id).items
    assert [e.action for e in entries] == ["product_target_set", "product_created"]


@pytest.mark.parametrize(
    ("marks", "lands"),
    [
        pytest.param((b"UPDATE products",), False, id="during-the-write"),
        pytest.param((b"UPDATE idempotency_keys", b"COMMIT"), True, id="commit-lands-answer-lost"),
    ],
)
def test_a_form_cut_off_by_an_outage_is_sent_again_with_reload_and_goes_through_once(
    relayed_site: tuple[Relay, Site], page: Page, marks: tuple[bytes, ...], lands: bool
) -> None:
    """The database goes away while a Confirm runs: during its write, or right after its
    commit landed (its answer lost). The page says so (503); once the database is back,
    Reload sends the form again, and the change is made once and said so, without waiting
    for the form's key to be given up."""
    relay, site = relayed_site
    seller, product, confirm = _enterprise_previewed(site, page)
    relay.cut_at(*marks, forward=lands)
    confirm.click()
    expect(page.get_by_role("heading", name="Not available right now")).to_be_visible()
    relay.mend()
    target = targets.get_target_customers(site.db, seller.actor, product.product_id).target
    assert target is (Target.ENTERPRISE if lands else Target.ALL)
    started = time.monotonic()
    page.reload()  # the browser sends the Confirm form again
    expect(flash(page)).to_have_text(SET, timeout=SETTLING_MS)
    assert time.monotonic() - started < WAIT_SECONDS / 2  # not held up by a stale claim
    entries = history.product_history(site.db, seller.actor, product.product_id).items
    assert [e.action for e in entries] == ["product_target_set", "product_created"]
