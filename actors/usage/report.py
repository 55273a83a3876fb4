"""The texts users and admins read about usage: /usage, refusals, /admin usage and stats.

Plain text for Telegram messages, no I/O: each function is given the ledger's figures (the
records in :mod:`storage.usage`), the user's :class:`~actors.usage.policy.Tier`, the
:class:`~actors.usage.policy.Periods` of ``now`` and the zone they were computed in.
Thousands are grouped with commas (``12,345``); costs are estimates in US dollars.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Final

from actors.usage.policy import Periods, Tier
from storage import BudgetExceeded, TierUsage, TopUser, UsageTotals, UserUsage

_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86_400
# Month names in English whatever the process's locale (strftime's %b follows LC_TIME).
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def usage_text(usage: UserUsage, tier: Tier, periods: Periods, now: float, zone_name: str) -> str:
    """What /usage answers: today and this month against the budgets, resets, cost, models."""
    lines = [
        f"Your usage (tier {tier.title})",
        _period_line("Today", usage.day, tier.daily_tokens, "daily")
        + _reset_suffix(tier.daily_tokens, periods.day_end, now, zone_name, daily=True),
        _period_line("This month", usage.month, tier.monthly_tokens, "monthly")
        + _reset_suffix(tier.monthly_tokens, periods.month_end, now, zone_name, daily=False),
        (
            f"Estimated cost this month: {format_cost(usage.month.cost)}"
            f" ({_count(usage.month.requests, 'request')})"
        ),
    ]
    if tier.models:
        lines.append(f"Models your tier can use: {_models(tier)}")
    return "\n".join(lines)


def over_budget_text(
    exceeded: BudgetExceeded, tier: Tier, periods: Periods, now: float, zone_name: str
) -> str:
    """Why a request was refused before any model was called, and when the budget resets."""
    daily = exceeded.period == "day"
    budget = f"{'daily' if daily else 'monthly'} budget of {format_tokens(exceeded.limit)} tokens"
    if exceeded.used >= exceeded.limit:
        first = f"You've used your {budget} (tier {tier.title})."
    else:
        left = exceeded.limit - exceeded.used
        first = (
            f"This request needs about {format_tokens(exceeded.needed)} tokens, but only "
            f"{format_tokens(left)} of your {budget} are left (tier {tier.title})."
        )
    end = periods.day_end if daily else periods.month_end
    return f"{first}\nIt resets {format_reset(end, now, zone_name, daily=daily)}."


def model_not_allowed_text(tier: Tier, provider: str, model: str) -> str:
    """Why a request to a model the user's tier may not use was refused."""
    return f"Your tier ({tier.title}) can't use {provider} · {model}. Choose another with /model."


def admin_usage_text(  # noqa: PLR0917 - usage_text's arguments after the user's label
    user_label: str, usage: UserUsage, tier: Tier, periods: Periods, now: float, zone_name: str
) -> str:
    """What ``/admin usage <id>`` answers: one user's figures, tier and resets.

    Says whether the tier was given by an admin or is the default, and when the tier
    recorded for the user is no longer configured (so the default applies).
    """
    if usage.tier is None:
        source = f"{tier.name}, the default"
    elif usage.tier != tier.name:
        source = f'{tier.name}, the default: "{usage.tier}" is no longer configured'
    else:
        source = tier.name
    lines = [
        f"Usage of {user_label}: tier {tier.title} ({source})",
        _admin_period_line("Today", usage.day, tier.daily_tokens)
        + _reset_suffix(tier.daily_tokens, periods.day_end, now, zone_name, daily=True),
        _admin_period_line("This month", usage.month, tier.monthly_tokens)
        + _reset_suffix(tier.monthly_tokens, periods.month_end, now, zone_name, daily=False),
        f"Models: {_models(tier) if tier.models else 'all'}",
    ]
    return "\n".join(lines)


