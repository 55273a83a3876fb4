"""What users and admins read about usage: /usage, refusals, /admin usage and stats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from actors.usage import (
    UNLIMITED,
    Periods,
    Tier,
    UsagePolicy,
    admin_stats_lines,
    admin_usage_text,
    format_cost,
    format_reset,
    format_tokens,
    model_not_allowed_text,
    over_budget_text,
    usage_text,
)
from storage import BudgetExceeded, TierUsage, TopUser, UsageTotals, UserUsage

FREE = Tier(
    name="free",
    title="Free",
    daily_tokens=20_000,
    monthly_tokens=300_000,
    models=("deepseek/*", "gemini/gemini-2.5-flash"),
)
VIP = Tier(name="vip", title="VIP", daily_tokens=None, monthly_tokens=None, models=())
UTC_POLICY = UsagePolicy(tiers={"free": FREE, "vip": VIP}, zone_name="UTC")
NOW = dt.datetime(2025, 11, 20, 18, 48, tzinfo=dt.UTC).timestamp()  # 5 h 12 min to midnight
PERIODS = UTC_POLICY.periods(NOW)


def usage(day: int = 1234, month: int = 45_678, tier: str | None = "free") -> UserUsage:
    return UserUsage(
        user_id=42,
        tier=tier,
        day=UsageTotals(tokens=day, cost=0.0012, requests=3),
        month=UsageTotals(tokens=month, cost=0.0123, requests=41),
    )


# --- /usage ---------------------------------------------------------------------------------


def test_usage_shows_today_and_this_month_against_the_budgets_and_when_they_reset() -> None:
    text = usage_text(usage(), FREE, PERIODS, NOW, "UTC")

    assert text.splitlines() == [
        "Your usage (tier Free)",
        "Today: 1,234 / 20,000 tokens (18,766 left); resets at 00:00 UTC, in 5 h 12 min",
        "This month: 45,678 / 300,000 tokens (254,322 left); resets on 1 Dec at 00:00 UTC",
        "Estimated cost this month: $0.0123 (41 requests)",
        "Models your tier can use: deepseek/*, gemini/gemini-2.5-flash",
    ]


def test_usage_without_limits_says_so_and_names_no_reset_or_models() -> None:
    text = usage_text(usage(tier=None), VIP, PERIODS, NOW, "UTC")

    assert "Your usage (tier VIP)" in text
    assert "Today: 1,234 tokens (no daily limit)" in text
    assert "This month: 45,678 tokens (no monthly limit)" in text
    assert "resets" not in text
    assert "Models" not in text


def test_usage_over_a_budget_shows_nothing_left_rather_than_a_negative_figure() -> None:
    text = usage_text(usage(day=21_000), FREE, PERIODS, NOW, "UTC")

    assert "Today: 21,000 / 20,000 tokens (0 left)" in text


def test_usage_resets_are_told_in_the_policys_zone() -> None:
    policy = UsagePolicy(tiers={"free": FREE}, zone_name="Europe/Berlin")
    now = dt.datetime(2025, 12, 31, 22, 30, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()

    text = usage_text(usage(), FREE, policy.periods(now), now, "Europe/Berlin")

    assert "resets at 00:00 Europe/Berlin, in 1 h 30 min" in text
    assert "resets on 1 Jan at 00:00 Europe/Berlin" in text


# --- refusals -------------------------------------------------------------------------------


def test_a_spent_daily_budget_is_told_with_its_reset_time() -> None:
    exceeded = BudgetExceeded(period="day", used=20_000, limit=20_000, needed=1500)

    text = over_budget_text(exceeded, FREE, PERIODS, NOW, "UTC")

    assert text == (
        "You've used your daily budget of 20,000 tokens (tier Free).\n"
        "It resets at 00:00 UTC, in 5 h 12 min."
    )


def test_a_spent_monthly_budget_is_told_with_the_day_it_resets() -> None:
    exceeded = BudgetExceeded(period="month", used=300_512, limit=300_000, needed=900)

    text = over_budget_text(exceeded, FREE, PERIODS, NOW, "UTC")

    assert text == (
        "You've used your monthly budget of 300,000 tokens (tier Free).\n"
        "It resets on 1 Dec at 00:00 UTC."
    )


def test_a_request_bigger_than_what_is_left_says_what_it_needs_and_what_is_left() -> None:
    exceeded = BudgetExceeded(period="day", used=19_200, limit=20_000, needed=1500)

    text = over_budget_text(exceeded, FREE, PERIODS, NOW, "UTC")

    assert text.startswith(
        "This request needs about 1,500 tokens, but only 800 of your daily budget of "
        "20,000 tokens are left (tier Free).\n"
    )
    assert text.endswith("It resets at 00:00 UTC, in 5 h 12 min.")


def test_a_model_the_tier_may_not_use_is_named_with_the_way_out() -> None:
    text = model_not_allowed_text(FREE, "deepseek", "deepseek-reasoner")

    assert text == (
        "Your tier (Free) can't use deepseek · deepseek-reasoner. Choose another with /model."
    )


# --- /admin usage and stats -----------------------------------------------------------------


def test_admin_usage_shows_figures_cost_and_the_tier_given() -> None:
    text = admin_usage_text("Ada (@ada, 42)", usage(), FREE, PERIODS, NOW, "UTC")

    assert text.splitlines() == [
        "Usage of Ada (@ada, 42): tier Free (free)",
        "Today: 1,234 / 20,000 tokens, 3 requests, $0.0012; resets at 00:00 UTC, in 5 h 12 min",
        "This month: 45,678 / 300,000 tokens, 41 requests, $0.0123; resets on 1 Dec at 00:00 UTC",
        "Models: deepseek/*, gemini/gemini-2.5-flash",
    ]


def test_admin_usage_says_when_the_tier_is_the_default() -> None:
    text = admin_usage_text("42", usage(tier=None), VIP, PERIODS, NOW, "UTC")

    assert text.splitlines()[0] == "Usage of 42: tier VIP (vip, the default)"
    assert "Today: 1,234 tokens (no limit), 3 requests, $0.0012" in text
    assert "Models: all" in text


def test_admin_usage_says_when_the_users_tier_is_no_longer_configured() -> None:
    text = admin_usage_text("42", usage(tier="gold"), FREE, PERIODS, NOW, "UTC")

    assert text.splitlines()[0] == (
        'Usage of 42: tier Free (free, the default: "gold" is no longer configured)'
    )


def test_admin_stats_lines_show_each_tier_then_the_top_users() -> None:
    tiers = [
        TierUsage(tier="free", users=7, tokens=123_456, cost=0.0123, requests=42),
        TierUsage(tier="vip", users=1, tokens=2_000_000, cost=1.5, requests=1),
    ]
    top = [
        TopUser(
            user_id=42,
            first_name="Ada",
            username="ada",
            tier="free",
            tokens=12_345,
            cost=0.01,
            requests=9,
        ),
        TopUser(
            user_id=7, first_name="Bob", username=None, tier=None, tokens=999, cost=0, requests=1
        ),
        TopUser(
            user_id=8, first_name=None, username="cy", tier="vip", tokens=5, cost=0, requests=1
        ),
        TopUser(user_id=9, first_name=None, username=None, tier=None, tokens=1, cost=0, requests=1),
    ]

    lines = admin_stats_lines(tiers, top, "this month")

    assert lines == [
        "Usage by tier (this month):",
        "  free: 123,456 tokens · $0.0123 · 42 requests · 7 users",
        "  vip: 2,000,000 tokens · $1.50 · 1 request · 1 user",
        "Top users (this month):",
        "  1. Ada (@ada, 42) — 12,345 tokens, $0.0100, free",
        "  2. Bob (7) — 999 tokens, $0.0000, default tier",
        "  3. @cy (8) — 5 tokens, $0.0000, vip",
        "  4. 9 — 1 token, $0.0000, default tier",
    ]


def test_admin_stats_lines_without_requests_say_so() -> None:
    assert admin_stats_lines([], [], "today") == ["Usage by tier (today):", "  no requests yet"]


# --- pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "text"), [(0, "0"), (999, "999"), (12_345, "12,345"), (1_234_567, "1,234,567")]
)
def test_tokens_are_grouped_with_commas(tokens: int, text: str) -> None:
    assert format_tokens(tokens) == text


@pytest.mark.parametrize(
    ("cost", "text"), [(0, "$0.0000"), (0.0123, "$0.0123"), (1.5, "$1.50"), (1234.5, "$1,234.50")]
)
def test_costs_show_four_decimals_under_a_dollar_and_cents_above(cost: float, text: str) -> None:
    assert format_cost(cost) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "in under a minute"),
        (60, "in 1 min"),
        (59 * 60 + 59, "in 59 min"),
        (3600, "in 1 h"),
        (3 * 3600 + 5 * 60, "in 3 h 5 min"),
        (25 * 3600, "in 1 d 1 h"),
    ],
)
def test_a_daily_reset_says_how_long_until_it(seconds: int, text: str) -> None:
    end = PERIODS.day_end

    assert format_reset(end, end - seconds, "UTC", daily=True) == f"at 00:00 UTC, {text}"


def test_unlimited_is_the_builtin_default_tier() -> None:
    assert UNLIMITED.name == "default"
    assert UNLIMITED.title == "Default"
    assert isinstance(PERIODS, Periods)
