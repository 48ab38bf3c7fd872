"""R18: one delivery to a real receiver on 127.0.0.1, as a delivery thread sends it."""

from __future__ import annotations

import httpx

from offerscope.services.webhooks import post
from tests.webhooks.receiver import running_receiver

SECRET = "s" * 32
BODY = b'{"id":"chg_1"}'


def test_r18_an_answers_body_is_never_read_only_its_status() -> None:
    """A receiver's answer may be of any size: the delivery takes its status and hangs up,
    so no endpoint can fill a delivery thread's memory, or hold it reading for minutes."""
    with (
        running_receiver(answer_bytes=256 * 1024 * 1024) as receiver,
        httpx.Client(timeout=10) as client,
    ):
        assert post(client, receiver.url, SECRET, BODY) is None
        assert receiver.hung_up.wait(timeout=30)
    assert receiver.delivered() == [{"id": "chg_1"}]
