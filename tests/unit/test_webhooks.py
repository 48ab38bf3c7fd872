"""R18: webhook signatures and retry waits (pure rules)."""

from __future__ import annotations

import pytest

from offerscope.domain.errors import Invalid
from offerscope.domain.webhooks import (
    check_events,
    check_secret,
    check_url,
    retry_delay,
    sign,
    verify,
)

SECRET = "s" * 32


def test_r18_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    header = sign(SECRET, 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, header, b'{"a":1}', now=1_700_000_010)
    assert not verify(SECRET, header, b'{"a":2}', now=1_700_000_010)
    assert not verify("t" * 32, header, b'{"a":1}', now=1_700_000_010)
    assert not verify(SECRET, header, b'{"a":1}', now=1_700_001_000)  # replayed later
    assert not verify(SECRET, "garbage", b'{"a":1}', now=1_700_000_000)
    # a forged signature of any text is refused, never an error
    assert not verify(SECRET, "t=1700000000,v1=é", b'{"a":1}', now=1_700_000_010)


def test_r18_retries_wait_exponentially_with_jitter_up_to_a_cap() -> None:
    assert retry_delay(1, 5, 3600, draw=lambda: 1.0) == 5
    assert retry_delay(3, 5, 3600, draw=lambda: 1.0) == 20
    assert retry_delay(3, 5, 3600, draw=lambda: 0.0) == 10
    assert retry_delay(40, 5, 3600, draw=lambda: 1.0) == 3600
    # 24 hours of retries before an endpoint is marked failing take about this many attempts
    total, attempts = 0.0, 0
    while total < 24 * 3600:
        attempts += 1
        total += retry_delay(attempts, 5, 3600, draw=lambda: 0.5)
    assert 25 < attempts < 60


@pytest.mark.parametrize(
    ("check", "value", "code"),
    [
        (check_url, "ftp://example.com/x", "invalid_webhook_url"),
        (check_url, "https://user:pw@example.com/x", "invalid_webhook_url"),
        (check_url, "/relative", "invalid_webhook_url"),
        (check_events, [], "invalid_webhook_events"),
        (check_events, ["no_such_kind"], "invalid_webhook_events"),
        (check_secret, "short", "invalid_webhook_secret"),
    ],
)
def test_r18_bad_webhook_settings_are_refused_with_a_code(
    check: object, value: object, code: str
) -> None:
    with pytest.raises(Invalid) as raised:
        check(value)  # type: ignore[operator]
    assert raised.value.code == code


def test_r18_events_are_kept_sorted_once_and_star_means_all() -> None:
    assert check_events(["window_opened", "window_closed", "window_opened"]) == [
        "window_closed",
        "window_opened",
    ]
    assert check_events(["*", "window_opened"]) == ["*"]
