"""A Set form applies only to the version of the target customers its page showed.

A version that is not the current one (stale, malformed, negative, a float, empty or
missing) is refused like a stale page, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from offerscope.app import create_app
from offerscope.services import history, products, sellers, targets, tokens
from offerscope.services.actors import Actor, Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.browser import SavedCookie, csrf_of
from tests.support import backend_of, live_server

STALE = "These target customers changed after you loaded them"


@pytest.fixture
def console(sqlite_url: str) -> Iterator[tuple[SavedCookie, Database, Actor, str, str]]:
    db = Database.connect(sqlite_url, pool_size=2)
    seller_id = sellers.create_seller(db, "Seller").seller_id
    actor = sellers.seller_actor(db, seller_id)
    product = products.create_product(db, actor, "Compute", ["Basic"])
    settings = Settings(database_url=sqlite_url, secret_key="k" * 32)
    with live_server(create_app(settings, backend_of(db))) as base_url:
        token = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
        spec = product.specifications[0].specification_id
        yield SavedCookie(base_url, "console", token), db, actor, product.product_id, spec
    db.dispose()


BAD_VERSIONS = ["abc", "-1", "1.0", "", " 1", "01x", "2", None]


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_a_set_form_with_a_version_that_is_not_current_changes_nothing(
    console: tuple[SavedCookie, Database, Actor, str, str], version: str | None
) -> None:
    cookie, db, actor, product_id, spec = console
    for path, target in (
        (f"/console/products/{product_id}", "enterprise"),
        (f"/console/products/{product_id}/specifications/{spec}", "individual"),
    ):
        form = {"csrf_token": csrf_of(cookie.get(path)), "target": target}
        if version is not None:
            form["version"] = version
        refused = cookie.post(f"{path}/target", form)
        assert refused.status_code == 412, refused.text
        assert STALE in refused.text
    view = targets.get_target_customers(db, actor, product_id)
    assert view.target.value == "all" and view.specifications[0].setting.value == "same_as_product"
    assert len(history.product_history(db, actor, product_id).items) == 1
