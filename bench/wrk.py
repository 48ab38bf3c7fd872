"""wrk, the external load generator every HTTP figure is measured with.

A Python client on the same 2 cores would compete with the server it measures; wrk is C, one
event loop per thread, and costs the server little. It comes from Debian's package `wrk`:
`ensure()` installs it with apt-get when it is missing (as root), and says why not otherwise;
`python -m bench.wrk` does only that, as a set-up step.

The Lua scripts in bench/lua/ end with a `done()` that prints one line `WRK_JSON {...}`:
wrk's own summary and latency percentiles, plus what the script counted per response.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "lua"
MARKER = "WRK_JSON "


class Unavailable(Exception):
    """wrk is not installed and could not be."""


def ensure(*, install: bool = True) -> str:
    """The path of wrk, installing Debian's package first if it is missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    if not install:
        raise Unavailable("wrk is not installed (Debian package 'wrk')")
    if os.geteuid() != 0:
        raise Unavailable("wrk is not installed; as root: apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise Unavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    found = shutil.which("wrk")
    if not found:
        raise Unavailable("apt-get installed wrk but it is not on PATH")
    return found


@dataclass
class WrkRun:
    """One wrk run: completed requests over its duration, latency, and errors."""

    label: str
    connections: int
    threads: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int  # wrk's own count of answers with status >= 400
    socket_errors: dict[str, int]
    counted: dict[str, Any] = field(default_factory=dict)  # the script's own counts
    server_cpu_s: float | None = None  # CPU the server's processes used during the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "rate": self.rate, "cpu_us_per_request": self.cpu_us_per_request}


def run(
    url: str,
    script: str,
    script_args: list[str],
    *,
    label: str,
    connections: int,
    threads: int,
    seconds: float,
    timeout_s: float = 30.0,
) -> WrkRun:
    """Run wrk against `url` with a script of bench/lua/ for `seconds`."""
    command = [
        ensure(install=False),
        *("-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"),
        *("--timeout", f"{timeout_s:g}s", "-s", str(LUA / script), url, "--", *script_args),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + timeout_s + 60, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}"[-2000:])
    data = json.loads(lines[-1][len(MARKER) :])
    errors = data["errors"]
    return WrkRun(
        label=label,
        connections=connections,
        threads=threads,
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["latency_us"]["p50"] / 1000,
        p90_ms=data["latency_us"]["p90"] / 1000,
        p99_ms=data["latency_us"]["p99"] / 1000,
        max_ms=data["latency_us"]["max"] / 1000,
        non_2xx=int(errors["status"]),
        socket_errors={k: int(v) for k, v in errors.items() if k != "status" and v},
        counted=data.get("counted", {}),
    )


if __name__ == "__main__":
    try:
        print(ensure())
    except Unavailable as error:
        raise SystemExit(str(error)) from error
