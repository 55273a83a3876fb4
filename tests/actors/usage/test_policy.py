"""Tiers, the periods budgets reset on, and prices, as decided from the configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from actors.config import Config, load_config
from actors.usage import UNLIMITED, Periods, Tier, UsagePolicy

TIERS = """
[usage]
reserve_output_tokens = 512
timezone = "Europe/Berlin"

[tiers.free]
title = "Free"
daily_tokens = 20000
monthly_tokens = 300000
models = ["deepseek/*", "gemini/gemini-2.5-flash"]

[tiers.vip]
daily_tokens = 0
monthly_tokens = 0

[prices]
"deepseek/*" = { input = 1.0, output = 2.0 }
"deepseek/deepseek-chat" = { input = 0.27, output = 1.10 }
"gemini/*" = { input = 0.30, output = 2.50 }
"*/*" = { input = 9.0, output = 9.0 }
"""


def config_of(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {}, require_token=False)


def policy_of(tmp_path: Path, text: str = TIERS) -> UsagePolicy:
    return UsagePolicy.from_config(config_of(tmp_path, text))


def epoch(year: int, month: int, day: int, hour: int = 0, *, zone: str = "UTC") -> float:
    return dt.datetime(year, month, day, hour, tzinfo=ZoneInfo(zone)).timestamp()


def berlin(year: int, month: int, day: int, hour: int = 0) -> float:
    return epoch(year, month, day, hour, zone="Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return epoch(year, month, day, hour) + minute * 60


def hours(seconds: float) -> float:
    return seconds / 3600


# --- tiers ----------------------------------------------------------------------------------


def test_without_tier_tables_everyone_has_the_builtin_unlimited_tier(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, "")

    assert not policy.enabled
    assert policy.default_tier == "default"
    assert policy.tier_names() == ("default",)
    assert policy.tier(None) == UNLIMITED
    assert policy.tier("vip") == UNLIMITED
    assert UNLIMITED.daily_tokens is None
    assert UNLIMITED.monthly_tokens is None
    assert UNLIMITED.allows("anything", "at-all")
    assert not UNLIMITED.limited


def test_the_unlimited_policy_is_the_one_of_a_config_without_tiers() -> None:
    policy = UsagePolicy.unlimited()

    assert not policy.enabled
    assert policy.tier("free") == UNLIMITED
    assert policy.zone_name == "UTC"
    assert policy.cost("deepseek", "deepseek-chat", 1000, 1000) == 0.0


def test_tier_tables_enable_the_policy_and_the_first_is_the_default_unless_named(
    tmp_path: Path,
) -> None:
    policy = policy_of(tmp_path)

    assert policy.enabled
    assert policy.tier_names() == ("free", "vip")
    assert policy.default_tier == "free"
    assert policy.reserve_output_tokens == 512
    assert policy.zone_name == "Europe/Berlin"

    named = policy_of(tmp_path, TIERS.replace("[usage]", '[usage]\ndefault_tier = "vip"'))

    assert named.default_tier == "vip"


def test_a_tier_reads_its_table_with_zero_budgets_as_unlimited(tmp_path: Path) -> None:
    policy = policy_of(tmp_path)

    assert policy.tier("free") == Tier(
        name="free",
        title="Free",
        daily_tokens=20000,
        monthly_tokens=300000,
        models=("deepseek/*", "gemini/gemini-2.5-flash"),
    )
    assert policy.tier("vip") == Tier(
        name="vip", title="vip", daily_tokens=None, monthly_tokens=None, models=()
    )
    assert policy.tier("free").limited
    assert not policy.tier("vip").limited


@pytest.mark.parametrize("name", [None, "gold", "", "FREE"])
def test_no_tier_or_one_no_longer_configured_falls_back_to_the_default(
    tmp_path: Path, name: str | None
) -> None:
    policy = policy_of(tmp_path, TIERS.replace("[usage]", '[usage]\ndefault_tier = "vip"'))

    assert policy.tier(name).name == "vip"


@pytest.mark.parametrize(
    ("provider", "model", "allowed"),
    [
        ("deepseek", "deepseek-chat", True),
        ("deepseek", "deepseek-reasoner", True),
        ("gemini", "gemini-2.5-flash", True),
        ("gemini", "gemini-2.5-flash-lite", False),
        ("gemini", "gemini-2.5-pro", False),
        ("mistral", "mistral-small-latest", False),
        ("DeepSeek", "deepseek-chat", False),
    ],
)
def test_a_tier_allows_the_models_its_globs_match_and_no_others(
    provider: str, model: str, allowed: bool
) -> None:
    tier = Tier(
        name="free",
        title="Free",
        daily_tokens=1,
        monthly_tokens=None,
        models=("deepseek/*", "gemini/gemini-2.5-flash"),
    )

    assert tier.allows(provider, model) is allowed


def test_a_glob_matches_model_names_that_hold_a_slash_themselves() -> None:
    tier = Tier(
        name="t", title="T", daily_tokens=None, monthly_tokens=None, models=("openrouter/meta-*",)
    )

    assert tier.allows("openrouter", "meta-llama/llama-3-8b")
    assert not tier.allows("openrouter", "mistralai/mistral-7b")


def test_a_tier_without_models_allows_every_model() -> None:
    tier = Tier(name="t", title="T", daily_tokens=5, monthly_tokens=None, models=())

    assert tier.allows("mistral", "mistral-large-latest")


def test_a_default_tier_missing_from_the_tiers_is_refused() -> None:
    with pytest.raises(ValueError, match="gold"):
        UsagePolicy(tiers={"free": UNLIMITED}, default_tier="gold")


# --- prices ---------------------------------------------------------------------------------


def test_an_exact_price_wins_over_a_glob_listed_before_it(tmp_path: Path) -> None:
    policy = policy_of(tmp_path)

    cost = policy.cost("deepseek", "deepseek-chat", 1_000_000, 1_000_000)

    assert cost == pytest.approx(0.27 + 1.10)


def test_without_an_exact_price_the_first_matching_glob_in_file_order_applies(
    tmp_path: Path,
) -> None:
    policy = policy_of(tmp_path)

    assert policy.cost("deepseek", "deepseek-reasoner", 2_000_000, 500_000) == pytest.approx(3.0)
    assert policy.cost("gemini", "gemini-2.5-pro", 1000, 2000) == pytest.approx(0.0053)
    assert policy.cost("mistral", "mistral-small-latest", 1_000_000, 0) == pytest.approx(9.0)


def test_a_model_without_a_price_costs_nothing(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, TIERS.replace('"*/*" = { input = 9.0, output = 9.0 }', ""))

    assert policy.cost("mistral", "mistral-small-latest", 1_000_000, 1_000_000) == 0.0
    assert not policy.has_price("mistral", "mistral-small-latest")
    assert policy.has_price("gemini", "gemini-2.5-flash")
    assert policy.has_price("deepseek", "deepseek-chat")


def test_without_prices_every_call_costs_nothing(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, "")

    assert policy.cost("deepseek", "deepseek-chat", 10_000, 10_000) == 0.0
    assert not policy.has_price("deepseek", "deepseek-chat")


# --- periods --------------------------------------------------------------------------------


def test_a_day_runs_midnight_to_midnight_and_a_month_first_to_first_in_utc() -> None:
    policy = UsagePolicy(tiers={}, zone_name="UTC")

    periods = policy.periods(utc(2025, 11, 20, 18, 48))

    assert periods == Periods(
        day_start=utc(2025, 11, 20),
        day_end=utc(2025, 11, 21),
        month_start=utc(2025, 11, 1),
        month_end=utc(2025, 12, 1),
    )


def test_midnight_itself_starts_the_new_day() -> None:
    policy = UsagePolicy(tiers={}, zone_name="UTC")

    periods = policy.periods(utc(2025, 12, 1))

    assert periods.day_start == utc(2025, 12, 1)
    assert periods.month_start == utc(2025, 12, 1)
    assert periods.month_end == utc(2026, 1, 1)


def test_periods_follow_the_configured_zone_not_utc() -> None:
    policy = UsagePolicy(tiers={}, zone_name="Europe/Berlin")

    # 23:30 UTC on 31 October is already 00:30 on 1 November in Berlin.
    periods = policy.periods(utc(2025, 10, 31, 23, 30))

    assert periods.day_start == utc(2025, 10, 31, 23)
    assert periods.month_start == utc(2025, 10, 31, 23)
    assert periods.month_end == utc(2025, 11, 30, 23)


def test_the_last_day_of_the_year_ends_at_the_new_years_midnight() -> None:
    policy = UsagePolicy(tiers={}, zone_name="Europe/Berlin")

    periods = policy.periods(berlin(2025, 12, 31, 23) + 59 * 60)

    assert periods == Periods(
        day_start=berlin(2025, 12, 31),
        day_end=berlin(2026, 1, 1),
        month_start=berlin(2025, 12, 1),
        month_end=berlin(2026, 1, 1),
    )
    assert periods.day_end == utc(2025, 12, 31, 23)
    assert policy.periods(periods.day_end).month_start == periods.day_end


def test_the_day_clocks_spring_forward_lasts_23_hours() -> None:
    policy = UsagePolicy(tiers={}, zone_name="Europe/Berlin")

    # The last Sunday of March 2025: 02:00 CET became 03:00 CEST.
    periods = policy.periods(berlin(2025, 3, 30, 12))

    assert periods.day_start == utc(2025, 3, 29, 23)
    assert periods.day_end == utc(2025, 3, 30, 22)
    assert hours(periods.day_end - periods.day_start) == 23
    assert periods.month_end == utc(2025, 3, 31, 22)


def test_the_day_clocks_fall_back_lasts_25_hours() -> None:
    policy = UsagePolicy(tiers={}, zone_name="Europe/Berlin")

    # The last Sunday of October 2025: 03:00 CEST became 02:00 CET.
    periods = policy.periods(berlin(2025, 10, 26, 12))

    assert hours(periods.day_end - periods.day_start) == 25
    assert hours(periods.month_end - periods.month_start) == 31 * 24 + 1


def test_a_midnight_skipped_by_dst_starts_the_day_when_the_clock_jumps() -> None:
    policy = UsagePolicy(tiers={}, zone_name="America/Santiago")

    # On 8 September 2024 Chile's clocks went from 24:00 (-04) straight to 01:00 (-03).
    periods = policy.periods(utc(2024, 9, 8, 15))

    assert periods.day_start == utc(2024, 9, 8, 4)
    assert periods.day_end == utc(2024, 9, 9, 3)
    assert hours(periods.day_end - periods.day_start) == 23


def test_february_of_a_leap_year_has_29_days() -> None:
    policy = UsagePolicy(tiers={}, zone_name="UTC")

    periods = policy.periods(utc(2028, 2, 29, 12))

    assert periods.month_end == utc(2028, 3, 1)
    assert hours(periods.month_end - periods.month_start) == 29 * 24
