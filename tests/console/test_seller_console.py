"""The seed page's steps, done in a real browser on the Seller Console (SPEC.md §5).

Each test does what the seed tells a seller to do, with the labels it names, and then checks
the database through the use cases: the page and the rules agree.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from offerscope.domain.errors import Invalid
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import accounts, associations, history, specified_users, targets
from tests.console.support import (
    Seller,
    Site,
    flash,
    in_view,
    position,
    product_row,
    sideways_overflow,
    sign_in,
)

pytestmark = pytest.mark.browser

PRODUCT_OPTIONS = [
    "All users",
    "Enterprise users",
    "Individual users",
    "Specified users",
    "Associated product buyers",
]


def _options(page: Page, label: str) -> list[str]:
    texts: list[str] = page.get_by_label(label).locator("option").all_inner_texts()
    return [text.strip() for text in texts]


def test_seed_step_set_a_products_target_customers(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    sign_in(page, site, seller.token)

    # "choose Product Management > Sales Configurations ... click the Target Customers tab"
    page.get_by_role("navigation", name="Navigation pane").get_by_role(
        "link", name="Sales Configurations"
    ).click()
    page.get_by_role("link", name="Target Customers").click()
    expect(product_row(page, product.product_id)).to_contain_text("All users")  # R1
    # "Click Set in the Operation column of the target product."
    product_row(page, product.product_id).get_by_role("link", name="Set").click()
    expect(page.get_by_role("heading", name="Set Target Customer")).to_be_visible()
    assert _options(page, "Product Target Customer") == PRODUCT_OPTIONS
    # "Select a type of target customers and click OK."
    page.get_by_label("Product Target Customer").select_option(label="Enterprise users")
    page.get_by_role("button", name="OK").click()
    # R14: the change's effect first; nothing has changed until Confirm.
    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()
    assert (
        targets.get_target_customers(site.db, seller.actor, product.product_id).target is Target.ALL
    )
    page.get_by_role("button", name="Confirm").click()

    expect(flash(page)).to_contain_text("Product Target Customer set to Enterprise users")
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.ENTERPRISE
    page.get_by_role("link", name="Target Customers").click()
    expect(product_row(page, product.product_id).locator("td").nth(3)).to_have_text(
        "Enterprise users"
    )


def test_seed_step_set_a_specifications_target_customers(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Enterprise Suite", "Standard", "Gold")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    gold = product.specifications[1]
    sign_in(page, site, seller.token)

    # "click on the left of the product to expand the specification list"
    spec_row = page.locator(f"tr[data-specification-id='{gold.specification_id}']").first
    expect(spec_row).to_be_hidden()
    page.get_by_role("button", name="Show specifications of Enterprise Suite").click()
    expect(spec_row).to_be_visible()
    expect(spec_row).to_contain_text("Same as product")  # R1
    # "and click Set in the row containing the target specification"
    spec_row.get_by_role("link", name="Set").click()
    # R2: under Enterprise users, exactly these (seed Table 1 and its last paragraph).
    assert _options(page, "Specification Target Customer") == [
        "Same as product",
        "Enterprise users",
        "Specified users",
        "Associated product buyers",
    ]
    page.get_by_label("Specification Target Customer").select_option(label="Specified users")
    page.get_by_role("button", name="OK").click()
    page.get_by_role("button", name="Confirm").click()  # after the preview (R14)

    expect(flash(page)).to_contain_text("Specification Target Customer set to Specified users")
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert [s.setting for s in view.specifications] == [Setting.SAME_AS_PRODUCT, Setting.SPECIFIED]
    # "If Specification Target Customer is set to Specified users, add ... accounts"
    expect(page.get_by_role("button", name="Add User")).to_be_visible()


def test_seed_step_add_a_user_only_under_specified_users(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    acme = site.account("acme_corp", AccountType.ENTERPRISE)
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    # R5: "The Add User button is displayed only when ... set to Specified User."
    expect(page.get_by_role("button", name="Add User")).to_have_count(0)

    page.get_by_label("Product Target Customer").select_option(label="Specified users")
    page.get_by_role("button", name="OK").click()
    page.get_by_role("button", name="Confirm").click()  # after the preview (R14)
    page.get_by_role("button", name="Add User").click()
    dialog = page.get_by_role("dialog", name="Add User")
    # "Enter a ... account name and ID of a user and click OK."
    dialog.get_by_label("Account Name").fill("acme_corp")
    dialog.get_by_label("Account ID").fill(acme.account_id)
    dialog.get_by_role("button", name="OK").click()

    expect(flash(page)).to_contain_text("Added acme_corp")
    row = page.locator(f"tr[data-account-id='{acme.account_id}']")
    expect(row).to_contain_text("acme_corp")
    expect(row).to_contain_text(acme.account_id)
    listed = specified_users.list_specified_users(site.db, seller.actor, product.product_id)
    assert [u.account_id for u in listed.page.items] == [acme.account_id]


def test_seed_step_remove_a_user_after_confirmation(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    bob = site.account("bob_li_01")
    specified_users.add_specified_user(
        site.db, seller.actor, product.product_id, None, bob.account_id, bob.account_name
    )
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    row = page.locator(f"tr[data-account-id='{bob.account_id}']")

    row.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove bob_li_01 from the specified users?"))
    page.get_by_role("link", name="Cancel").click()
    expect(row).to_be_visible()  # cancelling changed nothing
    assert specified_users.list_specified_users(
        site.db, seller.actor, product.product_id
    ).page.items

    row.get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove").click()
    expect(flash(page)).to_contain_text(f"Removed bob_li_01 ({bob.account_id})")
    expect(row).to_have_count(0)
    assert not specified_users.list_specified_users(
        site.db, seller.actor, product.product_id
    ).page.items


def test_seed_step_associate_a_product_from_allowed_candidates_only(site: Site, page: Page) -> None:
    seller = site.seller()
    cloud = site.product(seller, "CloudDB", "Basic")
    tools = site.product(seller, "DB Tools", "Pro")
    backup = site.product(seller, "Backup Plus", "Daily")
    stranger = site.seller("Other Seller")
    foreign = site.product(stranger, "Foreign Product", "X")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{backup.product_id}"))

    page.get_by_label("Product Target Customer").select_option(label="Associated product buyers")
    page.get_by_role("button", name="OK").click()
    page.get_by_role("button", name="Confirm").click()  # after the preview (R14)
    # No association yet: nobody can buy, and the page says so.
    expect(page.get_by_role("alert")).to_contain_text("Nobody can buy this product yet")

    page.get_by_role("button", name="Associate Product").click()
    dialog = page.get_by_role("dialog", name="Associate Product")
    offered = dialog.locator("input[name='ids']")
    # R7: only the same seller's other products; never itself, never another seller's.
    values = [offered.nth(i).get_attribute("value") for i in range(offered.count())]
    assert values == [cloud.product_id, tools.product_id]
    assert foreign.product_id not in page.content()
    dialog.get_by_label("CloudDB").check()
    dialog.get_by_role("button", name="Add").click()
    page.get_by_role("button", name="Confirm").click()  # after the preview (R14)

    expect(flash(page)).to_contain_text("Associated: CloudDB")
    expect(page.locator(f"tr[data-associated-id='{cloud.product_id}']")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    associated = associations.list_associations(site.db, seller.actor, backup.product_id)
    assert [item.id for item in associated.items] == [cloud.product_id]

    page.locator(f"tr[data-associated-id='{cloud.product_id}']").get_by_role(
        "link", name="Remove CloudDB"
    ).click()
    page.get_by_role("button", name="Remove").click()  # after the preview (R14)
    expect(page.get_by_role("alert")).to_contain_text("Nobody can buy this product yet")
    assert not associations.list_associations(site.db, seller.actor, backup.product_id).items


def test_seed_step_specifications_of_a_specified_product_are_non_editable(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview", "Team")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    sign_in(page, site, seller.token)

    page.get_by_role("button", name="Show specifications of Private Preview").click()
    for spec in product.specifications:
        row = page.locator(f"tr[data-specification-id='{spec.specification_id}']").first
        expect(row).to_contain_text("Non-editable (same as the product settings)")
        expect(row.get_by_role("link", name="Set")).to_have_count(0)
    page.locator(
        f"tr[data-specification-id='{product.specifications[0].specification_id}']"
    ).first.get_by_role("link", name="View").click()
    expect(page.get_by_text("Non-editable (same as the product settings)")).to_be_visible()
    expect(page.get_by_role("combobox")).to_have_count(0)  # nothing to choose
    expect(page.get_by_role("button", name="OK")).to_have_count(0)


def test_r4_product_change_confirms_before_resetting_specifications(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic", "Personal Edition")
    personal = product.specifications[1]
    targets.set_specification_setting(
        site.db, seller.actor, product.product_id, personal.specification_id, Setting.INDIVIDUAL
    )
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))

    page.get_by_label("Product Target Customer").select_option(label="Specified users")
    page.get_by_role("button", name="OK").click()

    expect(page.get_by_role("heading", name="Confirm the change")).to_be_visible()
    affected = page.locator("table.affected tbody tr")
    expect(affected).to_have_count(1)  # only the conflicting one is named
    expect(affected).to_contain_text("Personal Edition")
    expect(affected).to_contain_text("Individual users")
    expect(affected).to_contain_text("Same as product")
    # Nothing has changed before the seller confirms.
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.ALL
    assert view.specifications[1].setting is Setting.INDIVIDUAL

    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text("Returned to Same as product: Personal Edition")
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.SPECIFIED
    assert [s.setting for s in view.specifications] == [Setting.SAME_AS_PRODUCT] * 2


def _refusal(
    site: Site, seller: Seller, product_id: str, spec_id: str, account_id: str, name: str
) -> str:
    """The domain's own words for refusing this account: what the page must show."""
    with pytest.raises(Invalid) as refused:
        specified_users.add_specified_user(
            site.db, seller.actor, product_id, spec_id, account_id, name
        )
    return refused.value.message


