"""The buyer store in a real browser: Buy with R12's reason, R11 orders, My Credentials."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import associations, decisions, orders, targets, tokens
from offerscope.services.actors import Role
from tests.console.support import Site, csrf_token, flash, sign_in
from tests.support import index_of

pytestmark = pytest.mark.browser


def _card(page: Page, specification_id: str) -> Locator:
    return page.locator(f"li.spec-card[data-specification-id='{specification_id}']")


def test_a_purchase_unlocks_the_associated_product_at_once(site: Site, page: Page) -> None:
    seller = site.seller()
    cloud = site.product(seller, "CloudDB", "Basic")
    backup = site.product(seller, "Backup Plus", "Daily")
    targets.set_product_target(site.db, seller.actor, backup.product_id, Target.ASSOCIATED)
    associations.add_associations(
        site.db, seller.actor, backup.product_id, None, [cloud.product_id]
    )
    alice = site.account("alice_wang")
    basic = cloud.specifications[0].specification_id
    daily = backup.specifications[0].specification_id
    refusal = decisions.check(index_of(site.db), alice.account_id, daily)
    assert not refusal.allowed
    sign_in(page, site, site.buyer_token(alice), portal="store")

    # R12: Buy is disabled, with the decision's sentence as the reason.
    buy_daily = _card(page, daily).get_by_role("button", name="Buy")
    expect(buy_daily).to_be_disabled()
    expect(_card(page, daily).locator(".reason p").first).to_have_text(refusal.message)
    expect(_card(page, basic).locator(".reason")).to_have_count(0)

    _card(page, basic).get_by_role("button", name="Buy").click()
    expect(flash(page)).to_contain_text("is placed")
    # R3, R10: the paid order of CloudDB admits its buyer to Backup Plus straight away.
    expect(buy_daily).to_be_enabled()
    buy_daily.click()
    expect(flash(page)).to_contain_text("is placed")
    assert _bought(site, alice.account_id) == {basic, daily}


def _bought(site: Site, account_id: str) -> set[str]:
    """The specifications this account has orders of, read through the buyer's use case."""
    actor = tokens.authenticate(
        site.db, tokens.create_token(site.db, Role.BUYER, account_id=account_id)
    )
    assert actor is not None
    return {order.specification_id for order in orders.list_orders(site.db, actor).items}


def test_r11_a_forged_order_for_a_refused_specification_is_refused(site: Site, page: Page) -> None:
    seller = site.seller()
    suite = site.product(seller, "Enterprise Suite", "Standard")
    targets.set_product_target(site.db, seller.actor, suite.product_id, Target.ENTERPRISE)
    spec = suite.specifications[0].specification_id
    alice = site.account("alice_wang", AccountType.INDIVIDUAL)
    sign_in(page, site, site.buyer_token(alice), portal="store")
    expect(_card(page, spec).get_by_role("button", name="Buy")).to_be_disabled()

    # The button is disabled, but a hand-made POST must be refused by the rule itself.
    response = page.request.post(
        site.url("/store/orders"),
        form={"csrf_token": csrf_token(page), "specification_id": spec},
    )
    assert response.status == 200  # followed the redirect back to the catalog
    assert decisions.check(index_of(site.db), alice.account_id, spec).message in response.text()
    assert _bought(site, alice.account_id) == set()


def test_specification_cards_follow_their_own_setting(site: Site, page: Page) -> None:
    seller = site.seller()
    cloud = site.product(seller, "CloudDB", "Basic", "Enterprise Edition")
    basic, edition = (s.specification_id for s in cloud.specifications)
    targets.set_specification_setting(
        site.db, seller.actor, cloud.product_id, edition, Setting.ENTERPRISE
    )
    bob = site.account("bob_li_01", AccountType.INDIVIDUAL)
    sign_in(page, site, site.buyer_token(bob), portal="store")

    expect(_card(page, basic).get_by_role("button", name="Buy")).to_be_enabled()
    expect(_card(page, edition).get_by_role("button", name="Buy")).to_be_disabled()
    expect(_card(page, edition)).to_contain_text(
        "This specification is sold only to enterprise users."
    )


def test_my_credentials_shows_the_account_name_and_id_ready_to_copy(
    site: Site, browser: Browser
) -> None:
    acme = site.account("acme_corp", AccountType.ENTERPRISE)
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    page = context.new_page()
    try:
        sign_in(page, site, site.buyer_token(acme), portal="store")
        # The seed: "pointing to the account name in the upper right corner ... My Credentials"
        page.locator(".account-menu summary").filter(has_text="acme_corp").click()
        page.locator(".account-menu").get_by_role("link", name="My Credentials").click()

        expect(page.get_by_role("heading", name="My Credentials")).to_be_visible()
        expect(page.get_by_label("Account Name", exact=True)).to_have_value("acme_corp")
        expect(page.get_by_label("Account ID", exact=True)).to_have_value(acme.account_id)
        page.get_by_role("button", name="Copy Account ID").click()
        expect(page.get_by_role("status")).to_have_text("Account ID copied.")
        assert page.evaluate("navigator.clipboard.readText()") == acme.account_id
    finally:
        context.close()
