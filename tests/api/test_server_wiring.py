"""A server process as `offerscope serve` starts it (`offerscope.asgi`): what runs beside the
requests, and what it may share with them."""

from __future__ import annotations

import threading
import time

import pytest

from offerscope.asgi import create
from offerscope.index.probe import RevisionProbe


def test_background_looks_read_the_revision_on_a_probe_of_their_own(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R18's webhook deliverers read the revision to see whether anything committed. A request
    may only use a read that began after it arrived, so a look in flight on the requests' own
    probe costs the request a round trip of waiting (and, under group commit, every order of
    the batch it rides in). The looks must never be made on the probe the requests read."""
    reads: list[tuple[int, str]] = []  # (probe, thread) of each read
    real_read = RevisionProbe.read

    def noted_read(probe: RevisionProbe) -> int:
        reads.append((id(probe), threading.current_thread().name))
        return real_read(probe)

    monkeypatch.setattr(RevisionProbe, "read", noted_read)
    monkeypatch.setenv("OFFERSCOPE_DATABASE_URL", sqlite_url)
    app = create()
    backend, background = app.state.backend, app.state.background
    try:
        backend.index.refresh()  # as a request made in a worker thread reads
        requests_probe = reads[-1][0]
        deadline = time.monotonic() + 10
        while not any(t.startswith("offerscope-webhooks") for _, t in reads):
            assert time.monotonic() < deadline, "no deliverer looked for news"
            time.sleep(0.01)
    finally:
        background.stop()
        backend.close()
    looks = {probe for probe, thread in reads if thread.startswith("offerscope-webhooks")}
    assert requests_probe not in looks