def admin_stats_lines(
    tiers: Sequence[TierUsage], top: Sequence[TopUser], since_label: str
) -> list[str]:
    """Lines /admin stats appends: usage per tier, then the heaviest users.

    Args:
        tiers: per-tier figures, as the ledger recorded each request's tier.
        top: the heaviest users, heaviest first.
        since_label: the window in words, e.g. "this month" or "since 1 Nov".
    """
    lines = [f"Usage by tier ({since_label}):"]
    lines.extend(
        f"  {t.tier}: {_count(t.tokens, 'token')} · {format_cost(t.cost)} · "
        f"{_count(t.requests, 'request')} · {_count(t.users, 'user')}"
        for t in tiers
    )
    if not tiers:
        lines.append("  no requests yet")
    if top:
        lines.append(f"Top users ({since_label}):")
        lines.extend(
            f"  {rank}. {_user_label(user)} — {_count(user.tokens, 'token')}, "
            f"{format_cost(user.cost)}, {user.tier or 'default tier'}"
            for rank, user in enumerate(top, start=1)
        )
    return lines


def format_tokens(tokens: int) -> str:
    """``12345`` -> ``12,345``."""
    return f"{tokens:,}"


def format_cost(cost: float) -> str:
    """US dollars: four decimals under a dollar (``$0.0123``), cents above (``$12.35``)."""
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def format_reset(end: float, now: float, zone_name: str, *, daily: bool) -> str:
    """When a period ending at ``end`` resets: ``at 00:00 UTC, in 5 h 12 min`` for a day,
    ``on 1 Dec at 00:00 UTC`` for a month.
    """
    local = dt.datetime.fromtimestamp(end, zoneinfo.ZoneInfo(zone_name))
    clock = f"{local:%H:%M} {zone_name}"
    if daily:
        return f"at {clock}, {_in(end - now)}"
    return f"on {local.day} {_MONTHS[local.month - 1]} at {clock}"


# --- pieces ---------------------------------------------------------------------------------


def _period_line(label: str, totals: UsageTotals, limit: int | None, adjective: str) -> str:
    if limit is None:
        return f"{label}: {format_tokens(totals.tokens)} tokens (no {adjective} limit)"
    left = max(limit - totals.tokens, 0)
    return (
        f"{label}: {format_tokens(totals.tokens)} / {format_tokens(limit)} tokens"
        f" ({format_tokens(left)} left)"
    )


def _admin_period_line(label: str, totals: UsageTotals, limit: int | None) -> str:
    budget = f" / {format_tokens(limit)} tokens" if limit is not None else " tokens (no limit)"
    return (
        f"{label}: {format_tokens(totals.tokens)}{budget}, "
        f"{_count(totals.requests, 'request')}, {format_cost(totals.cost)}"
    )


def _reset_suffix(limit: int | None, end: float, now: float, zone_name: str, *, daily: bool) -> str:
    """``; resets ...`` for a period with a budget; nothing when there is none to reset."""
    if limit is None:
        return ""
    return f"; resets {format_reset(end, now, zone_name, daily=daily)}"


def _in(seconds: float) -> str:
    """``in 5 h 12 min``, ``in 7 min``, ``in under a minute``; days for longer waits."""
    whole = int(seconds)
    if whole < _MINUTE:
        return "in under a minute"
    if whole < _HOUR:
        return f"in {whole // _MINUTE} min"
    if whole < _DAY:
        hours, minutes = divmod(whole // _MINUTE, 60)
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    days, hours = divmod(whole // _HOUR, 24)
    return f"in {days} d {hours} h" if hours else f"in {days} d"


def _count(n: int, noun: str) -> str:
    return f"{format_tokens(n)} {noun}{'' if n == 1 else 's'}"


def _models(tier: Tier) -> str:
    return ", ".join(tier.models)


def _user_label(user: TopUser) -> str:
    """``Ada (@ada, 42)``, ``Ada (42)``, ``@ada (42)`` or just ``42``."""
    handle = f"@{user.username}" if user.username else None
    name = user.first_name or handle
    extra = [handle] if handle and user.first_name else []
    if name is None:
        return str(user.user_id)
    return f"{name} ({', '.join([*extra, str(user.user_id)])})"
