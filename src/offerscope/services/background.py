"""The feed's background work inside each server process (R18), on daemon threads.

One thread publishes R16's window openings and closings as their moments pass (every
`WINDOW_EVERY`) and prunes the feed (every `PRUNE_EVERY`); `DELIVERERS` threads deliver to
webhooks. Every process runs them: the database decides who does what (a locked marks row
for windows, leases for endpoints), so more processes only share the work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial

import httpx

from offerscope.services import feed
from offerscope.services.webhooks import DeliveryWorker, RetryPolicy
from offerscope.settings import Settings
from offerscope.storage.changes import Change
from offerscope.storage.unavailable import UNAVAILABLE
from offerscope.storage.unit_of_work import Database

_log = logging.getLogger(__name__)

WINDOW_EVERY = 0.25
PRUNE_EVERY = 3600.0
IDLE_POLL = 0.05
LOOK_EVERY = 0.05  # at most one look for deliveries per this, among a process's deliverers
RETRY_CHECK = 0.5
DELIVERERS = 2


def policy_of(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        backoff=settings.webhook_backoff_seconds,
        backoff_max=settings.webhook_backoff_max_seconds,
        failing_after=timedelta(hours=settings.webhook_failing_after_hours),
        timeout=settings.webhook_timeout_seconds,
    )


class Background:
    """The threads of one process; `stop` ends them."""

    def __init__(
        self, db: Database, settings: Settings, revision: Callable[[], int] | None = None
    ) -> None:
        self._db = db
        # The newest committed revision, cheaply (the decision index's shared probe).
        self._revision = revision or (lambda: -1)
        self._settings = settings
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._commits = 0  # this process's commits so far: a delivery thread wakes on one
        # What the deliverers' last look saw, when it was, and looks granted at once (all
        # under `_wake`; see `_take_look`).
        self._seen, self._commits_seen, self._checked = -1, -1, 0.0
        self._looked_at = -LOOK_EVERY
        self._free_looks = 0
        self._threads: list[threading.Thread] = []
        self._clients: list[httpx.Client] = []

    def start(self) -> Background:
        self._db.listeners.append(self)  # wake deliveries on this process's own commits
        self._spawn("offerscope-feed", self._upkeep)
        for number in range(DELIVERERS):
            policy = policy_of(self._settings)
            # Only the registered URL: no redirects followed, a timeout on every request.
            client = httpx.Client(timeout=policy.timeout, follow_redirects=False)
            self._clients.append(client)
            worker = DeliveryWorker(self._db, policy, client, self._until_commit)
            self._spawn(f"offerscope-webhooks-{number}", partial(self._deliver, worker))
        return self

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _upkeep(self) -> None:
        pruned_at = 0.0
        outage = _Outage("change feed upkeep")
        while not self._stopping.is_set():
            try:
                feed.publish_windows(self._db)
                if time.monotonic() - pruned_at >= PRUNE_EVERY or not pruned_at:
                    feed.prune(self._db, self._settings.changes_retention_days)
                    pruned_at = time.monotonic()
            except Exception as error:  # tried again next round
                outage.failed(error)
            else:
                outage.over()
            self._stopping.wait(WINDOW_EVERY)

    def _until_commit(self, seconds: float) -> None:
        """Sleep until this process commits something, or for `seconds`."""
        with self._wake:
            self._wake.wait(seconds)

    def _deliver(self, worker: DeliveryWorker) -> None:
        """Deliver what falls due, looking for it as `_take_look` allows."""
        outage = _Outage("webhook delivery")
        while not self._stopping.is_set():
            try:
                looked = self._take_look()
                busy = looked and worker.run_once()
            except Exception as error:
                outage.failed(error)
                busy = False
            else:
                if looked:  # it asked the database
                    outage.over()
            if busy:
                with self._wake:  # more may be due: every deliverer looks again at once
                    self._free_looks = DELIVERERS
                    self._wake.notify_all()
                continue
            with self._wake:  # other processes' commits are seen at the next look
                if not self._free_looks:
                    self._wake.wait(IDLE_POLL)

    def _take_look(self) -> bool:
        """Whether this deliverer looks for work now. The process's deliverers share their
        looks: at most one in `LOOK_EVERY` among them, whatever the rate of commits, and only
        when a revision committed since the last look (on any process: one shared read of the
        revision) or `RETRY_CHECK` passed (retries fall due). A look that found work lets
        every deliverer look again at once."""
        with self._wake:
            if self._free_looks:
                self._free_looks -= 1
                return True
            now = time.monotonic()
            if now - self._looked_at < LOOK_EVERY:
                return False
            self._looked_at, commits = now, self._commits
        revision = self._revision()
        with self._wake:
            news = revision != self._seen or commits != self._commits_seen
            if not news and now - self._checked < RETRY_CHECK:
                return False
            self._seen, self._commits_seen, self._checked = revision, commits, now
            return True

    # --- ChangeListener --------------------------------------------------------------------

    def changes_committed(self, revision: int, changes: Sequence[Change]) -> None:
        with self._wake:
            self._commits += 1
            self._wake.notify_all()

    def close(self) -> None:
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=15)
        for client in self._clients:
            client.close()


class _Outage:
    """One thread's failures: a database out of reach is logged once when the outage starts
    and once when it ends (the thread tries again every round, many times a second); any
    other failure is logged in full each time, as a defect."""

    def __init__(self, work: str) -> None:
        self._work = work
        self._away = False

    def failed(self, error: Exception) -> None:
        if not isinstance(error, UNAVAILABLE):
            _log.error("%s failed", self._work, exc_info=error)
        elif not self._away:
            self._away = True
            _log.warning("%s: the database is unavailable, retrying: %s", self._work, error)

    def over(self) -> None:
        if self._away:
            self._away = False
            _log.info("%s: the database is back", self._work)
