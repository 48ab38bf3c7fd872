"""Settings, read once from the environment (or given by the command line)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///offerscope.db"


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs; nothing is read at import time."""

    database_url: str = DEFAULT_DATABASE_URL
    # Signs console session cookies; every server process of one deployment needs the same.
    secret_key: str | None = None
    # Mark console cookies Secure: set when the service is reached over HTTPS.
    secure_cookies: bool = False
    max_body_bytes: int = 2 * 1024 * 1024
    pool_size: int = 10
    # Requests a process holds at once (running or waiting for a thread) before answering 503.
    max_inflight: int = 64
    # Failed authentications per client address and minute before answering 429.
    auth_failures_per_minute: int = 20
    # Addresses of reverse proxies whose X-Forwarded-For is believed; None trusts no one.
    forwarded_allow_ips: str | None = None
    # R15: how long a running request keeps its Idempotency-Key before a retry may take over
    # (a retry after its process died).
    idempotency_lease_seconds: float = 300.0
    # R18: how long the change feed keeps changes (a reader further behind gets 410).
    changes_retention_days: float = 30.0
    # R18: webhook retries: the first wait, the longest wait, and how long an endpoint fails
    # before it is marked failing (it is still retried at the longest wait after that).
    webhook_backoff_seconds: float = 5.0
    webhook_backoff_max_seconds: float = 3600.0
    webhook_failing_after_hours: float = 24.0
    webhook_timeout_seconds: float = 10.0
    # Run the feed's background work (windows, pruning, deliveries) in this process.
    background_tasks: bool = True

    @classmethod
    def from_environment(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("OFFERSCOPE_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            secret_key=os.environ.get("OFFERSCOPE_SECRET_KEY") or None,
            secure_cookies=os.environ.get("OFFERSCOPE_SECURE_COOKIES", "") in ("1", "true", "yes"),
            max_inflight=int(os.environ.get("OFFERSCOPE_MAX_INFLIGHT") or 64),
            auth_failures_per_minute=int(
                os.environ.get("OFFERSCOPE_AUTH_FAILURES_PER_MINUTE") or 20
            ),
            forwarded_allow_ips=os.environ.get("OFFERSCOPE_FORWARDED_ALLOW_IPS") or None,
            idempotency_lease_seconds=float(
                os.environ.get("OFFERSCOPE_IDEMPOTENCY_LEASE_SECONDS") or 300
            ),
            changes_retention_days=_number("OFFERSCOPE_CHANGES_RETENTION_DAYS", 30),
            webhook_backoff_seconds=_number("OFFERSCOPE_WEBHOOK_BACKOFF_SECONDS", 5),
            webhook_backoff_max_seconds=_number("OFFERSCOPE_WEBHOOK_BACKOFF_MAX_SECONDS", 3600),
            webhook_failing_after_hours=_number("OFFERSCOPE_WEBHOOK_FAILING_AFTER_HOURS", 24),
            webhook_timeout_seconds=_number("OFFERSCOPE_WEBHOOK_TIMEOUT_SECONDS", 10),
            background_tasks=os.environ.get("OFFERSCOPE_BACKGROUND_TASKS", "1")
            not in ("0", "false", "no"),
        )


def _number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)
