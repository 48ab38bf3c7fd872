"""A console or store page that fails for a reason nobody foresaw (here: a row the code cannot
read, as damaged data or a bad migration leaves) is answered with the site's own error page,
status 500, never the API's raw JSON; the session goes on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from offerscope.domain.targets import AccountType, Target
from offerscope.services import specified_users, targets
from tests.console.support import Site, screenshot, sideways_overflow, sign_in

pytestmark = pytest.mark.browser


def test_a_page_that_fails_unexpectedly_is_a_page_of_the_site(
    site: Site, sized_page: Page, width: str
) -> None:
    page = sized_page
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    buyer = site.account("alice_wang", AccountType.ENTERPRISE)
    specified_users.add_specified_user(
        site.db, seller.actor, product.product_id, None, buyer.account_id, "alice_wang"
    )
    sign_in(page, site, seller.token)
    list_page = site.url(f"/console/products/{product.product_id}")
    assert (answer := page.goto(list_page)) is not None and answer.status == 200
    with site.db.writing() as uow:  # damaged data: a type no code knows, past the CHECK
        uow.session.execute(text("PRAGMA ignore_check_constraints = ON"))
        uow.session.execute(text("UPDATE accounts SET account_type = 'wholesale'"))
        uow.commit()
        uow.session.execute(text("PRAGMA ignore_check_constraints = OFF"))

    answer = page.goto(list_page)
    assert answer is not None and answer.status == 500
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    expect(page.locator(".error-message")).to_contain_text("on our side")
    screenshot(page, f"unexpected-error-{width}")
    assert sideways_overflow(page) == 0
    page.get_by_role("link", name="Back to Sales Configurations").click()
    expect(page.get_by_text("CloudDB").first).to_be_visible()  # still signed in