def test_add_user_errors_appear_beside_the_field_in_the_domains_words(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "Enterprise Suite", "Gold")
    gold = product.specifications[0].specification_id
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    targets.set_specification_setting(
        site.db, seller.actor, product.product_id, gold, Setting.SPECIFIED
    )
    acme = site.account("acme_corp", AccountType.ENTERPRISE)
    alice = site.account("alice_wang", AccountType.INDIVIDUAL)
    pid = product.product_id
    unknown = _refusal(site, seller, pid, gold, "f" * 32, "nobody_here")
    mismatch = _refusal(site, seller, pid, gold, acme.account_id, "alice_wang")
    wrong_type = _refusal(site, seller, pid, gold, alice.account_id, "alice_wang")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}/specifications/{gold}"))

    def add(name: str, account_id: str) -> None:
        page.get_by_role("button", name="Add User").click()
        dialog = page.get_by_role("dialog", name="Add User")
        dialog.get_by_label("Account Name").fill(name)
        dialog.get_by_label("Account ID").fill(account_id)
        dialog.get_by_role("button", name="OK").click()
        expect(page.get_by_role("dialog", name="Add User")).to_be_visible()  # open again

    add("nobody_here", "f" * 32)  # no such account
    expect(page.locator("#account_id-error")).to_have_text(unknown)
    expect(page.get_by_label("Account ID")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Account Name")).to_have_value("nobody_here")  # kept
    page.get_by_role("button", name="Cancel").click()

    add("alice_wang", acme.account_id)  # name and ID of different accounts
    expect(page.locator("#account_name-error")).to_have_text(mismatch)
    page.get_by_role("button", name="Cancel").click()

    add("alice_wang", alice.account_id)  # R6: an individual account under enterprise users
    expect(page.locator("#account_id-error")).to_have_text(wrong_type)
    page.get_by_role("button", name="Cancel").click()

    add("9x", "not-an-id")  # both shapes wrong: both errors at once
    expect(page.locator("#account_name-error")).to_contain_text("6 to 32")
    expect(page.locator("#account_id-error")).to_contain_text("32 lowercase hexadecimal")

    listed = specified_users.list_specified_users(site.db, seller.actor, product.product_id, gold)
    assert listed.page.items == []


def test_user_list_pages_searches_shows_renames_and_inactive_lists(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    pid = product.product_id
    targets.set_product_target(site.db, seller.actor, pid, Target.SPECIFIED)
    listed = [site.account(f"user_{n:03d}") for n in range(55)]
    for account in listed:
        specified_users.add_specified_user(
            site.db, seller.actor, pid, None, account.account_id, account.account_name
        )
    accounts.update_account(site.db, listed[0].account_id, account_name="renamed_user")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{pid}"))

    rows = page.locator("table.users tbody tr")
    expect(rows).to_have_count(50)
    # SPEC.md §2: the name entered, and the current name beside it where they differ.
    expect(rows.first).to_contain_text("user_000")
    expect(rows.first).to_contain_text("now named renamed_user")
    users = page.get_by_role("navigation", name="Pages of users")
    expect(users.locator(".position")).to_have_text(position(1, 50, 55))
    users.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("user_054")
    expect(users.locator(".position")).to_have_text(position(51, 55, 55))
    users.get_by_role("link", name="Previous").click()
    expect(rows).to_have_count(50)

    page.get_by_label("Search users").fill("USER_042")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(listed[42].account_id)

    # R5: moving away from Specified users keeps the list, shown as inactive.
    targets.set_product_target(site.db, seller.actor, pid, Target.ALL)
    page.goto(site.url(f"/console/products/{pid}"))
    expect(page.get_by_role("note")).to_contain_text("Inactive list")
    expect(page.get_by_role("button", name="Add User")).to_have_count(0)
    expect(rows).to_have_count(50)


def test_product_table_searches_and_pages_by_cursor(site: Site, page: Page) -> None:
    seller = site.seller()
    made = [site.product(seller, f"Widget {n:02d}", "Basic") for n in range(25)]
    site.product(site.seller("Other"), "Widget 99", "Basic")  # R9: never shown
    sign_in(page, site, seller.token)

    rows = page.locator("table.products > tbody.product")
    expect(rows).to_have_count(20)
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Widget 24")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)

    page.get_by_label("Search products").fill("widget 1")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(10)  # Widget 10 .. Widget 19
    page.get_by_label("Search products").fill(made[3].product_id)
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Widget 03")
    page.get_by_label("Search products").fill("Widget 99")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No product matches")).to_be_visible()


def test_r13_history_lists_changes_newest_first(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    spec = product.specifications[0].specification_id
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    targets.set_specification_setting(
        site.db, seller.actor, product.product_id, spec, Setting.SPECIFIED
    )
    sign_in(page, site, seller.token)
    product_row(page, product.product_id).get_by_role("link", name="History").click()

    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Specification Target Customer changed")
    expect(rows.nth(0)).to_contain_text("Basic")
    expect(rows.nth(0)).to_contain_text("Specified users")
    expect(rows.nth(1)).to_contain_text("Product Target Customer changed")
    expect(rows.nth(1)).to_contain_text("All users")
    expect(rows.nth(1)).to_contain_text("Enterprise users")
    expect(rows.nth(2)).to_contain_text("Product created")


def test_user_search_finds_the_start_or_a_part_of_a_name_or_id_in_any_case(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", "Preview")
    pid = product.product_id
    targets.set_product_target(site.db, seller.actor, pid, Target.SPECIFIED)
    bob = accounts.register_account(
        site.db, "3d4e5f60718293a4b5c6d7e8f90a1b2c", "bob_li", AccountType.INDIVIDUAL
    )
    listed = [bob, site.account("alice_wang"), site.account("carol_bobby")]
    for account in listed:
        specified_users.add_specified_user(
            site.db, seller.actor, pid, None, account.account_id, account.account_name
        )
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{pid}"))
    rows = page.locator("table.users tbody tr")

    def search(text: str) -> None:
        page.get_by_label("Search users").fill(text)
        page.get_by_role("button", name="Search").click()

    search("bob")  # the start of a name first; the page after holds names that contain it
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("bob_li")
    page.get_by_role("navigation", name="Pages of users").get_by_role("link", name="Next").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("carol_bobby")
    search("ALICE_WANG")  # any case
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("alice_wang")
    search("3d4e5f")  # the start of an ID
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("bob_li")
    assert "users_q=3d4e5f" in page.url


def test_add_user_and_remove_say_so_in_view_naming_the_account(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    product = site.product(seller, "Private Preview", *(f"Spec {n}" for n in range(8)))
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    bob = site.account("bob_li_01")
    page = sized_page
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))

    page.get_by_role("button", name="Add User").click()
    dialog = page.get_by_role("dialog", name="Add User")
    dialog.get_by_label("Account Name").fill("bob_li_01")
    dialog.get_by_label("Account ID").fill(bob.account_id)
    dialog.get_by_role("button", name="OK").click()
    added = page.locator("#users .flash")
    expect(added).to_have_text(f"Added bob_li_01 ({bob.account_id}) to the specified users.")
    assert in_view(added), width  # where the eye is after the page lands on the list

    page.locator(f"tr[data-account-id='{bob.account_id}']").get_by_role(
        "link", name="Remove"
    ).click()
    page.get_by_role("button", name="Remove").click()
    removed = page.locator("#users .flash")
    expect(removed).to_have_text(f"Removed bob_li_01 ({bob.account_id}) from the specified users.")
    assert in_view(removed), width
    page.go_back()  # Back to the confirmation: it is read again, and says the account is gone
    expect(page.get_by_text("This account is not on the specified-user list.")).to_be_visible()
    entries = [
        e.action for e in history.product_history(site.db, seller.actor, product.product_id).items
    ]
    assert entries.count("specified_user_removed") == 1


def test_history_names_people_and_products_with_short_ids_and_filters(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller("Northwind Cloud Apps")
    cloud = site.product(seller, "CloudDB", "Basic", "Beta")
    backup = site.product(seller, "Backup Plus", "Daily")
    basic, beta = (s.specification_id for s in cloud.specifications)
    targets.set_product_target(site.db, seller.actor, backup.product_id, Target.ASSOCIATED)
    associations.add_associations(
        site.db, seller.actor, backup.product_id, None, [cloud.product_id]
    )
    targets.set_product_target(site.db, seller.actor, cloud.product_id, Target.ENTERPRISE)
    targets.set_specification_setting(
        site.db, seller.actor, cloud.product_id, beta, Setting.SPECIFIED
    )
    acme = site.account("acme_corp", AccountType.ENTERPRISE)
    specified_users.add_specified_user(
        site.db, seller.actor, cloud.product_id, beta, acme.account_id, "acme_corp"
    )
    page = sized_page
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{backup.product_id}/history"))
    rows = page.locator("table.history tbody tr")
    expect(rows.first).to_contain_text("Northwind Cloud Apps")  # who, by name
    assert "seller:" not in page.locator("table.history").inner_text()
    expect(rows.first).to_contain_text("CloudDB")  # the associated product, by name
    short = rows.first.locator(".short-id code")
    expect(short).to_have_attribute("title", cloud.product_id)  # whole on hover
    expect(rows.first.get_by_role("button", name=f"Copy ID {cloud.product_id}")).to_be_visible()

    page.goto(site.url(f"/console/products/{cloud.product_id}/history"))
    expect(rows).to_have_count(4)
    page.get_by_label("Specification").select_option(label="Beta")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)  # Beta's setting, and acme added to its list
    assert f"specification={beta}" in page.url
    page.get_by_label("Account").fill("ACME_CORP")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("User added")
    page.get_by_label("Specification").select_option(label="Basic")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No change matches these filters.")).to_be_visible()
    assert basic in page.url and sideways_overflow(page) == 0
