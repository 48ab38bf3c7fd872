"""Figures that tests record for people and CI to read: test-artifacts/<name>.json.

Several pytest-xdist workers may record into one file, so each record is merged under a lock.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def record(name: str, key: str, value: Any) -> Path:
    """Set `key` to `value` in test-artifacts/<name>.json, keeping the other keys."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    with (ARTIFACTS / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        figures: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        figures[key] = value
        path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path
