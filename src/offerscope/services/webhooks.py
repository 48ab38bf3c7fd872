"""R18 webhooks: operators' endpoints, and the delivery of every change to them.

Each endpoint follows the change feed with its own cursor. A `DeliveryWorker` leases one due
endpoint at a time (`storage.webhooks`), POSTs its next changes one by one in revision order,
and records each outcome in a short transaction of its own: delivered (the cursor moves on)
or failed (tried again after an exponential, jittered wait; the endpoint is marked failing
once its oldest undelivered change has failed for `failing_after`).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from offerscope.domain import webhooks as rules
from offerscope.domain.errors import NotFound
from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.feed import change_view
from offerscope.services.ids import new_id, utcnow
from offerscope.services.paging import (
    key_cursor,
    keyset_cursors,
    read_key,
    read_position,
    scope_tag,
)
from offerscope.services.views import Page
from offerscope.storage import feed
from offerscope.storage import webhooks as store
from offerscope.storage.tables import ChangeFeedRow, WebhookDeliveryRow, WebhookRow
from offerscope.storage.unit_of_work import Database

_log = logging.getLogger(__name__)
MAX_ERROR = 500


@dataclass(frozen=True)
class WebhookView:
    """An endpoint as the API shows it: never its secret."""

    webhook_id: str
    url: str
    events: list[str]
    created_at: datetime
    status: str  # "active", or "failing" (R18: retried for `failing_after` without success)
    failing_since: datetime | None
    delivered_through: int  # the revision of the last change delivered or skipped


@dataclass(frozen=True)
class DeliveryView:
    revision: int
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_try_at: datetime | None
    first_try_at: datetime
    last_try_at: datetime


def _view(row: WebhookRow) -> WebhookView:
    return WebhookView(
        webhook_id=row.webhook_id,
        url=row.url,
        events=json.loads(row.events),
        created_at=row.created_at,
        status="failing" if row.failing else "active",
        failing_since=row.failing_since,
        delivered_through=row.after_revision,
    )


def register(db: Database, url: str, events: list[str], secret: str) -> WebhookView:
    """A new endpoint, sent every change committed from now on."""
    url, chosen = rules.check_url(url), rules.check_events(events)
    secret = rules.check_secret(secret)
    with db.writing() as uow:
        start = feed.head_cursor(uow.session)
        row = store.add(
            uow.session, new_id("whk"), url, json.dumps(chosen), secret, utcnow(), start
        )
        uow.commit()
        return _view(row)


def list_webhooks(
    db: Database, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
) -> Page[WebhookView]:
    """A page of the webhooks in creation order."""
    limit = check_page_size(limit)
    scope = scope_tag("webhooks")
    after = read_key(cursor, scope)
    with db.reading() as uow:
        rows = store.webhooks_page(uow.session, limit + 1, after)
        shown = rows[:limit]
        last = shown[-1].pk if shown else None
        return Page([_view(row) for row in shown], key_cursor(last, len(rows) > limit, scope))


def _found(row: WebhookRow | None, webhook_id: str) -> WebhookRow:
    if row is None:
        raise NotFound("webhook_not_found", "No webhook has this ID.", webhook_id=webhook_id)
    return row


def get_webhook(db: Database, webhook_id: str) -> WebhookView:
    with db.reading() as uow:
        return _view(_found(store.find(uow.session, webhook_id), webhook_id))


def delete_webhook(db: Database, webhook_id: str) -> None:
    with db.writing() as uow:
        row = _found(store.find(uow.session, webhook_id), webhook_id)
        uow.session.delete(row)
        uow.commit()


def deliveries(
    db: Database, webhook_id: str, *, limit: int = DEFAULT_PAGE, cursor: str | None = None
) -> Page[DeliveryView]:
    """An endpoint's delivery log, newest first."""
    limit = check_page_size(limit)
    scope = scope_tag("deliveries", webhook_id)
    position = read_position(cursor, store.NEWEST_FIRST, scope)
    with db.reading() as uow:
        hook = _found(store.find(uow.session, webhook_id), webhook_id)
        rows, keyset = store.deliveries_page(
            uow.session, hook.pk, limit=limit, after=position.after, before=position.before
        )
        following, previous, start = keyset_cursors(keyset, position, scope)
        return Page([_delivery(r) for r in rows], following, previous, start)


