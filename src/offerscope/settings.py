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

    @classmethod
    def from_environment(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("OFFERSCOPE_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            secret_key=os.environ.get("OFFERSCOPE_SECRET_KEY") or None,
            secure_cookies=os.environ.get("OFFERSCOPE_SECURE_COOKIES", "") in ("1", "true", "yes"),
        )
