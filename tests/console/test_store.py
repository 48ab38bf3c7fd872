"""The buyer store in a real browser: Buy with R12's reason, R11 orders, My Credentials."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import associations, decisions, orders, targets, tokens
from offerscope.services.actors import Role
from tests.console.support import (
    Site,
    csrf_token,
    flash,
    position,
    sideways_overflow,
    sign_in,
)
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


def test_each_refusal_says_what_would_make_buying_possible(site: Site, page: Page) -> None:
    seller = site.seller("Northwind")
    cloud = site.product(seller, "CloudDB", "Basic", "Beta")
    backup = site.product(seller, "Backup Plus", "Daily")
    suite = site.product(seller, "Enterprise Suite", "Gold")
    basic, beta = (s.specification_id for s in cloud.specifications)
    targets.set_specification_setting(
        site.db, seller.actor, cloud.product_id, beta, Setting.SPECIFIED
    )
    targets.set_product_target(site.db, seller.actor, backup.product_id, Target.ASSOCIATED)
    associations.add_associations(
        site.db, seller.actor, backup.product_id, None, [cloud.product_id]
    )
    targets.set_product_target(site.db, seller.actor, suite.product_id, Target.ENTERPRISE)
    bob = site.account("bob_li_01")
    sign_in(page, site, site.buyer_token(bob), portal="store")
    index = index_of(site.db)

    # Specified users: send the name and ID from My Credentials to the seller, named.
    card = _card(page, beta)
    expect(card.locator(".reason p").first).to_have_text(
        decisions.check(index, bob.account_id, beta).message  # R12's sentence, unchanged
    )
    expect(card).to_contain_text("send your account name and ID")
    expect(card).to_contain_text("to the seller, Northwind")
    expect(card.get_by_role("link", name="My Credentials")).to_have_attribute(
        "href", "/store/credentials"
    )
    # A type the product is not sold to: which type this account has.
    gold = suite.specifications[0].specification_id
    expect(_card(page, gold)).to_contain_text("yours is Individual")
    # Associated product buyers: the products to buy first, as links into the store.
    daily = backup.specifications[0].specification_id
    _card(page, daily).get_by_role("link", name="CloudDB").click()
    expect(page.locator("section.product-card")).to_have_count(1)  # the catalog, found
    _card(page, basic).get_by_role("button", name="Buy").click()
    expect(flash(page)).to_contain_text("is placed (CloudDB: Basic)")
    page.goto(site.url("/store"))
    expect(_card(page, daily).get_by_role("button", name="Buy")).to_be_enabled()


def test_a_refused_buy_names_what_was_refused_and_shows_its_card(site: Site, page: Page) -> None:
    seller = site.seller()
    suite = site.product(seller, "Enterprise Suite", "Standard")
    targets.set_product_target(site.db, seller.actor, suite.product_id, Target.ENTERPRISE)
    spec = suite.specifications[0].specification_id
    alice = site.account("alice_wang", AccountType.INDIVIDUAL)
    sign_in(page, site, site.buyer_token(alice), portal="store")
    page.request.post(  # a forged order (the button is disabled): the rule refuses it
        site.url("/store/orders"),
        form={"csrf_token": csrf_token(page), "specification_id": spec},
    )
    page.goto(site.url(f"/store?q={spec}"))
    response = page.request.post(
        site.url("/store/orders"),
        form={"csrf_token": csrf_token(page), "specification_id": spec},
    )
    assert "Enterprise Suite: Standard could not be bought" in response.text()
    assert "yours is Individual" in response.text()  # its card, with what would help


def test_the_store_searches_its_catalog(site: Site, page: Page) -> None:
    seller = site.seller("Northwind")
    site.product(seller, "CloudDB", "Basic")
    backup = site.product(seller, "Backup Plus", "Daily")
    site.product(site.seller("Contoso"), "Mail Relay", "Small")
    sign_in(page, site, site.buyer_token(site.account("alice_wang")), portal="store")
    cards = page.locator("section.product-card")
    expect(cards).to_have_count(3)
    for search, found in [("backup", 1), ("DAILY", 1), ("contoso", 1), ("northwind", 2)]:
        page.get_by_label("Search the catalog").fill(search)
        page.get_by_role("button", name="Search").click()
        expect(cards).to_have_count(found)
    page.get_by_label("Search the catalog").fill(backup.product_id)
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Backup Plus")
    page.get_by_label("Search the catalog").fill("nothing like it")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Nothing in the catalog matches")).to_be_visible()


def test_my_orders_lists_orders_with_their_status_refunded_included(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    cloud = site.product(seller, "CloudDB", "Basic", "Pro")
    basic, pro = (s.specification_id for s in cloud.specifications)
    alice = site.account("alice_wang")
    buyer = tokens.authenticate(site.db, site.buyer_token(alice))
    assert buyer is not None
    first = orders.place_order(site.db, buyer, basic)
    orders.place_order(site.db, buyer, pro)
    orders.refund_order(site.db, first.order_id)
    sign_in(sized_page, site, site.buyer_token(alice), portal="store")
    sized_page.get_by_role("navigation", name="Store").get_by_role("link", name="My Orders").click()
    rows = sized_page.locator("table.orders tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Pro")  # newest first
    expect(rows.nth(0).locator(".status")).to_have_text("Paid")
    expect(rows.nth(1)).to_contain_text("CloudDB")
    expect(rows.nth(1).locator(".status")).to_have_text("Refunded")
    expect(sized_page.locator(".pager .position")).to_have_text(position(1, 2, 2))
    assert sideways_overflow(sized_page) == 0


def test_my_credentials_says_the_account_type_as_the_console_does(site: Site, page: Page) -> None:
    alice = site.account("alice_wang", AccountType.INDIVIDUAL)
    sign_in(page, site, site.buyer_token(alice), portal="store")
    page.goto(site.url("/store/credentials"))
    expect(page.get_by_text("Account type: Individual")).to_be_visible()
