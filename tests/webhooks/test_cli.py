"""`offerscope webhooks test URL` against a real receiver (R18)."""

from __future__ import annotations

from typer.testing import CliRunner

from offerscope.cli.main import app
from tests.webhooks.receiver import running_receiver

SECRET = "a-receiver-secret-of-32-chars-ok"


def test_r18_webhooks_test_sends_one_signed_sample() -> None:
    with running_receiver() as receiver:
        result = CliRunner().invoke(app, ["webhooks", "test", receiver.url, "--secret", SECRET])
        assert result.exit_code == 0, result.output
        assert "delivered" in result.output
        assert [c["kind"] for c in receiver.delivered()] == ["test"]
        assert receiver.verified(SECRET)


def test_r18_webhooks_test_says_why_a_receiver_refused() -> None:
    with running_receiver(fail_first=1) as receiver:
        result = CliRunner().invoke(app, ["webhooks", "test", receiver.url, "--secret", SECRET])
    assert result.exit_code == 1
    assert "HTTP 503" in result.output


def test_r18_webhooks_test_refuses_a_url_that_is_not_http() -> None:
    result = CliRunner().invoke(app, ["webhooks", "test", "ftp://x/y", "--secret", SECRET])
    assert result.exit_code == 1
    assert "invalid_webhook_url" in result.output
