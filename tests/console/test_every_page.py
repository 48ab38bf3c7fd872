"""Every page of the Seller Console and the store, at a laptop's and a phone's width.

On each: axe-core finds nothing serious or critical, and nothing needs scrolling sideways.
With OFFERSCOPE_SCREENSHOTS=1 each page is also saved to test-artifacts/screens/ (named by
width and page), so that a person can look at the whole UI at once after a run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from offerscope.domain.windows import Window
from offerscope.services import demo, orders, products, specified_users, tokens
from offerscope.services.actors import Role
from tests.console.support import (
    Site,
    screenshot,
    serious_violations,
    sideways_overflow,
    sign_in,
)

pytestmark = pytest.mark.browser

LONG_NAME = "Observability" * 7 + "Platform12345"  # 104 characters without a space: cut to 100
Visit = Callable[[Page], None]


def _check(page: Page, width: str, name: str) -> None:
    screenshot(page, f"{width}-{name}")
    assert serious_violations(page) == [], name
    assert sideways_overflow(page) == 0, name


def _marketplace(site: Site) -> demo.DemoMarketplace:
    """The demo marketplace, a product with a 100-character name and a refunded order."""
    market = demo.load_demo(site.db)
    seller = tokens.authenticate(site.db, market.tokens["seller"])
    assert seller is not None
    products.create_product(site.db, seller, LONG_NAME[:100], [LONG_NAME[:100]])
    alice = tokens.authenticate(site.db, market.tokens["individual buyer (alice_wang)"])
    assert alice is not None
    refunded = orders.place_order(site.db, alice, market.specifications["CloudDB / Standard"])
    orders.refund_order(site.db, refunded.order_id)
    # R16: entries with windows, so that the Status column shows each status.
    private = market.products["Private Preview"]
    for (account_id, name, _type), window in zip(
        demo.ACCOUNTS[:2],
        (
            Window(valid_until=datetime(2020, 1, 1, tzinfo=UTC)),
            Window(valid_from=datetime(2099, 6, 30, tzinfo=UTC)),
        ),
        strict=True,
    ):
        specified_users.add_specified_user(site.db, seller, private, None, account_id, name, window)
    return market


def test_every_console_page_is_accessible_and_fits(
    site: Site, sized_page: Page, width: str
) -> None:
    market = _marketplace(site)
    page = sized_page
    cloud, backup = market.products["CloudDB"], market.products["Backup Plus"]
    preview = market.products["Private Preview"]
    beta = market.specifications["CloudDB / Beta"]
    locked = market.specifications["Private Preview / Preview"]

    page.goto(site.url("/console/login"))
    _check(page, width, "console-login")
    sign_in(page, site, market.tokens["seller"])
    page.get_by_role("button", name="Show specifications of CloudDB").click()
    _check(page, width, "console-products")
    visits: list[tuple[str, str, Visit | None]] = [
        ("console-product-all", f"/console/products/{cloud}", None),
        (
            "console-specification-specified",
            f"/console/products/{cloud}/specifications/{beta}",
            None,
        ),
        (
            "console-specification-locked",
            f"/console/products/{preview}/specifications/{locked}",
            None,
        ),
        ("console-product-specified", f"/console/products/{preview}", None),
        ("console-add-user", f"/console/products/{preview}", _open("Add User")),
        ("console-add-user-errors", f"/console/products/{preview}", _add_wrong_user),
        ("console-product-associated", f"/console/products/{backup}", None),
        ("console-associate", f"/console/products/{backup}", _open("Associate Product")),
        ("console-remove-user", f"/console/products/{preview}", _ask_to_remove),
        ("console-confirm-reset", f"/console/products/{cloud}", _ask_to_reset),
        ("console-preview-associate", f"/console/products/{backup}", _ask_to_associate),
        ("console-remove-association", f"/console/products/{backup}", _ask_to_unlink),
        ("console-users-expired", f"/console/products/{preview}?users_status=expired", None),
        ("console-history", f"/console/products/{cloud}/history", None),
        ("console-history-filtered", f"/console/products/{cloud}/history?account=alice", None),
        ("console-search", "/console/products?q=cloud", None),
        ("console-not-found", "/console/nowhere", None),
    ]
    for name, path, then in visits:
        page.goto(site.url(path))
        if then is not None:
            then(page)
        _check(page, width, name)


def test_every_store_page_is_accessible_and_fits(site: Site, sized_page: Page, width: str) -> None:
    market = _marketplace(site)
    page = sized_page
    page.goto(site.url("/store/login"))
    _check(page, width, "store-login")
    sign_in(page, site, market.tokens["individual buyer (alice_wang)"], portal="store")
    for name, path in [
        ("store-catalog", "/store"),
        ("store-search", "/store?q=backup"),
        ("store-orders", "/store/orders"),
        ("store-credentials", "/store/credentials"),
        ("store-not-found", "/store/nowhere"),
    ]:
        page.goto(site.url(path))
        _check(page, width, name)
    # Another buyer, refused almost everywhere: every kind of guidance at once.
    page.context.clear_cookies()
    bob = tokens.create_token(site.db, Role.BUYER, account_id=demo.ACCOUNTS[3][0])
    sign_in(page, site, bob, portal="store")
    _check(page, width, "store-catalog-refused")


def _open(button: str) -> Visit:
    def visit(page: Page) -> None:
        page.get_by_role("button", name=button).click()
        expect(page.get_by_role("dialog", name=button)).to_be_visible()

    return visit


def _add_wrong_user(page: Page) -> None:
    page.get_by_role("button", name="Add User").click()
    dialog = page.get_by_role("dialog", name="Add User")
    dialog.get_by_label("Account Name").fill("9x")
    dialog.get_by_label("Account ID").fill("not-an-id")
    dialog.get_by_role("button", name="OK").click()
    expect(page.locator("#account_id-error")).to_be_visible()


def _ask_to_remove(page: Page) -> None:
    page.locator("table.users tbody tr").first.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove User")).to_be_visible()


def _ask_to_reset(page: Page) -> None:
    page.get_by_label("Product Target Customer").select_option(label="Specified users")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()


def _ask_to_associate(page: Page) -> None:
    page.get_by_role("button", name="Associate Product").click()
    page.get_by_role("dialog", name="Associate Product").locator("input[name='ids']").first.check()
    page.get_by_role("dialog", name="Associate Product").get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()


def _ask_to_unlink(page: Page) -> None:
    page.locator("table.associations tbody tr").first.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove Association")).to_be_visible()
