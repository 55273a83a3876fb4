"""The per-topic rate limit on notices to admins, as a plain object with a fake clock."""

from __future__ import annotations

from actors.admin.alerts import AlertLimiter, with_held_back


def test_the_first_notice_of_a_topic_goes_out_and_repeats_within_the_interval_do_not() -> None:
    limiter = AlertLimiter(interval=300.0)

    assert limiter.admit("health", urgent=False, now=0.0) == 0
    assert limiter.admit("health", urgent=False, now=10.0) is None
    assert limiter.admit("health", urgent=False, now=299.0) is None
    assert limiter.admit("crash:/storage", urgent=False, now=20.0) == 0


def test_after_the_interval_the_next_notice_goes_out_counting_those_held_back() -> None:
    limiter = AlertLimiter(interval=300.0)
    limiter.admit("health", urgent=False, now=0.0)
    limiter.admit("health", urgent=False, now=1.0)
    limiter.admit("health", urgent=False, now=2.0)

    assert limiter.admit("health", urgent=False, now=300.0) == 2
    assert limiter.admit("health", urgent=False, now=301.0) is None


def test_an_urgent_notice_skips_the_limit_and_restarts_the_interval() -> None:
    limiter = AlertLimiter(interval=300.0)
    limiter.admit("health", urgent=False, now=0.0)
    limiter.admit("health", urgent=False, now=1.0)

    assert limiter.admit("health", urgent=True, now=2.0) == 1
    assert limiter.admit("health", urgent=False, now=3.0) is None


def test_an_interval_of_zero_lets_every_notice_through() -> None:
    limiter = AlertLimiter(interval=0.0)

    assert [limiter.admit("t", urgent=False, now=0.0) for _ in range(3)] == [0, 0, 0]


def test_the_text_mentions_held_back_notices_only_when_there_were_some() -> None:
    assert with_held_back("Storage is down.", 0) == "Storage is down."
    assert with_held_back("Storage is down.", 3).endswith(
        "(+3 more notices on this held back since the last one.)"
    )
