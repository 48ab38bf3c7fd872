"""R17 in the Seller Console: the Customer Groups page, a group's members, import, deletion,
in a real browser; at 1366 and 390 px with axe's serious findings and no sideways scroll."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import FilePayload, Page, expect

from offerscope.domain.targets import Setting, Target
from offerscope.services import decisions, groups, targets
from tests.console.support import (
    Site,
    screenshot,
    serious_violations,
    sideways_overflow,
    sign_in,
)


def test_r17_a_seller_makes_a_group_adds_a_member_and_it_counts_on_a_list(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    alice = site.account("alice_wang")
    sign_in(page, site, seller.token)
    page.get_by_role("navigation", name="Navigation pane").get_by_role(
        "link", name="Customer Groups"
    ).click()
    expect(page.get_by_role("heading", name="Customer Groups", exact=True)).to_be_visible()
    page.get_by_label("Group name").fill("Design partners")
    page.get_by_role("button", name="Create Group").click()
    expect(page.get_by_role("heading", name="Group Design partners")).to_be_visible()
    group_id = page.url.rsplit("/", 1)[-1]

    page.get_by_role("button", name="Add Member").click()
    page.get_by_label("Account Name").fill("alice_wang")
    page.get_by_label("Account ID").fill(alice.account_id)
    page.get_by_role("button", name="OK").dblclick()  # a double click adds one member
    expect(page.locator("#members [role=status]")).to_contain_text("Added alice_wang")
    expect(page.locator(f"tr[data-account-id='{alice.account_id}']")).to_contain_text("Active")
    page.go_back()  # Back after the form re-sends nothing
    page.reload()
    assert len(groups.list_members(site.db, seller.actor, group_id).items) == 1

    groups.attach_group(site.db, seller.actor, product.product_id, None, group_id)
    spec = product.specifications[0].specification_id
    assert decisions.check_from_database(site.db, alice.account_id, spec).allowed
    page.goto(site.url(f"/console/groups/{group_id}"))
    expect(page.locator("#lists")).to_contain_text("CloudDB")
    # Deleting a held group is refused and says why; nothing is deleted.
    page.get_by_label("Delete this group").check()
    page.get_by_role("button", name="Delete Group").click()
    expect(page.locator("#lists [role=status]")).to_contain_text("Take it off them first")
    assert groups.get_group(site.db, seller.actor, group_id).members == 1

    page.locator(f"tr[data-account-id='{alice.account_id}']").get_by_role(
        "link", name="Remove alice_wang"
    ).click()
    # R14: the effect on every list holding the group, before anything changes.
    expect(page.locator("[data-figure=losses]")).to_have_text("1 account")
    expect(page.locator(".impact")).to_contain_text("CloudDB / Basic")
    assert decisions.check_from_database(site.db, alice.account_id, spec).allowed
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#members [role=status]")).to_contain_text("Removed alice_wang")
    assert not decisions.check_from_database(site.db, alice.account_id, spec).allowed


def test_r17_a_bad_member_and_a_bad_import_are_refused_beside_the_field(
    site: Site, page: Page, tmp_path: Path
) -> None:
    seller = site.seller()
    alice = site.account("alice_wang")
    group_id = groups.create_group(site.db, seller.actor, "Pilots").group_id
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/groups/{group_id}"))
    page.get_by_role("button", name="Add Member").click()
    page.get_by_label("Account Name").fill("not_alice")
    page.get_by_label("Account ID").fill(alice.account_id)
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#account_name-error")).to_contain_text("does not belong")
    bad = tmp_path / "members.csv"
    bad.write_text(f"account_id,account_name\n{alice.account_id},<b>nope</b>\n")
    page.keyboard.press("Escape")
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#file-error")).to_contain_text("nothing was imported")
    expect(page.locator("#file-error b")).to_have_count(0)  # shown as text, never as HTML
    good = tmp_path / "good.csv"
    good.write_text(
        f"account_id,account_name,valid_from,valid_until\n{alice.account_id},alice_wang,,2020-01-01T00:00:00Z\n"
    )
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#members [role=status]")).to_contain_text("Imported 1 member.")
    expect(page.locator(f"tr[data-account-id='{alice.account_id}']")).to_contain_text("Expired")


def test_groups_pages_fit_narrow_and_wide_screens(site: Site, sized_page: Page, width: str) -> None:
    seller = site.seller()
    alice = site.account("member_with_a_long_name_32_chars")
    group = groups.create_group(site.db, seller.actor, "Design partners for the spring pilot")
    groups.add_member(site.db, seller.actor, group.group_id, alice.account_id, alice.account_name)
    sign_in(sized_page, site, seller.token)
    for path, name in (
        ("/console/groups", "groups"),
        (f"/console/groups/{group.group_id}", "group"),
    ):
        sized_page.goto(site.url(path))
        screenshot(sized_page, f"{name}-{width}")
        assert serious_violations(sized_page) == []
        assert sideways_overflow(sized_page) == 0


def test_r17_add_group_on_a_list_shows_its_effect_first_then_counts_its_members(
    site: Site, page: Page
) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.SPECIFIED)
    alice = site.account("alice_wang")
    group = groups.create_group(site.db, seller.actor, "Pilots")
    groups.add_member(site.db, seller.actor, group.group_id, alice.account_id, "alice_wang")
    spec = product.specifications[0].specification_id
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{product.product_id}"))
    page.get_by_role("button", name="Add Group").click()
    page.get_by_label("Customer group").select_option(label="Pilots (1)")
    page.locator("#add-group-dialog").get_by_role("button", name="OK").click()
    # R14: the effect, before anything changes.
    expect(page.locator("[data-figure=gains]")).to_have_text("1 account")
    assert not decisions.check_from_database(site.db, alice.account_id, spec).allowed
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#users [role=status]")).to_contain_text("Put the group Pilots")
    expect(page.locator("[data-group-id]")).to_contain_text("1 member")
    assert decisions.check_from_database(site.db, alice.account_id, spec).allowed

    page.get_by_role("link", name="Remove the group Pilots from this list").click()
    expect(page.locator("[data-figure=losses]")).to_have_text("1 account")
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#users [role=status]")).to_contain_text("Took the group Pilots off")
    assert not decisions.check_from_database(site.db, alice.account_id, spec).allowed


def test_a_list_holding_a_group_fits_narrow_and_wide_screens(
    site: Site, sized_page: Page, width: str
) -> None:
    seller = site.seller()
    product = site.product(seller, "Enterprise Suite", "Team")
    targets.set_product_target(site.db, seller.actor, product.product_id, Target.ENTERPRISE)
    spec = product.specifications[0].specification_id
    targets.set_specification_setting(
        site.db, seller.actor, product.product_id, spec, Setting.SPECIFIED
    )
    person = site.account("individual_one")
    group = groups.create_group(site.db, seller.actor, "Design partners for the spring pilot")
    groups.add_member(site.db, seller.actor, group.group_id, person.account_id, "individual_one")
    groups.attach_group(site.db, seller.actor, product.product_id, spec, group.group_id)
    sign_in(sized_page, site, seller.token)
    sized_page.goto(site.url(f"/console/products/{product.product_id}/specifications/{spec}"))
    # R6 at check time: the list says the individual member does not count here.
    expect(sized_page.locator("[data-group-id]")).to_contain_text("do not count here")
    screenshot(sized_page, f"list-with-group-{width}")
    assert serious_violations(sized_page) == []
    assert sideways_overflow(sized_page) == 0


def test_r17_an_import_larger_than_a_json_body_is_a_form_like_any_other(
    site: Site, page: Page, tmp_path: Path
) -> None:
    """A members file of 3 MB (over the 2 MB of a JSON request) reaches the form, which
    answers beside the field in the page's words; a file over the form's cap is refused with
    a page saying what to do, never the API's JSON."""
    seller = site.seller()
    group_id = groups.create_group(site.db, seller.actor, "Pilots").group_id
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/groups/{group_id}"))
    big = tmp_path / "members.csv"
    rows = "".join(f"{n:032x},customer_{n}\n" for n in range(70_000))  # nobody registered
    big.write_text("account_id,account_name\n" + rows)
    assert big.stat().st_size > 3 * 1024 * 1024
    page.get_by_label("CSV file").set_input_files(big)
    page.get_by_role("button", name="Import").click()
    error = page.locator("#file-error")
    expect(error).to_contain_text("70,000 row(s) are invalid, so nothing was imported.")
    expect(error).to_contain_text("Correct them and import the file again. Line 2:")
    expect(error).not_to_contain_text("skip_invalid")
    screenshot(page, "group-import-refused")

    site.app.state.console.max_upload = 1024 * 1024
    page.get_by_label("CSV file").set_input_files(big)
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Import").click()
    assert sent.value.status == 303  # back to the group, where the Import form says why
    said = page.locator("#import [role=status]")
    expect(said).to_contain_text("larger than the 1 MB a form takes, so nothing was imported")
    screenshot(page, "group-import-too-large")
    assert groups.get_group(site.db, seller.actor, group_id).members == 0