def _delivery(row: WebhookDeliveryRow) -> DeliveryView:
    return DeliveryView(
        row.revision,
        row.kind,
        row.status,
        row.attempts,
        row.last_error,
        row.next_try_at,
        row.first_try_at,
        row.last_try_at,
    )


def body_of(change: ChangeFeedRow) -> bytes:
    """What an endpoint receives for one change: the feed's item and a unique `id`."""
    item = {"id": f"chg_{change.pk}", **vars(change_view(change))}
    return json.dumps(item, default=_json_default, separators=(",", ":")).encode()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot encode {type(value).__name__}")


def post(client: httpx.Client, url: str, secret: str, body: bytes) -> str | None:
    """Send one signed delivery; None if the endpoint took it (2xx), else why not."""
    signature = rules.sign(secret, int(time.time()), body)
    headers = {"Content-Type": "application/json", rules.SIGNATURE_HEADER: signature}
    try:
        # Only the status counts: the answer's body is never read, so no endpoint can fill a
        # delivery thread's memory or keep it reading (the connection closes unread).
        with client.stream("POST", url, content=body, headers=headers) as response:
            pass
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:MAX_ERROR] or type(error).__name__
    if 200 <= response.status_code < 300:
        return None
    if response.is_redirect:
        return f"HTTP {response.status_code}: redirects are not followed"
    return f"HTTP {response.status_code}"


@dataclass(frozen=True)
class RetryPolicy:
    backoff: float = 5.0
    backoff_max: float = 3600.0
    failing_after: timedelta = timedelta(hours=24)
    timeout: float = 10.0

    @property
    def lease(self) -> timedelta:
        """Long enough for a batch of deliveries that each time out; renewed after each."""
        return timedelta(seconds=2 * self.timeout + 5)


