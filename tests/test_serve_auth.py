"""The served dashboard's login rules without a server: tokens, password hashes, sessions, the throttle."""

from __future__ import annotations

import logging

import pytest

from duvo_tui.web.auth import LoginThrottle, Sessions, hash_password, new_token, tokens_match, verify_password


def test_tokens_are_long_random_and_compared_exactly() -> None:
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 43
    assert tokens_match(first, first)
    assert not tokens_match(first[:-1], first)
    assert not tokens_match(first + "x", first)
    assert not tokens_match("\udcff", first)  # text that cannot even be encoded is simply wrong


def test_a_password_hash_is_salted_and_only_its_password_matches() -> None:
    one, two = hash_password("open sesame!", log_n=10), hash_password("open sesame!", log_n=10)
    assert one != two  # a fresh salt each time
    assert one.startswith("scrypt$10$8$1$") and "open sesame" not in one
    assert verify_password("open sesame!", one) and verify_password("open sesame!", two)
    assert not verify_password("open sesame", one)
    assert not verify_password("", one)
    with pytest.raises(ValueError):
        hash_password("")


@pytest.mark.parametrize(
    "stored", ["", "hunter2", "scrypt$10$8$1$short$short", "scrypt$40$8$1$" + "A" * 22 + "$" + "A" * 43]
)
def test_a_malformed_or_absurd_hash_matches_nothing(stored: str) -> None:
    assert not verify_password("hunter2", stored)


def test_sessions_end_after_being_idle_and_using_one_keeps_it() -> None:
    now = [0.0]
    sessions = Sessions(idle_timeout=100.0, clock=lambda: now[0])
    kept, idle = sessions.create(), sessions.create()
    assert sessions.check(kept) and sessions.check(idle)
    now[0] = 60.0
    assert sessions.check(kept)
    now[0] = 130.0
    assert sessions.check(kept)  # used at 60: idle for 70 s only
    assert not sessions.check(idle)  # idle since 0
    assert not sessions.check(None) and not sessions.check("") and not sessions.check("made-up")
    sessions.end(kept)
    assert not sessions.check(kept)
    assert len(sessions) == 0


async def test_each_recent_failure_doubles_the_delay_up_to_the_ceiling_and_is_logged_without_secrets(caplog) -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    throttle = LoginThrottle(base=0.5, ceiling=4.0, window=600.0, clock=lambda: now[0], sleep=sleep)
    with caplog.at_level(logging.WARNING, logger="duvo_tui.web"):
        for _ in range(6):
            await throttle.failed("198.51.100.7", "password")
    assert slept == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert "failed login (wrong password) from 198.51.100.7: 6 in the last 10 minutes" in caplog.text
    now[0] = 601.0  # ten quiet minutes later the count starts again
    await throttle.failed("198.51.100.7", "token")
    assert slept[-1] == 0.5