def test_r15_an_import_form_sent_again_with_another_file_is_not_taken_for_a_repeat(
    site: Site, page: Page, tmp_path: Path
) -> None:
    """One rendered Import form, sent with one file and then (Back, another file) with
    another: not the first one's repeat, which would answer as if the second file were in;
    the page says the form was sent with other values, in its own words."""
    seller = site.seller()
    alice, bob = site.account("alice_wang"), site.account("bob_li")
    group_id = groups.create_group(site.db, seller.actor, "Pilots").group_id
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/groups/{group_id}"))
    form = page.locator("form", has=page.get_by_label("CSV file"))
    fields = {
        name: form.locator(f"input[name='{name}']").get_attribute("value") or ""
        for name in ("csrf_token", "idempotency_key")
    }
    action = site.url(f"/console/groups/{group_id}/members/import")
    answers = []
    for account in (alice, alice, bob):
        csv = f"account_id,account_name\n{account.account_id},{account.account_name}\n"
        upload = FilePayload(name="m.csv", mimeType="text/csv", buffer=csv.encode())
        answers.append(
            page.request.post(action, multipart={**fields, "file": upload}, max_redirects=0)
        )
    assert [a.status for a in answers] == [303, 303, 422]  # the same file again: a repeat
    assert "already sent with other values" in answers[2].text()
    assert "Idempotency-Key" not in answers[2].text()
    members = groups.list_members(site.db, seller.actor, group_id).items
    assert [m.account_id for m in members] == [alice.account_id]
