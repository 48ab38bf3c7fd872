"""Sign-in, sessions, CSRF, escaping, headers and bad input, in a real browser."""

from __future__ import annotations

import html
import time

import pytest
from playwright.sync_api import Dialog, Page, expect

from offerscope.console.web import WebState
from offerscope.domain.errors import Conflict
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import targets
from tests.console.support import Site, csrf_token, flash, product_row, shown_version, sign_in

pytestmark = pytest.mark.browser

XSS_PRODUCT = "<script>alert(1)</script>"
XSS_SPEC = '<img src=x onerror="alert(2)">'
XSS_SELLER = "<b onmouseover=alert(3)>Evil</b>"


def test_sign_in_sign_out_and_session_expiry(site: Site, page: Page) -> None:
    seller = site.seller()
    buyer = site.buyer_token(site.account("alice_wang"))
    page.goto(site.url("/console/products"))
    expect(page).to_have_url(site.url("/console/login"))  # signed out: sign in first

    page.get_by_label("Access token").fill("osk_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-error")).to_contain_text("This access token is not valid")
    page.get_by_label("Access token").fill(buyer)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-error")).to_contain_text("/store/login")

    sign_in(page, site, seller.token)
    expect(page).to_have_url(site.url("/console/products"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "offerscope_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    assert 0 < cookie["expires"] - time.time() <= 8 * 3600 + 5  # it expires
    # The token is in no page, no URL and no cookie.
    assert seller.token not in page.content() + page.url + cookie["value"]

    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(flash(page)).to_have_text("You have signed out.")
    page.goto(site.url("/console/products"))
    expect(page).to_have_url(site.url("/console/login"))

    # An expired session (signed with the server's own key) sends the seller to sign in.
    sign_in(page, site, seller.token)
    web: WebState = site.app.state.console
    codec = web.codecs["console"]
    cookie = next(c for c in page.context.cookies() if c["name"] == "offerscope_console")
    session, _ = codec.loads(cookie["value"])
    assert session is not None and session.session_key is not None
    session.expires_at = int(time.time()) - 1
    page.context.add_cookies(
        [
            {
                "name": cookie["name"],
                "value": codec.dumps(session),
                "domain": cookie["domain"],
                "path": cookie["path"],
            }
        ]
    )
    page.goto(site.url("/console/products"))
    expect(page).to_have_url(site.url("/console/login?expired=1"))
    expect(page.get_by_text("Your session has expired. Sign in again.")).to_be_visible()


def test_csrf_a_post_without_the_forms_token_changes_nothing(site: Site, page: Page) -> None:
    seller = site.seller()
    product = site.product(seller, "CloudDB", "Basic")
    sign_in(page, site, seller.token)
    target_url = site.url(f"/console/products/{product.product_id}/target")

    forms: list[dict[str, str | float | bool]] = [
        {"target": "specified"},
        {"target": "specified", "csrf_token": "forged"},
    ]
    for form in forms:
        refused = page.request.post(target_url, form=form)
        assert refused.status == 403
        assert "nothing was changed" in refused.text()
        view = targets.get_target_customers(site.db, seller.actor, product.product_id)
        assert view.target is Target.ALL

    # The same request with the page's token goes through: the refusal was the token's.
    page.goto(site.url(f"/console/products/{product.product_id}"))
    form = {"target": "specified", "csrf_token": csrf_token(page), "version": shown_version(page)}
    accepted = page.request.post(target_url, form=form)
    assert accepted.status == 200
    view = targets.get_target_customers(site.db, seller.actor, product.product_id)
    assert view.target is Target.SPECIFIED


@pytest.mark.parametrize("portal", ["console", "store"])
def test_csrf_a_form_posted_from_another_site_leaves_the_session_signed_in(
    site: Site, page: Page, portal: str
) -> None:
    """A page elsewhere posts a form to the portal: the browser sends no cookie with it
    (SameSite=Lax), the form is refused, and the refusal must not replace the browser's
    session cookie either, which would sign its owner out."""
    seller = site.seller()
    token = seller.token if portal == "console" else site.buyer_token(site.account("alice_wang"))
    sign_in(page, site, token, portal)
    home = site.url(f"/{portal}/groups" if portal == "console" else f"/{portal}")
    action = site.url(f"/{portal}/groups" if portal == "console" else f"/{portal}/orders")
    elsewhere = (
        f"<form method='post' action='{action}'><input name='name' value='Gotcha'>"
        "<input name='specification_id' value='spc_x'></form>"
        "<script>document.forms[0].submit()</script>"
    )
    with page.expect_navigation(url=action):
        page.goto("data:text/html," + elsewhere)
    expect(page.locator("body")).to_contain_text("expired")  # the refusal, 403
    page.goto(home)
    expect(page).to_have_url(home)  # still signed in: not sent to the sign-in page


def test_stored_names_render_as_text_and_never_run(site: Site, page: Page) -> None:
    seller = site.seller(XSS_SELLER)
    product = site.product(seller, XSS_PRODUCT, XSS_SPEC)
    spec = product.specifications[0].specification_id
    targets.set_specification_setting(
        site.db, seller.actor, product.product_id, spec, Setting.ENTERPRISE
    )
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    sign_in(page, site, seller.token)
    expect(product_row(page, product.product_id)).to_contain_text(XSS_PRODUCT)
    page.get_by_role("button", name=f"Show specifications of {XSS_PRODUCT}").click()
    expect(page.get_by_text(XSS_SPEC).first).to_be_visible()
    expect(page.locator(".account-menu summary")).to_contain_text(XSS_SELLER)
    for path in ("", f"/specifications/{spec}", "/history"):
        page.goto(site.url(f"/console/products/{product.product_id}{path}"))
        expect(page.get_by_text(XSS_PRODUCT).first).to_be_visible()
        page.locator(".account-menu summary").hover()
        assert page.locator("img, b").count() == 0
    sign_in(
        page, site, site.buyer_token(site.account("acme_corp", AccountType.ENTERPRISE)), "store"
    )
    expect(page.get_by_text(XSS_PRODUCT)).to_be_visible()
    expect(page.get_by_text(XSS_SPEC)).to_be_visible()
    expect(page.get_by_text(XSS_SELLER)).to_be_visible()
    assert page.locator("img, b").count() == 0
    assert dialogs == []


def test_pages_carry_security_headers(site: Site, page: Page) -> None:
    for path in ("/console/login", "/store/login"):
        response = page.goto(site.url(path))
        assert response is not None
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"


def test_bad_form_input_gets_a_page_never_a_500(site: Site, page: Page) -> None:
    seller = site.seller()
    preview = site.product(seller, "Private Preview", "Preview")
    targets.set_product_target(site.db, seller.actor, preview.product_id, Target.SPECIFIED)
    other = site.product(site.seller("Other"), "Foreign", "X")
    sign_in(page, site, seller.token)
    page.goto(site.url(f"/console/products/{preview.product_id}"))
    token, version = csrf_token(page), shown_version(page)
    base = f"/console/products/{preview.product_id}"
    spec = preview.specifications[0].specification_id

    def post(path: str, **form: str) -> tuple[int, str]:
        response = page.request.post(site.url(path), form={"csrf_token": token, **form})
        assert response.headers["content-type"].startswith("text/html")
        return response.status, response.text()

    assert post(f"{base}/target", target="everyone")[0] == 422
    assert post(f"{base}/target")[0] == 422  # no value at all
    with pytest.raises(Conflict) as non_editable:  # R2: the domain's words for it
        targets.set_specification_setting(
            site.db, seller.actor, preview.product_id, spec, Setting.ALL
        )
    status, text = post(f"{base}/specifications/{spec}/target", target="all", version=version)
    assert status == 409 and non_editable.value.message in html.unescape(text)
    assert post(f"{base}/target", target="all", version="abc")[0] == 412  # no version seen
    assert post(f"{base}/target", target="all", version=version)[0] == 200
    assert post(f"{base}/target", target="specified", version=version)[0] == 412  # stale page
    foreign = post(f"/console/products/{other.product_id}/target", target="all", version="1")
    assert foreign[0] == 404  # R9
    assert post(f"{base}/associations")[0] == 422  # nothing chosen
    targets.set_product_target(site.db, seller.actor, preview.product_id, Target.ASSOCIATED)
    assert post(f"{base}/associations", ids=other.product_id)[0] == 422  # R7
    assert post(f"{base}/users/{'0' * 32}/remove")[0] == 404
    for path in ("/console/products?cursor=%%%", f"{base}?users_cursor=bad", "/console/nowhere"):
        response = page.goto(site.url(path))
        assert response is not None and 400 <= response.status < 500
        expect(page.get_by_role("link", name="Back to Sales Configurations")).to_be_visible()


@pytest.mark.parametrize("portal", ["console", "store"])
def test_the_expired_notice_is_for_a_session_that_ended(
    site: Site, page: Page, portal: str
) -> None:
    """The sign-in page says a session expired only where there is none: an old link to it,
    opened while signed in, does not claim the session ended."""
    token = (
        site.seller().token if portal == "console" else site.buyer_token(site.account("alice_wang"))
    )
    notice = page.get_by_text("Your session has expired")
    page.goto(site.url(f"/{portal}/login?expired=1"))
    expect(notice).to_be_visible()  # nobody signed in: the notice stands
    sign_in(page, site, token, portal)
    page.goto(site.url(f"/{portal}/login?expired=1"))
    expect(page.get_by_label("Access token")).to_be_visible()
    expect(notice).to_have_count(0)
