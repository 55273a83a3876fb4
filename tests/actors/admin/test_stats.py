from __future__ import annotations

import pytest

from actors.admin.stats import (
    DAY,
    StatsFigures,
    day_start,
    format_duration,
    render_stats,
    restarts_last_hour,
)
from storage import LlmRequestStats, ProviderStats, UserCounts
from tests.actors.admin.support import node, snapshot


def figures(providers: tuple[ProviderStats, ...] = ()) -> StatsFigures:
    return StatsFigures(
        users=UserCounts(pending=1, active=3, blocked=2),
        chats_today=2,
        chats_week=5,
        requests=LlmRequestStats(
            since=0.0, ok=9, failed=1, tokens_in=1234, tokens_out=5678, providers=providers
        ),
        uptime_s=7380.0,
        restarts_last_hour=4,
    )


def test_stats_show_every_figure_on_its_own_line() -> None:
    deepseek = ProviderStats(
        provider="deepseek", ok=9, failed=0, latency_p50_ms=120.4, latency_p95_ms=340.0
    )
    gemini = ProviderStats(
        provider="gemini", ok=0, failed=1, latency_p50_ms=None, latency_p95_ms=None
    )

    text = render_stats(figures((deepseek, gemini)))

    assert text.splitlines() == [
        "Bot stats (today = since 00:00 UTC)",
        "Users: 3 active · 1 pending · 2 blocked (6 in all)",
        "Active chats: 2 today · 5 in 7 days",
        "LLM requests today: 9 ok · 1 failed",
        "Tokens today: 1234 in · 5678 out",
        "Provider latency today, p50 / p95:",
        "  deepseek: 120 / 340 ms (9 ok, 0 failed)",
        "  gemini: no successful request (0 ok, 1 failed)",
        "Uptime: 2h03m",
        "Restarts in the last hour: 4",
    ]


def test_stats_without_requests_say_so() -> None:
    assert "  no requests yet" in render_stats(figures()).splitlines()


def test_restarts_in_the_last_hour_are_summed_over_the_whole_tree() -> None:
    tree = node(
        "/",
        node("/storage", restarts_last_hour=2),
        node("/io", node("/io/gateway", restarts_last_hour=3)),
    )

    assert restarts_last_hour(snapshot(tree)) == 5
    assert restarts_last_hour(snapshot(None)) == 0


def test_today_starts_at_midnight_utc() -> None:
    midnight = 19_675 * DAY  # 2023-11-14 00:00 UTC

    assert day_start(midnight + 3 * 3600 + 5.5) == midnight
    assert day_start(midnight) == midnight


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42.9, "42s"), (307, "5m07s"), (7380, "2h03m"), (3 * DAY + 4 * 3600, "3d04h")],
)
def test_durations_show_their_two_largest_units(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
