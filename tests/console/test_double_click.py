"""A double click makes one change (R15), with and without the page's script.

With JavaScript the second click does nothing (the button is disabled once the form is on its
way); without it, both clicks reach the server, which runs the form once and answers the second
with the first one's result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from offerscope.domain.targets import Target
from offerscope.services import history, orders, targets, tokens
from offerscope.services.actors import Role
from tests.console.support import Site, flash, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["script", "no-script"])
def scripted(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def any_page(browser: Browser, scripted: bool) -> Iterator[Page]:
    """A page with the console's script running, or with JavaScript turned off."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=scripted
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _double_click(button: Locator, posted: str, expected: int = 1) -> int:
    """Two clicks on the same page, as a person's double click.

    The server is fast enough here to answer the first click before the second, which would
    then land on the next page; so each form submission is held in the browser until both
    clicks are done, then sent to the server in click order (both reach it, as they do when
    it is busy). Returns how many submissions the page made.
    """
    page = button.page
    held: list[Route] = []
    page.route(posted, lambda route: held.append(route))
    button.scroll_into_view_if_needed()  # the mouse clicks where the button is on screen
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    # The second click once the first submission has left the page (held here), as a person's
    # second click lands. Sent 20 ms apart regardless, both clicks could reach a busy browser
    # in one turn of its loop, which then makes one submission of them: no double click.
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    page.mouse.click(x, y)
    # The submissions the page is `expected` to make may take a while on a busy machine:
    # wait for them (up to 5 s), then a moment more for any the page should not make.
    for _ in range(100):
        if len(held) >= expected:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    answers = [route.fetch(max_redirects=0) for route in held]
    held[-1].fulfill(response=answers[-1])
    for route in held[:-1]:
        with suppress(Exception):  # the browser dropped it for the second submission
            route.abort()
    page.unroute(posted)
    return len(held)


def _orders(site: Site, account_id: str) -> int:
    actor = tokens.authenticate(
        site.db, tokens.create_token(site.db, Role.BUYER, account_id=account_id)
    )
    assert actor is not None
    return len(orders.list_orders(site.db, actor).items)


def test_a_double_click_on_buy_places_one_order(site: Site, any_page: Page, scripted: bool) -> None:
    seller = site.seller()
    specs = [site.product(seller, f"Product {n}", "Basic").specifications[0] for n in range(3)]
    alice = site.account("alice_wang")
    sign_in(any_page, site, site.buyer_token(alice), portal="store")
    for spec in specs:
        card = any_page.locator(f"li.spec-card[data-specification-id='{spec.specification_id}']")
        expected = 1 if scripted else 2
        sent = _double_click(card.get_by_role("button", name="Buy"), "**/store/orders", expected)
        assert sent == expected
        expect(flash(any_page)).to_contain_text("is placed")
    assert _orders(site, alice.account_id) == 3


def test_a_double_click_on_ok_saves_and_says_so(site: Site, any_page: Page, scripted: bool) -> None:
    seller = site.seller()
    products = [site.product(seller, f"Product {n}", "Basic") for n in range(3)]
    sign_in(any_page, site, seller.token)
    for product in products:
        any_page.goto(site.url(f"/console/products/{product.product_id}"))
        any_page.get_by_label("Product Target Customer").select_option("Enterprise users")
        any_page.get_by_role("button", name="OK").click()  # the preview (R14) comes first
        expected = 1 if scripted else 2
        sent = _double_click(any_page.get_by_role("button", name="Confirm"), "**/target", expected)
        assert sent == expected
        expect(flash(any_page)).to_have_text("Product Target Customer set to Enterprise users.")
        expect(any_page.locator(".field-error")).to_have_count(0)
        entries = history.product_history(site.db, seller.actor, product.product_id).items
        assert [e.action for e in entries] == ["product_target_set", "product_created"]


def test_the_button_is_disabled_once_the_form_is_sent(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Compute", "Basic")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    page.get_by_role("button", name="OK").click()  # the preview (R14), whose Confirm posts
    # After the page's own handler: note whether it stopped each submission, then keep the
    # page where it is, to look at it after the click.
    page.evaluate(
        "window.stopped = []; window.addEventListener('submit',"
        " e => { window.stopped.push(e.defaultPrevented); e.preventDefault(); })"
    )
    ok = page.get_by_role("button", name="Confirm")
    ok.click()
    expect(ok).to_be_disabled()
    expect(ok).to_have_attribute("aria-busy", "true")
    ok.click(force=True)  # a second click on the disabled button
    ok.evaluate("button => button.form.requestSubmit()")  # even a scripted second submit
    assert page.evaluate("window.stopped") == [False, True]


def test_a_double_click_on_each_list_button_makes_one_change_and_says_so_in_its_list(
    site: Site, page: Page
) -> None:
    """With the page's script: the dialogs need it to open (without it the server's one change
    per form is what `test_once` shows)."""
    seller = site.seller()
    private = site.product(seller, "Private Preview", "Preview")
    backup = site.product(seller, "Backup Plus", "Daily")
    site.product(seller, "CloudDB", "Basic")
    targets.set_product_target(site.db, seller.actor, private.product_id, Target.SPECIFIED)
    targets.set_product_target(site.db, seller.actor, backup.product_id, Target.ASSOCIATED)
    bob = site.account("bob_li_01")
    sign_in(page, site, seller.token)
    expected = 1

    page.goto(site.url(f"/console/products/{private.product_id}"))
    page.get_by_role("button", name="Add User").click()
    page.get_by_label("Account Name").fill("bob_li_01")
    page.get_by_label("Account ID").fill(bob.account_id)
    ok = page.locator("#add-user-dialog").get_by_role("button", name="OK")
    assert _double_click(ok, "**/users", expected) == expected
    expect(page.locator("#users .flash")).to_contain_text("Added bob_li_01")
    page.locator(f"tr[data-account-id='{bob.account_id}']").get_by_role("link").click()
    remove = page.get_by_role("button", name="Remove")
    assert _double_click(remove, "**/remove", expected) == expected
    expect(page.locator("#users .flash")).to_contain_text("Removed bob_li_01")

    page.goto(site.url(f"/console/products/{backup.product_id}"))
    page.get_by_role("button", name="Associate Product").click()
    page.get_by_label("CloudDB").check()
    page.locator("#associate-dialog").get_by_role("button", name="Add").click()
    add = page.get_by_role("button", name="Confirm")  # on the preview (R14)
    assert _double_click(add, "**/associations", expected) == expected
    expect(page.locator("#associations .flash")).to_contain_text("Associated: CloudDB")
    page.get_by_role("link", name="Remove CloudDB").click()
    unlink = page.get_by_role("button", name="Remove")  # on the preview (R14)
    assert _double_click(unlink, "**/remove", expected) == expected
    expect(page.locator("#associations .flash")).to_contain_text(
        "Removed the association with CloudDB"
    )

    actions = [
        e.action for e in history.product_history(site.db, seller.actor, private.product_id).items
    ]
    assert actions.count("specified_user_added") == actions.count("specified_user_removed") == 1
    actions = [
        e.action for e in history.product_history(site.db, seller.actor, backup.product_id).items
    ]
    assert actions.count("association_added") == actions.count("association_removed") == 1
