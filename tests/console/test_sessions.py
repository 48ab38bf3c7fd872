"""Session cookies without a browser: signing, tampering, portals and expiry."""

from __future__ import annotations

from offerscope.console.sessions import SESSION_SECONDS, Session, SessionCodec, State


def test_a_session_round_trips_with_its_flash_message() -> None:
    codec = SessionCodec("secret", "console")
    session = Session.fresh()
    session.session_key = "ab" * 32
    session.flash_message("success", "Saved.", near="users")
    loaded, state = codec.loads(codec.dumps(session))
    assert state is State.VALID and loaded is not None
    assert (loaded.csrf, loaded.session_key, loaded.flash) == (
        session.csrf,
        session.session_key,
        ("success", "Saved.", "users"),  # shown in the part of the page it is about
    )


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    codec = SessionCodec("secret", "console")
    value = codec.dumps(Session.fresh())
    assert codec.loads(value[:-2] + "xx")[1] is State.INVALID
    assert SessionCodec("other secret", "console").loads(value)[1] is State.INVALID
    assert SessionCodec("secret", "store").loads(value)[1] is State.INVALID  # other portal
    assert codec.loads(None)[1] is State.MISSING


def test_a_session_expires_at_its_fixed_time_however_often_it_is_rewritten() -> None:
    codec = SessionCodec("secret", "console")
    session = Session.fresh(now=1_000_000)
    assert session.expires_at == 1_000_000 + SESSION_SECONDS
    session.flash_message("info", "rewritten")  # a rewrite keeps the expiry
    value = codec.dumps(session)
    assert codec.loads(value, now=session.expires_at - 1)[1] is State.VALID
    assert codec.loads(value, now=session.expires_at)[1] is State.EXPIRED


def test_csrf_tokens_compare_exactly() -> None:
    session = Session.fresh()
    assert session.csrf_matches(session.csrf)
    assert not session.csrf_matches(session.csrf[:-1])
    assert not session.csrf_matches(None)
    assert not session.csrf_matches("")
