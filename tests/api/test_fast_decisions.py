"""Checkout's hot path answers exactly as the full stack does, and leaves everything else to it.

A request the hot path takes (a well-formed body, an operator token) is compared byte for byte
with the same request sent through the full stack (a query string sends it there). Tokens are
known from memory as fresh as decisions: one issued or revoked on another process counts at
once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from offerscope.bootstrap import Backend
from offerscope.domain.targets import Setting
from offerscope.index.probe import AsyncRevisionProbe, RevisionProbe
from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.storage.changelog import REVISION_QUERY
from offerscope.storage.unit_of_work import Database
from tests.api.helpers import list_user, new_account, new_product, new_seller, ok, problem, spec_id
from tests.conftest import _empty_postgres
from tests.support import Api

SLOW = {"via": "full-stack"}  # an unknown query parameter: ignored there, declined here


def _pairs(api: Api) -> list[dict[str, str]]:
    seller = new_seller(api)
    people = [new_account(api), new_account(api, "enterprise")]
    product = new_product(api, seller, "Open", "Beta", settings={"Beta": Setting.SPECIFIED})
    list_user(api, seller, product, spec_id(product, "Beta"), people[0])
    specs = [s.specification_id for s in product.specifications]
    ids = [p["account_id"] for p in people] + ["f" * 32, "  " + people[0]["account_id"]]
    return [{"account_id": a, "specification_id": s} for a in ids for s in [*specs, "spc_missing"]]


def test_single_decisions_are_byte_for_byte_the_full_stacks(api: Api) -> None:
    for body in _pairs(api):
        fast = api.operator.post("/v1/decisions", json=body)
        slow = api.operator.post("/v1/decisions", json=body, params=SLOW)
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content
        assert fast.headers["content-type"] == slow.headers["content-type"]


def test_a_batch_is_byte_for_byte_the_full_stacks(api: Api) -> None:
    body = {"checks": _pairs(api)}
    fast = api.operator.post("/v1/decisions/batch", json=body)
    slow = api.operator.post("/v1/decisions/batch", json=body, params=SLOW)
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"account_id": "a", "specification_id": "s", "extra": 1}', 422),
        (b'{"account_id": 1, "specification_id": "s"}', 422),
        (b'{"account_id": "a\\u0000", "specification_id": "s"}', 422),
        (b'{"account_id": "' + b"a" * 65 + b'", "specification_id": "s"}', 422),
        (b"{", 400),
        (b"[]", 422),
    ],
)
def test_anything_else_is_answered_by_the_full_stack(api: Api, body: bytes, status: int) -> None:
    response = api.operator.post(
        "/v1/decisions", content=body, headers={"Content-Type": "application/json"}
    )
    problem(response, status, "invalid_request")


@pytest.mark.parametrize(
    "item",
    [
        b'{"account_id": "a\\u0000", "specification_id": "s"}',
        b'{"account_id": "a", "specification": "s"}',
        b'{"account_id": "a", "specification_id": true}',
    ],
)
def test_a_batch_with_one_bad_check_is_answered_by_the_full_stack(api: Api, item: bytes) -> None:
    good = b'{"account_id": "a", "specification_id": "s"}'
    body = b'{"checks": [' + good + b"," + item + b"]}"
    response = api.operator.post(
        "/v1/decisions/batch", content=body, headers={"Content-Type": "application/json"}
    )
    problem(response, 422, "invalid_request")


_CHECK = b'{"account_id": "a", "specification_id": "s"}'


@pytest.mark.parametrize(
    "body",
    [
        b'{"checks": []}',
        b'{"checks": [{"account_id": "x", "account_id": "a", "specification_id": "s"}]}',
        b'{"checks": [{"specification_id": "s", "account_id": "\\u00e9\\ud83d\\udca5"}]}',
        b'{"checks": [' + b",".join([_CHECK] * 10_000) + b"]}",
        b'{"checks": [' + b",".join([_CHECK] * 10_001) + b"]}",
        b'{"checks": [{"account_id": "' + b"\\u00e9" * 64 + b'", "specification_id": "s"}]}',
        b'{"checks": [{"account_id": "' + b"\\u00e9" * 65 + b'", "specification_id": "s"}]}',
        b'{"checks": [{"account_id": "a", "specification_id": "s", "account_type": "x"}]}',
        b'{"checks": [["a", "s"]]}',
        b'{"checks": {"account_id": "a", "specification_id": "s"}}',
        b'{"checks": [], "more": 1}',
        b'{"checks": [{"account_id": "a", "specification_id": "true"}], "checks": []}',
    ],
)
def test_odd_batches_are_answered_as_the_full_stack_answers(api: Api, body: bytes) -> None:
    """Edges of the batch's shape: the hot path answers those it takes byte for byte as the
    full stack does, and leaves the rest to it (a 422 there)."""
    json_body = {"Content-Type": "application/json"}
    fast = api.operator.post("/v1/decisions/batch", content=body, headers=json_body)
    slow = api.operator.post("/v1/decisions/batch", content=body, headers=json_body, params=SLOW)
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content


# Media types FastAPI does not read as JSON (no header at all among them): the full stack
# refuses such a body, so the hot path must not answer it either (a text/plain or form body is
# what a browser sends cross-site without asking first).
NOT_JSON = [
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {},
]


@pytest.mark.parametrize("headers", NOT_JSON)
@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/batch"])
def test_a_body_not_sent_as_json_is_refused_as_the_full_stack_refuses_it(
    api: Api, path: str, headers: dict[str, str]
) -> None:
    check = {"account_id": "a" * 32, "specification_id": "spc_x"}
    body = json.dumps(check if path == "/v1/decisions" else {"checks": [check]}).encode()
    fast = api.operator.post(path, content=body, headers=headers)
    slow = api.operator.post(path, content=body, headers=headers, params=SLOW)
    refused = problem(fast, 422, "invalid_request")
    assert "Content-Type: application/json" in refused["detail"]
    assert fast.content == slow.content


@pytest.mark.parametrize("media_type", ["application/json; charset=utf-8", "application/x+json"])
def test_every_json_media_type_is_answered_as_the_full_stack_answers(
    api: Api, media_type: str
) -> None:
    check = {"account_id": "a" * 32, "specification_id": "spc_x"}
    headers = {"Content-Type": media_type}
    fast = api.operator.post("/v1/decisions", content=json.dumps(check), headers=headers)
    slow = api.operator.post(
        "/v1/decisions", content=json.dumps(check), headers=headers, params=SLOW
    )
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content


def test_a_header_sent_twice_counts_as_the_full_stack_counts_it(api: Api) -> None:
    """FastAPI reads the first of a repeated header: a second Content-Type or token must not
    make the hot path answer what the full stack refuses, nor answer as another actor."""
    check = json.dumps({"account_id": "a" * 32, "specification_id": "spc_x"}).encode()
    seller = f"Bearer {api.token(Role.SELLER, seller_id=new_seller(api).seller_id)}"
    operator = f"Bearer {api.operator_token}"
    json_body, text = ("Content-Type", "application/json"), ("Content-Type", "text/plain")
    for headers in [
        [("Authorization", operator), text, json_body],  # 422: the body is text
        [("Authorization", seller), ("Authorization", operator), json_body],  # 403: a seller
    ]:
        client = api.client()
        fast = client.post("/v1/decisions", content=check, headers=headers)
        slow = client.post("/v1/decisions", content=check, headers=headers, params=SLOW)
        assert 400 <= slow.status_code < 500, slow.text
        assert (fast.status_code, fast.content) == (slow.status_code, slow.content)


def test_credentials_are_judged_by_the_full_stack(api: Api) -> None:
    check = {"account_id": "a" * 32, "specification_id": "spc_x"}
    problem(api.client("osk_" + "x" * 43).post("/v1/decisions", json=check), 401, "unauthenticated")
    seller = new_seller(api)
    problem(seller.http.post("/v1/decisions", json=check), 403, "forbidden")
    keyed = api.operator.post("/v1/decisions", json=check, headers={"Idempotency-Key": "k1"})
    again = api.operator.post("/v1/decisions", json=check, headers={"Idempotency-Key": "k1"})
    assert keyed.content == again.content and again.headers["idempotent-replayed"] == "true"


def _counted(api: Api, line_start: str) -> float:
    for line in api.operator.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_decisions_are_counted_in_the_metrics(api: Api) -> None:
    """The server is shared by the tests: the counters must grow by exactly these three."""
    reason = 'offerscope_decisions_total{reason="specification_not_found"}'
    route = 'offerscope_http_requests_total{method="POST",route="/v1/decisions",status="200"}'
    before = (_counted(api, reason), _counted(api, route))
    check = {"account_id": "a" * 32, "specification_id": "spc_x"}
    for _ in range(3):
        ok(api.operator.post("/v1/decisions", json=check))
    assert (_counted(api, reason), _counted(api, route)) == (before[0] + 3, before[1] + 3)


def test_a_token_issued_or_revoked_elsewhere_counts_at_once(api: Api) -> None:
    """Another process (another `Database` of the same store) issues and revokes tokens;
    the server knows them from memory, as fresh as its decisions."""
    other = Database.connect(api.db.url, pool_size=1)
    try:
        issued = tokens.create_token(other, Role.OPERATOR)
        client = api.client(issued)
        check = {"account_id": "a" * 32, "specification_id": "spc_x"}
        assert client.post("/v1/decisions", json=check).status_code == 200
        assert tokens.revoke_token(other, issued)
        problem(client.post("/v1/decisions", json=check), 401, "unauthenticated")
        problem(client.get("/metrics"), 401, "unauthenticated")
    finally:
        other.dispose()


def test_shared_revision_reads_are_never_older_than_their_callers(sqlite_url: str) -> None:
    """Many threads ask at once while a writer bumps the revision: every answer is at least
    the revision committed before its call began, and reads are shared among callers."""
    backend = Backend.connect(sqlite_url, pool_size=2)
    probe = RevisionProbe(backend.db.engine)
    queries = 0
    real_query = probe._query

    def counting() -> int:
        nonlocal queries
        queries += 1
        time.sleep(0.001)  # a round trip: callers pile up behind it
        return real_query()

    probe._query = counting  # type: ignore[method-assign]
    stop = threading.Event()
    stale: list[tuple[int, int]] = []

    def read() -> None:
        for _ in range(100):
            before = _committed(backend.db)
            seen = probe.read()
            if seen < before:
                stale.append((before, seen))

    writer = threading.Thread(target=_keep_writing, args=(backend.db, stop))
    readers = [threading.Thread(target=read) for _ in range(8)]
    writer.start()
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    stop.set()
    writer.join()
    probe.close()
    backend.close()
    assert stale == []
    assert queries < 800  # shared: fewer reads than calls


@pytest.mark.postgres
def test_awaited_revision_reads_are_shared_and_never_older_than_their_callers(
    postgres_url: str,
) -> None:
    """The event loop's probe on PostgreSQL: coroutines ask at once while a writer bumps the
    revision; every answer is at least the revision committed before its call began, one read
    answers many callers, and none of them blocks the loop."""
    _empty_postgres(postgres_url)
    backend = Backend.connect(postgres_url, pool_size=2)
    probe = AsyncRevisionProbe(backend.db.engine, RevisionProbe(backend.db.engine))
    queries = 0
    real_query = probe._query

    async def counting() -> int:
        nonlocal queries
        queries += 1
        value = await real_query()
        await asyncio.sleep(0.002)  # a slow answer: callers and commits pile up behind it
        return value

    probe._query = counting  # type: ignore[method-assign]
    stop = threading.Event()

    async def read(stale: list[tuple[int, int]]) -> None:
        for _ in range(50):
            before = await asyncio.to_thread(_committed, backend.db)
            seen = await probe.read()
            if seen < before:
                stale.append((before, seen))

    async def readers() -> list[tuple[int, int]]:
        stale: list[tuple[int, int]] = []
        await asyncio.gather(*(read(stale) for _ in range(16)))
        probe.close()  # in its loop, as a server's shutdown would
        return stale

    writer = threading.Thread(target=_keep_writing, args=(backend.db, stop))
    writer.start()
    try:
        stale = asyncio.run(readers())
    finally:
        stop.set()
        writer.join()
        backend.close()
    assert stale == []
    assert queries < 16 * 50  # shared: fewer reads than calls


def _committed(db: Database) -> int:
    """The newest committed revision, read on a connection of its own."""
    with db.engine.connect() as connection:
        return int(connection.exec_driver_sql(REVISION_QUERY).scalar() or 0)


def _keep_writing(db: Database, stop: threading.Event) -> None:
    """New revisions, one after another, until `stop` is set."""
    while not stop.is_set():
        tokens.create_token(db, Role.OPERATOR)  # each is a new revision
