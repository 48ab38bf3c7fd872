"""R18 webhook endpoints over HTTP: operators only, bad input answered 422, secrets never shown."""

from __future__ import annotations

from offerscope.services.actors import Role
from tests.api.helpers import new_seller, ok, problem
from tests.support import Api

SECRET = "a-receiver-secret-of-32-chars-ok"
HOOK = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": SECRET}


def test_r18_operators_register_list_get_and_delete_webhooks(api: Api) -> None:
    made = ok(api.operator.post("/v1/webhooks", json=HOOK), 201)
    assert made["status"] == "active" and made["events"] == ["*"]
    listed = ok(api.operator.get("/v1/webhooks"))["items"]
    assert [h["webhook_id"] for h in listed] == [made["webhook_id"]]
    shown = ok(api.operator.get(f"/v1/webhooks/{made['webhook_id']}"))
    assert SECRET not in str(listed) + str(shown)
    assert ok(api.operator.get(f"/v1/webhooks/{made['webhook_id']}/deliveries"))["items"] == []
    assert api.operator.delete(f"/v1/webhooks/{made['webhook_id']}").status_code == 204
    problem(api.operator.get(f"/v1/webhooks/{made['webhook_id']}"), 404, "webhook_not_found")
    problem(api.operator.delete(f"/v1/webhooks/{made['webhook_id']}"), 404, "webhook_not_found")


def test_r18_bad_webhooks_are_refused_with_codes_and_nothing_stored(api: Api) -> None:
    for body, code in (
        ({**HOOK, "url": "file:///etc/passwd"}, "invalid_webhook_url"),
        ({**HOOK, "events": []}, "invalid_webhook_events"),
        ({**HOOK, "events": ["nope"]}, "invalid_webhook_events"),
        ({**HOOK, "secret": "short"}, "invalid_webhook_secret"),
        ({**HOOK, "extra": 1}, "invalid_request"),
        ({"url": HOOK["url"], "events": ["*"]}, "invalid_request"),
    ):
        problem(api.operator.post("/v1/webhooks", json=body), 422, code)
    assert ok(api.operator.get("/v1/webhooks"))["items"] == []


def test_r18_webhooks_are_for_operators_only(api: Api) -> None:
    seller = new_seller(api)
    problem(seller.http.post("/v1/webhooks", json=HOOK), 403, "forbidden")
    problem(seller.http.get("/v1/webhooks"), 403, "forbidden")
    buyer = api.client(api.token(Role.BUYER, account_id=api.account()["account_id"]))
    problem(buyer.get("/v1/webhooks"), 403, "forbidden")


def test_s4_webhooks_are_listed_a_page_at_a_time(api: Api) -> None:
    """SPEC §4: every list pages by ?limit= (1 to 1,000) and ?cursor=."""
    made = [ok(api.operator.post("/v1/webhooks", json=HOOK), 201)["webhook_id"] for _ in range(3)]
    first = ok(api.operator.get("/v1/webhooks", params={"limit": 2}))
    assert [h["webhook_id"] for h in first["items"]] == made[:2]
    rest = ok(api.operator.get("/v1/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}))
    assert [h["webhook_id"] for h in rest["items"]] == made[2:] and rest["next_cursor"] is None
    for limit in (0, -1, 1001, "abc"):
        problem(api.operator.get("/v1/webhooks", params={"limit": limit}), 422, "invalid_request")