class DeliveryWorker:
    """Delivers due endpoints' changes; any number of them, in any processes, share the work."""

    BATCH = 100
    LINGER = 0.5  # seconds an endpoint is kept after its last change, waiting for the next
    LOOK_EVERY = 0.05
    RECORD_EVERY = 0.2

    def __init__(
        self,
        db: Database,
        policy: RetryPolicy,
        client: httpx.Client,
        wait: Callable[[float], object] = time.sleep,
    ) -> None:
        self._wait = wait  # sleeps until a commit of this process, or for the seconds given
        self._db = db
        self._policy = policy
        self._client = client
        self.owner = f"{new_id('dw')}"

    def run_once(self) -> bool:
        """Lease one due endpoint and deliver what it is owed; whether there was one."""
        now = utcnow()
        with self._db.reading() as uow:
            if not store.anything_due(uow.session, now):
                return False
        with self._db.writing() as uow:
            hook = store.claim(uow.session, self.owner, now, now + self._policy.lease)
            if hook is None:
                return False
            uow.session.commit()
        self._deliver(hook.pk, hook.url, hook.secret, json.loads(hook.events))
        return True

    def _deliver(self, hook_pk: int, url: str, secret: str, events: list[str]) -> None:
        """Deliver the endpoint's changes in order while it has any; then, still holding the
        lease, look for more for `LINGER` seconds (a steady stream is then delivered without a
        claim for each change) before letting it go. Outcomes are recorded every
        `RECORD_EVERY` seconds (a crash before then only delivers those again)."""
        with self._db.reading() as uow:
            hook = uow.session.get(WebhookRow, hook_pk)
            if hook is None:
                return
            cursor = (hook.after_revision, hook.after_pk)
        delivered: list[ChangeFeedRow] = []
        recorded_at = idle_since = time.monotonic()
        while time.monotonic() - idle_since < self.LINGER:
            with self._db.reading() as uow:
                changes = feed.after_cursor(uow.session, *cursor, self.BATCH)
                uow.session.expunge_all()  # read once, used while no transaction is open
            if not changes:
                self._wait(self.LOOK_EVERY)
                continue
            for change in changes:
                if rules.wants(events, change.kind):
                    error = post(self._client, url, secret, body_of(change))
                    if error is not None:  # tried again later, from this change on
                        self._record(hook_pk, delivered, cursor, failed=(change, error))
                        return
                    delivered.append(change)
                cursor = (change.revision, change.pk)
                if time.monotonic() - recorded_at >= self.RECORD_EVERY:
                    if not self._record(hook_pk, delivered, cursor):
                        return  # another process took over (this one was too slow)
                    delivered, recorded_at = [], time.monotonic()
            idle_since = time.monotonic()
        self._record(hook_pk, delivered, cursor, release=True)

    def _record(
        self,
        hook_pk: int,
        delivered: list[ChangeFeedRow],
        cursor: tuple[int, int],
        *,
        failed: tuple[ChangeFeedRow, str] | None = None,
        release: bool = False,
    ) -> bool:
        """Log the attempts, move the endpoint's cursor to `cursor` and renew (or, after a
        failure or with `release`, let go) the lease; False if the lease was lost."""
        now = utcnow()
        with self._db.writing() as uow:
            session = uow.session
            hook = store.held(session, hook_pk, self.owner)
            if hook is None:
                return False
            for change in delivered:
                row = self._attempt(session, hook_pk, change, now, None)
                row.status, row.next_try_at = store.DELIVERED, None
            hook.after_revision, hook.after_pk = cursor
            hook.lease_until = now + self._policy.lease
            if delivered:
                hook.failing, hook.failing_since = False, None
            if failed is not None:
                row = self._attempt(session, hook_pk, failed[0], now, failed[1])
                policy = self._policy
                wait = rules.retry_delay(row.attempts, policy.backoff, policy.backoff_max)
                row.next_try_at = hook.next_try_at = now + timedelta(seconds=wait)
                if now - row.first_try_at >= policy.failing_after and not hook.failing:
                    hook.failing, hook.failing_since = True, now
            if failed is not None or release:
                hook.lease_owner, hook.lease_until = None, None
            session.commit()
        return True

    @staticmethod
    def _attempt(
        session: Session, hook_pk: int, change: ChangeFeedRow, now: datetime, error: str | None
    ) -> WebhookDeliveryRow:
        """The delivery log's row for this change, with one more attempt counted."""
        row = store.delivery(session, hook_pk, change.pk)
        if row is None:
            row = WebhookDeliveryRow(
                webhook_pk=hook_pk,
                feed_pk=change.pk,
                revision=change.revision,
                kind=change.kind,
                status=store.RETRYING,
                attempts=0,
                first_try_at=now,
                last_try_at=now,
            )
            session.add(row)
        row.attempts += 1
        row.last_try_at, row.last_error = now, error
        return row


def test_endpoint(url: str, secret: str, timeout: float = 10.0) -> tuple[str | None, str]:
    """`offerscope webhooks test URL`: one signed sample delivery; (error or None, body)."""
    rules.check_url(url)
    sample = {
        "id": f"chg_test_{secrets.token_hex(4)}",
        "revision": 0,
        "time": _json_default(utcnow()),
        "actor": "operator",
        "product_id": None,
        "specification_id": None,
        "group_id": None,
        "kind": "test",
        "granted": [],
        "revoked": [],
        "granted_count": 0,
        "revoked_count": 0,
        "impact": None,
    }
    body = json.dumps(sample, separators=(",", ":")).encode()
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return post(client, url, secret, body), body.decode()
