"""Paging in a real browser: Previous and Next, the position, and a page size, all in the URL,
on the product table, a user list, the history and the store's catalog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from offerscope.domain.targets import Setting, Target
from offerscope.services import targets
from tests.console.support import Site, position, sign_in

pytestmark = pytest.mark.browser


def _pager(page: Page, label: str) -> Locator:
    return page.get_by_role("navigation", name=f"Pages of {label}")


def test_the_product_table_pages_both_ways_and_says_where_it_is(site: Site, page: Page) -> None:
    seller = site.seller()
    for n in range(25):
        site.product(seller, f"Widget {n:02d}", "Basic")
    sign_in(page, site, seller.token)
    rows = page.locator("table.products > tbody.product")
    pager = _pager(page, "products")
    expect(pager.locator(".position")).to_have_text(position(1, 20, 25))

    pager.get_by_role("link", name="10 per page").click()  # the page size, kept in the URL
    expect(rows).to_have_count(10)
    assert "size=10" in page.url
    expect(pager.locator(".position")).to_have_text(position(1, 10, 25))
    expect(pager.get_by_role("link", name="Previous")).to_have_count(0)  # nothing before
    pager.get_by_role("link", name="Next").click()
    expect(pager.locator(".position")).to_have_text(position(11, 20, 25))
    pager.get_by_role("link", name="Next").click()
    expect(pager.locator(".position")).to_have_text(position(21, 25, 25))
    expect(rows.last).to_contain_text("Widget 24")
    assert "size=10" in page.url and "cursor=" in page.url

    page.reload()  # the URL alone says which page this is
    expect(pager.locator(".position")).to_have_text(position(21, 25, 25))
    pager.get_by_role("link", name="Previous").click()
    expect(pager.locator(".position")).to_have_text(position(11, 20, 25))
    expect(rows.first).to_contain_text("Widget 10")
    pager.get_by_role("link", name="Previous").click()
    expect(pager.locator(".position")).to_have_text(position(1, 10, 25))

    page.get_by_label("Search products").fill("widget 1")  # a search keeps the page size
    page.get_by_role("button", name="Search").click()
    expect(pager.locator(".position")).to_have_text(position(1, 10, 10))
    assert "q=widget+1" in page.url


def test_the_history_pages_both_ways(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    spec = product.specifications[0].specification_id
    for n in range(12):  # 24 changes and the creation: 25 entries
        target = Target.ENTERPRISE if n % 2 else Target.INDIVIDUAL
        targets.set_product_target(site.db, seller.actor, product.product_id, target)
        targets.set_specification_setting(
            site.db, seller.actor, product.product_id, spec, Setting.SPECIFIED
        )
        targets.set_specification_setting(
            site.db, seller.actor, product.product_id, spec, Setting.SAME_AS_PRODUCT
        )
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}/history?size=20"))
    pager = _pager(page, "changes")
    expect(pager.locator(".position")).to_have_text(position(1, 20, 37))
    pager.get_by_role("link", name="Next").click()
    expect(pager.locator(".position")).to_have_text(position(21, 37, 37))
    expect(page.locator("table.history tbody tr").last).to_contain_text("Product created")
    pager.get_by_role("link", name="Previous").click()
    expect(pager.locator(".position")).to_have_text(position(1, 20, 37))


def test_the_store_catalog_pages_both_ways(site: Site, page: Page) -> None:
    seller = site.seller()
    for n in range(23):
        site.product(seller, f"Gadget {n:02d}", "Basic")
    buyer = site.account("alice_wang")
    sign_in(page, site, site.buyer_token(buyer), portal="store")
    pager = _pager(page, "products")
    expect(pager.locator(".position")).to_have_text(position(1, 20, 23))
    pager.get_by_role("link", name="Next").click()
    expect(pager.locator(".position")).to_have_text(position(21, 23, 23))
    pager.get_by_role("link", name="Previous").click()
    expect(pager.locator(".position")).to_have_text(position(1, 20, 23))
    pager.get_by_role("link", name="50 per page").click()
    expect(pager.locator(".position")).to_have_text(position(1, 23, 23))
    assert "size=50" in page.url
