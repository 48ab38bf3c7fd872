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
from offerscope.storage.unit_of_work import Database

_log = logging.getLogger(__name__)

WINDOW_EVERY = 0.25
PRUNE_EVERY = 3600.0
IDLE_POLL = 0.05
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
        while not self._stopping.is_set():
            try:
                feed.publish_windows(self._db)
                if time.monotonic() - pruned_at >= PRUNE_EVERY or not pruned_at:
                    feed.prune(self._db, self._settings.changes_retention_days)
                    pruned_at = time.monotonic()
            except Exception:  # the database away for a moment: try again next round
                _log.exception("change feed upkeep failed")
            self._stopping.wait(WINDOW_EVERY)

    def _until_commit(self, seconds: float) -> None:
        """Sleep until this process commits something, or for `seconds`."""
        with self._wake:
            self._wake.wait(seconds)

    def _deliver(self, worker: DeliveryWorker) -> None:
        """Look for work when a new revision committed (on any process: one shared read of
        the revision), and every `RETRY_CHECK` seconds for retries that fell due."""
        seen, checked, commits_seen = -1, 0.0, -1
        while not self._stopping.is_set():
            commits = self._commits
            try:
                revision = self._revision()
                busy = False
                news = revision != seen or commits != commits_seen
                if news or time.monotonic() - checked >= RETRY_CHECK:
                    seen, checked, commits_seen = revision, time.monotonic(), commits
                    busy = worker.run_once()
            except Exception:
                _log.exception("webhook delivery failed")
                busy = False
            if busy:
                commits_seen = -1  # more may be due: look again at once
                continue
            with self._wake:  # other processes' commits are seen at the next look
                if self._commits == commits:
                    self._wake.wait(IDLE_POLL)

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
