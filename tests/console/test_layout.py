"""The layout at a laptop's and a phone's width: rows as cards on a phone with every action
in view, long names that neither break a row nor hide, and the Associate dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from offerscope.domain.targets import Target
from offerscope.services import associations, targets
from tests.console.support import (
    Site,
    in_view,
    product_row,
    screenshot,
    sideways_overflow,
    sign_in,
)

pytestmark = pytest.mark.browser

LONG = "Observability" * 7 + "Platform1"  # 100 characters, not one space


def _one_line(locator: Locator) -> bool:
    """Whether the element's text takes one line."""
    box = locator.bounding_box()
    height = locator.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert box is not None
    return bool(box["height"] < 1.5 * height)


def test_every_action_of_the_product_table_is_in_view(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    made = [site.product(seller, f"Product {n}", "Basic", "Pro") for n in range(3)]
    sign_in(sized_page, site, seller.token)
    assert sideways_overflow(sized_page) == 0
    for product in made:
        row = product_row(sized_page, product.product_id)
        for action in ("Set", "History"):
            link = row.get_by_role("link", name=action)
            link.scroll_into_view_if_needed()
            assert in_view(link), (width, action)
    # Expanded, the specifications' Set is in view too.
    sized_page.get_by_role("button", name="Show specifications of Product 0").click()
    spec = made[0].specifications[1].specification_id
    link = sized_page.locator(f"tr[data-specification-id='{spec}']").get_by_role("link", name="Set")
    link.scroll_into_view_if_needed()
    assert in_view(link) and sideways_overflow(sized_page) == 0


def test_a_phone_shows_rows_as_cards_with_their_labels(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    sign_in(sized_page, site, seller.token)
    head = sized_page.locator("table.products > thead")
    if width == "phone":
        expect(head).to_be_hidden()  # each value is under its column's name instead
        label = product_row(sized_page, product.product_id).locator("td[data-label='Operation']")
        assert label.evaluate("e => getComputedStyle(e, '::before').content") == '"Operation"'
    else:
        expect(head).to_be_visible()
    # History: a row is short, and nothing scrolls sideways.
    sized_page.goto(site.url(f"/console/products/{product.product_id}/history"))
    assert sideways_overflow(sized_page) == 0
    rows = sized_page.locator("table.history tbody tr")
    for n in range(rows.count()):
        box = rows.nth(n).bounding_box()
        assert box is not None
        assert box["height"] < (80 if width == "desktop" else 330), (width, n, box["height"])


def test_a_100_character_name_without_spaces_keeps_the_row_whole(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    product = site.product(seller, LONG, LONG)
    sign_in(sized_page, site, seller.token)
    row = product_row(sized_page, product.product_id)
    name = row.locator(".clip")
    expect(name).to_have_attribute("title", LONG)  # the whole name on hover
    expect(row.get_by_role("link", name="Set")).to_have_accessible_name(f"Set {LONG}")
    assert name.evaluate("e => e.textContent") == LONG  # and all of it for screen readers
    assert sideways_overflow(sized_page) == 0
    set_box = row.get_by_role("link", name="Set").bounding_box()
    history_box = row.get_by_role("link", name="History").bounding_box()
    assert set_box is not None and history_box is not None
    assert abs(set_box["y"] - history_box["y"]) < 2  # side by side, not stacked
    if width == "desktop":
        assert _one_line(name)  # cut short with an ellipsis
        assert _one_line(row.locator("code.id"))  # the ID on one line
    spec = product.specifications[0].specification_id
    base = f"/console/products/{product.product_id}"
    for path in (  # every page that names the product, the breadcrumbs included
        base,
        f"{base}/history",
        f"{base}/target/preview?target=enterprise&version=1",
        f"{base}/specifications/{spec}",
        f"{base}/specifications/{spec}/history",
        f"{base}/specifications/{spec}/target/preview?target=enterprise&version=1",
    ):
        sized_page.goto(site.url(path))
        screenshot(sized_page, f"long-name-{width}-{path.count('/')}-{'preview' in path}")
        assert sideways_overflow(sized_page) == 0, path


def test_the_associate_dialog_lays_out_and_disables_add_with_nothing_to_add(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    alone = site.product(seller, "Backup Plus", "Daily")
    targets.set_product_target(site.db, seller.actor, alone.product_id, Target.ASSOCIATED)
    sign_in(sized_page, site, seller.token)
    sized_page.goto(site.url(f"/console/products/{alone.product_id}"))
    sized_page.get_by_role("button", name="Associate Product").click()
    dialog = sized_page.get_by_role("dialog", name="Associate Product")
    expect(dialog).to_contain_text("No other product of yours can be associated")
    expect(dialog.get_by_role("button", name="Add")).to_be_disabled()

    cloud = site.product(seller, "CloudDB", "Basic")
    sized_page.reload()
    sized_page.get_by_role("button", name="Associate Product").click()
    expect(dialog.get_by_role("button", name="Add")).to_be_enabled()
    # The search's button stays beside its field; the heading clears the list's border.
    field = dialog.get_by_role("searchbox", name="Find your products").bounding_box()
    search = dialog.get_by_role("button", name="Search").bounding_box()
    heading = dialog.get_by_role("heading", name="Associate Product").bounding_box()
    choices = dialog.locator(".choices").bounding_box()
    assert field and search and heading and choices
    assert abs((field["y"] + field["height"] / 2) - (search["y"] + search["height"] / 2)) < 4
    assert search["x"] > field["x"] + field["width"] - 1
    assert heading["y"] + heading["height"] <= choices["y"]
    assert search["x"] + search["width"] <= (sized_page.viewport_size or {"width": 0})["width"]
    dialog.get_by_label("CloudDB").check()
    dialog.get_by_role("button", name="Add").click()
    sized_page.get_by_role("button", name="Confirm").click()  # after the preview (R14)
    expect(sized_page.locator(f"tr[data-associated-id='{cloud.product_id}']")).to_be_visible()
    listed = associations.list_associations(site.db, seller.actor, alone.product_id)
    assert [item.id for item in listed.items] == [cloud.product_id]


def test_breadcrumbs_lead_to_each_page_once(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}/history"))
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_contain_text("Product Management")
    expect(crumbs).to_contain_text("Sales Configurations")
    links = crumbs.get_by_role("link")
    targets_ = [links.nth(n).get_attribute("href") for n in range(links.count())]
    assert len(targets_) == len(set(targets_))  # no two crumbs to one page
    expect(crumbs.get_by_role("link", name="Target Customers")).to_have_attribute(
        "href", "/console/products"
    )
