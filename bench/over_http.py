"""offerscope over HTTP: a real `offerscope serve` process on the benchmark's database."""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

from bench.offerscope_api import Answer
from bench.report import Report, Row, chunks, disagreements, median_rate

BATCH = 10_000


@contextlib.contextmanager
def server(url: str, port: int) -> Iterator[str]:
    """A real `offerscope serve` process on the benchmark's database."""
    command = [
        *(sys.executable, "-c", "from offerscope.cli.main import main; main()"),
        *("serve", "--port", str(port), "--database-url", url),
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not _healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"offerscope serve did not start: {log.read()!r}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(base: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_http(
    report: Report,
    url: str,
    token: str,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with (
        server(url, free_port()) as base,
        httpx.Client(base_url=base, headers=headers, timeout=120) as client,
    ):
        client.post("/v1/decisions/batch", content=json.dumps({"checks": []}))  # builds the index
        sample = pairs[: min(len(pairs), 2_000)]  # one at a time: a few seconds a run
        bodies = [json.dumps({"account_id": a, "specification_id": s}).encode() for a, s in sample]
        got = []
        for body in bodies:
            reply = client.post("/v1/decisions", content=body).json()
            got.append((reply["allowed"], reply["reason"], reply["level"]))
        wrong = disagreements(expected[: len(sample)], got, "HTTP single")
        rates, p99s, p50s = [], [], []
        for _ in range(repeat):
            latencies = []
            started = time.perf_counter()
            for body in bodies:
                begin = time.perf_counter()
                client.post("/v1/decisions", content=body)
                latencies.append(time.perf_counter() - begin)
            rates.append(len(bodies) / (time.perf_counter() - started))
            latencies.sort()
            p50s.append(latencies[len(latencies) // 2])
            p99s.append(latencies[int(len(latencies) * 0.99)])
        p50, p99 = statistics.median(p50s) * 1000, statistics.median(p99s) * 1000
        report.rows.append(
            Row(
                "offerscope over HTTP (1 client)",
                "single",
                len(sample),
                statistics.median(rates),
                wrong,
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
            )
        )
        report.figures.append(
            ("HTTP single decision latency, one client", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        )
        batches = [
            json.dumps(
                {"checks": [{"account_id": a, "specification_id": s} for a, s in part]}
            ).encode()
            for part in chunks(pairs, BATCH)
        ]
        got = []
        for body in batches:
            got += [
                (r["allowed"], r["reason"], r["level"])
                for r in client.post("/v1/decisions/batch", content=body).json()["results"]
            ]
        wrong = disagreements(expected, got, "HTTP batch")

        def run() -> None:
            for body in batches:
                client.post("/v1/decisions/batch", content=body).raise_for_status()

        report.rows.append(
            Row(
                "offerscope over HTTP (batch)",
                "batch",
                len(pairs),
                median_rate(run, len(pairs), repeat),
                wrong,
                f"{BATCH:,} a request, JSON both ways",
            )
        )
