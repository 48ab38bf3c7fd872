"""R16 in the Seller Console: Add User with a start and an end (UTC), each entry's status, a
status filter; and R14's marks on entries that do not count now (R6 type, inactive list)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from offerscope.console.entry_form import NOT_A_MOMENT, read_utc
from offerscope.domain.errors import Invalid
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import decisions, specified_users, targets
from offerscope.services.views import AccountView
from tests.console.support import Site, flash, serious_violations, sign_in

pytestmark = pytest.mark.browser


def _add(page: Page, account: AccountView, start: str = "", end: str = "") -> None:
    page.get_by_role("button", name="Add User").click()
    dialog = page.get_by_role("dialog", name="Add User")
    dialog.get_by_label("Account Name").fill(account.account_name)
    dialog.get_by_label("Account ID").fill(account.account_id)
    dialog.get_by_label("Start (UTC)").fill(start)
    dialog.get_by_label("End (UTC)").fill(end)
    dialog.get_by_role("button", name="OK").click()


def _filter(page: Page, status: str) -> list[str]:
    page.get_by_label("Status").select_option(label=status)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Status")).to_have_value(status.lower() if status != "All" else "")
    ids = page.locator("table.users tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.accountId)"
    )
    return [str(i) for i in ids]


def test_windows_show_their_status_and_the_list_filters_by_it(any_site: Site, page: Page) -> None:
    site = any_site
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    spec = product.specifications[0].specification_id
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    alice, bob, carol = (site.account(n) for n in ("alice_wang", "bob_li", "carol_ng"))
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))

    page.get_by_role("button", name="Add User").click()
    dialog = page.get_by_role("dialog", name="Add User")
    expect(dialog).to_contain_text("Times are in UTC")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Cancel").click()

    _add(page, alice, end="2020-01-01T00:00")
    expect(flash(page)).to_contain_text("counting until 2020-01-01 00:00 UTC")
    _add(page, bob, start="2099-06-30T12:30")
    _add(page, carol)
    rows = {
        a.account_id: page.locator(f"tr[data-account-id='{a.account_id}']")
        for a in (alice, bob, carol)
    }
    expect(rows[alice.account_id].locator("td.status-cell")).to_contain_text(
        "Expired since 2020-01-01 00:00 UTC"
    )
    expect(rows[bob.account_id].locator("td.status-cell")).to_contain_text(
        "Scheduled from 2099-06-30 12:30 UTC"
    )
    expect(rows[carol.account_id].locator("td.status-cell")).to_have_text("Active")
    assert serious_violations(page) == []
    # R16: only carol's entry counts now.
    allowed = [
        a.account_name
        for a in (alice, bob, carol)
        if decisions.check_from_database(site.db, a.account_id, spec).allowed
    ]
    assert allowed == ["carol_ng"]
    expect(page.locator("[data-audience]")).to_have_text("1 account")

    assert _filter(page, "Expired") == [alice.account_id]
    assert _filter(page, "Scheduled") == [bob.account_id]
    assert _filter(page, "Active") == [carol.account_id]
    assert _filter(page, "All") == [alice.account_id, bob.account_id, carol.account_id]


def test_a_window_that_ends_before_it_starts_is_refused_beside_the_field(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    alice = site.account("alice_wang")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))

    _add(page, alice, start="2030-01-02T00:00", end="2030-01-01T00:00")
    expect(page.locator("#valid_until-error")).to_have_text("The end must be after the start.")
    expect(page.get_by_label("End (UTC)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Start (UTC)")).to_have_value("2030-01-02T00:00")  # kept
    assert serious_violations(page) == []
    listed = specified_users.list_specified_users(site.db, seller.actor, product.product_id)
    assert listed.page.items == []


def test_entries_that_do_not_count_now_say_why(site: Site, page: Page) -> None:
    seller = site.seller()
    suite = site.product(seller, "Enterprise Suite", "Gold")
    gold = suite.specifications[0].specification_id
    acme = site.account("acme_corp", AccountType.ENTERPRISE)
    targets.set_product_target(site.db, seller.actor, suite.product_id, Target.ENTERPRISE)
    targets.set_specification_setting(
        site.db, seller.actor, suite.product_id, gold, Setting.SPECIFIED
    )
    specified_users.add_specified_user(
        site.db, seller.actor, suite.product_id, gold, acme.account_id, acme.account_name
    )
    # R6: sold to individual users now, the enterprise account's entry stays but cannot count.
    targets.set_product_target(site.db, seller.actor, suite.product_id, Target.INDIVIDUAL)
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{suite.product_id}/specifications/{gold}"))
    cell = page.locator(f"tr[data-account-id='{acme.account_id}'] td.status-cell")
    expect(cell).to_contain_text("Does not count now.")
    expect(cell).to_contain_text("This is an enterprise account")

    # An inactive list: every entry is kept and marked.
    targets.set_specification_setting(
        site.db, seller.actor, suite.product_id, gold, Setting.SAME_AS_PRODUCT
    )
    page.reload()
    expect(cell).to_contain_text("Does not count now.")
    expect(cell).to_contain_text("The list is kept but does not count")


def test_a_console_time_is_read_as_utc_and_what_is_not_a_time_is_refused() -> None:
    """R16: datetime-local fields carry no zone; the console reads them as UTC, as it says."""
    assert read_utc("2027-03-31T00:00", "valid_from") == datetime(2027, 3, 31, tzinfo=UTC)
    assert read_utc(" 2027-03-31T09:30:15 ", "valid_from") == datetime(
        2027, 3, 31, 9, 30, 15, tzinfo=UTC
    )
    assert read_utc("", "valid_from") is None
    with pytest.raises(Invalid) as refused:
        read_utc("next tuesday", "valid_until")
    assert refused.value.details["field"] == "valid_until"
    assert refused.value.message == NOT_A_MOMENT
