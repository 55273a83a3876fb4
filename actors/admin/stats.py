"""``/admin stats``: the figures an admin checks first, gathered once and written as text.

The actor collects a :class:`StatsFigures` (storage for users, chats and LLM calls, the
runtime snapshot for uptime and restarts); :func:`render_stats` only writes it out.
"Today" starts at midnight UTC, so the figures do not depend on the server's time zone.
"""

from __future__ import annotations

from typing import Final

import msgspec

from runtime import SystemSnapshot
from storage import LlmRequestStats, ProviderStats, UserCounts

_MINUTE: Final = 60
_HOUR: Final = 3600
DAY: Final = 86_400
WEEK: Final = 7 * DAY


class StatsFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``/admin stats`` shows; ``requests`` covers today."""

    users: UserCounts
    chats_today: int
    chats_week: int
    requests: LlmRequestStats
    uptime_s: float
    restarts_last_hour: int


def day_start(now: float) -> float:
    """Midnight UTC of the day ``now`` (epoch seconds) falls in."""
    return now - now % DAY


def restarts_last_hour(snapshot: SystemSnapshot) -> int:
    """Restarts in the last hour, summed over every actor in the tree."""
    return sum(node.restarts_last_hour for _, node in snapshot.walk())


def format_duration(seconds: float) -> str:
    """``42s``, ``5m07s``, ``2h03m``, ``3d04h``: the two largest units."""
    whole = int(seconds)
    if whole < _MINUTE:
        return f"{whole}s"
    if whole < _HOUR:
        return f"{whole // _MINUTE}m{whole % _MINUTE:02d}s"
    if whole < DAY:
        return f"{whole // _HOUR}h{whole % _HOUR // _MINUTE:02d}m"
    return f"{whole // DAY}d{whole % DAY // _HOUR:02d}h"


def render_stats(figures: StatsFigures) -> str:
    """The stats message, plain text."""
    users, requests = figures.users, figures.requests
    lines = [
        "Bot stats (today = since 00:00 UTC)",
        (
            f"Users: {users.active} active · {users.pending} pending · "
            f"{users.blocked} blocked ({users.total} in all)"
        ),
        f"Active chats: {figures.chats_today} today · {figures.chats_week} in 7 days",
        f"LLM requests today: {requests.ok} ok · {requests.failed} failed",
        f"Tokens today: {requests.tokens_in} in · {requests.tokens_out} out",
        "Provider latency today, p50 / p95:",
    ]
    lines.extend(_provider_line(provider) for provider in requests.providers)
    if not requests.providers:
        lines.append("  no requests yet")
    lines += [
        f"Uptime: {format_duration(figures.uptime_s)}",
        f"Restarts in the last hour: {figures.restarts_last_hour}",
    ]
    return "\n".join(lines)


def _provider_line(stats: ProviderStats) -> str:
    counts = f"({stats.ok} ok, {stats.failed} failed)"
    if stats.latency_p50_ms is None or stats.latency_p95_ms is None:
        return f"  {stats.provider}: no successful request {counts}"
    return (
        f"  {stats.provider}: {stats.latency_p50_ms:.0f} / {stats.latency_p95_ms:.0f} ms {counts}"
    )
