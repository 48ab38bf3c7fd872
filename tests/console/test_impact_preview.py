"""R14 in the Seller Console: every Set, Remove and Associate shows its effect first.

A seller's change goes to a preview that runs the very use case as a dry run: the page names
the current customers who would lose access, Cancel changes nothing, Confirm makes exactly the
change previewed, once, and Back or Reload after it never sends it again. On both stores.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from offerscope.domain.targets import Target
from offerscope.services import decisions, history, orders, specified_users, targets, tokens
from offerscope.services.views import AccountView, ProductView
from tests.console.support import Seller, Site, flash, serious_violations, sign_in
from tests.console.test_double_click import _double_click

pytestmark = pytest.mark.browser


def _buy(site: Site, account: AccountView, specification_id: str) -> None:
    buyer = tokens.authenticate(site.db, site.buyer_token(account))
    assert buyer is not None
    orders.place_order(site.db, buyer, specification_id)


def _allowed(site: Site, product: ProductView, people: list[AccountView]) -> set[tuple[str, str]]:
    """Who may buy which specification, read straight from the tables (R12)."""
    return {
        (person.account_name, spec.name)
        for person in people
        for spec in product.specifications
        if decisions.check_from_database(site.db, person.account_id, spec.specification_id).allowed
    }


def _store_allows(browser: Browser, site: Site, account: AccountView, spec_id: str) -> bool:
    """Whether the store shows the buyer an enabled Buy for the specification."""
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, site, site.buyer_token(account), portal="store")
        buy = page.locator(f"li.spec-card[data-specification-id='{spec_id}'] button")
        return buy.is_enabled()
    finally:
        context.close()


def _target_changes(site: Site, seller: Seller, product_id: str) -> int:
    entries = history.product_history(site.db, seller.actor, product_id).items
    return sum(e.action == "product_target_set" for e in entries)


def _marketplace(site: Site) -> tuple[Seller, ProductView, list[AccountView]]:
    """CloudDB sold to all users; dave is on its (inactive) list; alice and bob bought Basic,
    dave bought Pro, carol bought nothing."""
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic", "Pro")
    people = [site.account(name) for name in ("alice_wang", "bob_li", "carol_ng", "dave_ok")]
    alice, bob, _carol, dave = people
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    specified_users.add_specified_user(
        site.db, seller.actor, product.product_id, None, dave.account_id, dave.account_name
    )
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ALL)
    basic, pro = (s.specification_id for s in product.specifications)
    _buy(site, alice, basic)
    _buy(site, bob, basic)
    _buy(site, dave, pro)
    return seller, product, people


def _ask_for_specified_users(page: Page) -> None:
    page.get_by_label("Product Target Customer").select_option(label="Specified users")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()


def test_a_switch_to_specified_users_names_who_loses_access_then_does_exactly_that(
    any_site: Site, page: Page, browser: Browser
) -> None:
    site = any_site
    seller, product, people = _marketplace(site)
    alice, bob, carol, dave = people
    basic = product.specifications[0].specification_id
    everything = {(p.account_name, s.name) for p in people for s in product.specifications}
    assert _allowed(site, product, people) == everything
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    expect(page.locator("[data-audience]")).to_have_text("4 accounts")

    _ask_for_specified_users(page)
    impact = page.locator(".impact")
    expect(impact.locator("[data-figure='gains']")).to_have_text("0 accounts")
    expect(impact.locator("[data-figure='losses']")).to_have_text("3 accounts")
    expect(impact.locator("[data-figure='customers_losing']")).to_have_text("2")
    named = impact.locator("ul.customers li")
    expect(named).to_have_count(2)
    expect(named.nth(0)).to_contain_text("alice_wang")
    expect(named.nth(1)).to_contain_text("bob_li")
    expect(impact).not_to_contain_text("carol_ng")  # not a customer: not named
    expect(impact.locator("table.effects tbody tr")).to_have_count(2)
    expect(impact.locator("table.effects")).to_contain_text("Basic")
    expect(impact.get_by_role("alert")).to_have_count(0)  # dave can still buy both
    assert serious_violations(page) == []

    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Set Target Customer")).to_be_visible()
    assert _allowed(site, product, people) == everything
    assert _target_changes(site, seller, product.product_id) == 2
    assert _store_allows(browser, site, alice, basic)

    _ask_for_specified_users(page)
    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Product Target Customer set to Specified users")
    after = _allowed(site, product, people)
    assert after == {(dave.account_name, s.name) for s in product.specifications}
    lost = {name for name, _ in everything - after}
    assert lost == {alice.account_name, bob.account_name, carol.account_name}
    assert not _store_allows(browser, site, alice, basic)
    assert _store_allows(browser, site, dave, basic)
    newest = history.product_history(site.db, seller.actor, product.product_id).items[0]
    assert newest.impact == {"gains": 0, "losses": 3, "customers_losing": 2}
    expect(page.locator("[data-audience]")).to_have_text("1 account")

    page.goto(site.url(f"/console/products/{product.product_id}/history"))
    effect = page.locator("table.history tbody tr").first.locator(".effect")
    expect(effect).to_contain_text("3 lost")
    expect(effect).to_contain_text("2 customers lost")


def test_a_double_click_on_confirm_changes_once_and_back_or_reload_send_nothing(
    any_site: Site, page: Page
) -> None:
    site = any_site
    seller, product, _people = _marketplace(site)
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    _ask_for_specified_users(page)

    sent = _double_click(page.get_by_role("button", name="Confirm"), "**/target")
    assert sent == 1  # the page's script sends the form once; the server would run it once
    expect(flash(page)).to_contain_text("Product Target Customer set to Specified users")
    assert _target_changes(site, seller, product.product_id) == 3

    page.reload()
    # Back to the preview, fetched again with GET: made for the version before the change,
    # it now says the target customers changed since, and changes nothing.
    page.go_back()
    assert "/target/preview" in page.url
    expect(page.locator("#target-error")).to_contain_text(
        "These target customers changed after you loaded them"
    )
    page.reload()
    page.go_forward()
    assert _target_changes(site, seller, product.product_id) == 3
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.SPECIFIED


def test_a_stale_preview_confirms_nothing(any_site: Site, page: Page) -> None:
    """A preview made before someone else's change confirms nothing: R4's version check."""
    site = any_site
    seller, product, _people = _marketplace(site)
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    _ask_for_specified_users(page)
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#target-error")).to_contain_text(
        "These target customers changed after you loaded them"
    )
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.ENTERPRISE


def test_previews_warn_when_nobody_could_buy_a_specification(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Backup Plus", "Daily")
    site.account("alice_wang")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))

    _ask_for_specified_users(page)  # an empty list
    expect(page.get_by_role("alert")).to_contain_text(
        "Nobody could buy this specification after this change: Daily."
    )
    page.get_by_role("link", name="Cancel").click()

    page.get_by_label("Product Target Customer").select_option(label="Associated product buyers")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Nobody could buy this specification after this change: Daily."
    )
    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Associated product buyers")


def test_remove_and_associate_show_their_effect_before_taking_it(site: Site, page: Page) -> None:
    seller = site.seller()
    private = site.product(seller, "Private Preview", "Preview")
    cloud = site.product(seller, "CloudDB", "Basic")
    bob, carol = site.account("bob_li"), site.account("carol_ng")
    preview_spec = private.specifications[0].specification_id
    targets.set_product_target(site.db, seller.actor, private.product_id, Target.SPECIFIED)
    specified_users.add_specified_user(
        site.db, seller.actor, private.product_id, None, bob.account_id, bob.account_name
    )
    _buy(site, bob, preview_spec)
    _buy(site, carol, cloud.specifications[0].specification_id)
    sign_in(page, site, seller.token)

    # Remove: bob is the customer who would lose access, and the only one who could buy.
    page.goto(site.url(f"/console/products/{private.product_id}"))
    page.locator(f"tr[data-account-id='{bob.account_id}']").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Remove bob_li from the specified users?"))
    expect(page.locator("ul.customers li")).to_have_text([f"bob_li {bob.account_id}"])
    expect(page.get_by_role("alert")).to_contain_text("this change: Preview.")
    page.get_by_role("button", name="Remove").click()
    expect(flash(page)).to_contain_text("Removed bob_li")
    assert not decisions.check_from_database(site.db, bob.account_id, preview_spec).allowed

    # Associate: buyers of CloudDB (carol) would gain the right to buy Private Preview.
    page.get_by_label("Product Target Customer").select_option(label="Associated product buyers")
    page.get_by_role("button", name="OK").click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Associate Product").click()
    page.get_by_role("dialog", name="Associate Product").get_by_label("CloudDB").check()
    page.get_by_role("dialog", name="Associate Product").get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Sell Private Preview to buyers of these products?"))
    expect(page.locator("[data-figure='gains']")).to_have_text("1 account")
    assert not decisions.check_from_database(site.db, carol.account_id, preview_spec).allowed
    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Associated: CloudDB")
    assert decisions.check_from_database(site.db, carol.account_id, preview_spec).allowed

    # Removing the association: carol would lose it again, and nobody could buy.
    page.get_by_role("link", name="Remove CloudDB").click()
    expect(page.get_by_role("heading", name="Stop selling to buyers of CloudDB?"))
    expect(page.locator("[data-figure='losses']")).to_have_text("1 account")
    page.get_by_role("link", name="Cancel").click()
    assert decisions.check_from_database(site.db, carol.account_id, preview_spec).allowed
    page.get_by_role("link", name="Remove CloudDB").click()
    page.get_by_role("button", name="Remove").click()
    expect(flash(page)).to_contain_text("Removed the association with CloudDB")
    assert not decisions.check_from_database(site.db, carol.account_id, preview_spec).allowed


def test_a_preview_of_another_sellers_product_is_not_found(site: Site, page: Page) -> None:
    """R9: another seller's IDs answer as if absent, in a preview as in the write."""
    mine, theirs = site.seller(), site.seller("Other Seller")
    foreign = site.product(theirs, "Foreign Product", "X")
    sign_in(page, site, mine.token)
    base = f"/console/products/{foreign.product_id}"
    for path in (
        f"{base}/target/preview?target=specified&version=1",
        f"{base}/associations/preview?ids={foreign.product_id}",
    ):
        response = page.goto(site.url(path))
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Confirm the change")).to_have_count(0)
    view = targets.get_target_customers(site.db, theirs.actor, foreign.product_id)
    assert view.target is Target.ALL
