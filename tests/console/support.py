"""Test data for the console's browser tests, made through the ordinary use cases."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Locator, Page, expect

from offerscope.domain.targets import AccountType
from offerscope.services import accounts, products, sellers, tokens
from offerscope.services.actors import Actor, Role
from offerscope.services.views import AccountView, ProductView
from offerscope.storage.unit_of_work import Database

SECRET = "console-test-secret"  # the test server's session key


@dataclass(frozen=True)
class Seller:
    actor: Actor
    token: str


@dataclass
class Site:
    """One test's marketplace and the server it is served on."""

    base_url: str
    db: Database
    app: FastAPI
    _accounts: int = field(default=0)

    def url(self, path: str) -> str:
        return self.base_url + path

    def seller(self, name: str = "Northwind") -> Seller:
        seller_id = sellers.create_seller(self.db, name).seller_id
        token = tokens.create_token(self.db, Role.SELLER, seller_id=seller_id)
        return Seller(sellers.seller_actor(self.db, seller_id), token)

    def account(self, name: str, account_type: AccountType = AccountType.INDIVIDUAL) -> AccountView:
        self._accounts += 1
        return accounts.register_account(self.db, f"{self._accounts:032x}", name, account_type)

    def buyer_token(self, account: AccountView) -> str:
        return tokens.create_token(self.db, Role.BUYER, account_id=account.account_id)

    def product(self, seller: Seller, name: str, *specs: str) -> ProductView:
        return products.create_product(self.db, seller.actor, name, list(specs))


def sign_in(page: Page, site: Site, token: str, portal: str = "console") -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto(site.url(f"/{portal}/login"))
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Access token")).to_have_count(0)


def product_row(page: Page, product_id: str) -> Locator:
    """The product's own row in the Target Customers table."""
    return page.locator(f"tbody.product[data-product-id='{product_id}'] > tr").first


def flash(page: Page) -> Locator:
    return page.locator(".flash")


def csrf_token(page: Page) -> str:
    value = page.locator("input[name='csrf_token']").first.get_attribute("value")
    assert value
    return value


def shown_version(page: Page) -> str:
    """The version of the target customers the page's Set form was rendered for."""
    value = page.locator("input[name='version']").first.get_attribute("value")
    assert value
    return value


def position(first: int, last: int, total: int | None = None) -> str:
    """A pager's position line, as the console writes it ("41 to 60 of 1,234", with an en dash)."""
    shown = f"{first:,}\N{EN DASH}{last:,}"
    return shown if total is None else f"{shown} of {total:,}"


# --- looking at a page as a person (and a screen reader) would ---------------------------------

SCREENSHOTS = os.environ.get("OFFERSCOPE_SCREENSHOTS") == "1"
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
_AXE = Axe()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    results = _AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    width: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def in_view(locator: Locator) -> bool:
    """Whether the element is wholly inside the window, across (and down, as scrolled)."""
    box = locator.bounding_box()
    size = locator.page.viewport_size
    assert box is not None and size is not None
    return (
        box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
    )


def screenshot(page: Page, name: str) -> None:
    """With OFFERSCOPE_SCREENSHOTS=1, the whole page as test-artifacts/screens/<name>.png, so
    that a person can look at every page at once after a test run."""
    if SCREENSHOTS:
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENS / f"{name}.png", full_page=True)
