"""``/admin tier``, ``/admin usage`` and the usage part of ``/admin stats``.

Tiers and prices come from the config (:class:`actors.usage.UsagePolicy`); a user's tier
and the ledger are in storage. A tier change is one write: the user's next request reads
it (sessions do not cache tiers), so it applies at once, in every chat they use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from actors.storage import GetUsage, GetUsageStats, GetUser, SetUserTier, UsageStats
from actors.usage import UsagePolicy, admin_stats_lines, admin_usage_text
from runtime import Message
from storage import User, UserUsage

# Typed to reset a user to the configured default (stored as "no tier"), unless a tier of
# that name is configured.
DEFAULT_WORD: Final = "default"
TOP_USERS: Final = 5


def user_label(user_id: int, user: User | None) -> str:
    """``Ada (@ada, 42)``, or the bare id for someone the bot has no record of."""
    if user is None:
        return str(user_id)
    handle = f"@{user.username}, " if user.username else ""
    return f"{user.first_name} ({handle}{user_id})"


class TierDesk:
    """Answers the admin's usage commands; ``ask`` asks the storage actor (with a timeout)."""

    def __init__(self, policy: UsagePolicy, ask: Callable[[Message], Any]) -> None:
        self._policy = policy
        self._ask = ask

    def set_tier(self, user_id: int, name: str) -> str:
        """Move a user to tier ``name``; the verdict to show the admin."""
        names = self._policy.tier_names()
        if not self._policy.enabled:
            return "No tiers are configured: add [tiers.NAME] tables to config.toml."
        if name not in names and name != DEFAULT_WORD:
            return f"There is no tier {name!r}. Tiers: {', '.join(names)}."
        user: User | None = self._ask(GetUser(user_id=user_id))
        if user is None:
            return f"No user with id {user_id}: they must have written to the bot first."
        stored = name if name in names else None
        self._ask(SetUserTier(user_id=user_id, tier=stored))
        tier = self._policy.tier(stored)
        return f"{user_label(user_id, user)} is now on tier {tier.title} ({tier.name})."

    def usage(self, user_id: int) -> str:
        """``/admin usage <id>``."""
        now = time.time()
        periods = self._policy.periods(now)
        user: User | None = self._ask(GetUser(user_id=user_id))
        usage: UserUsage = self._ask(
            GetUsage(user_id=user_id, day_start=periods.day_start, month_start=periods.month_start)
        )
        tier = self._policy.tier(usage.tier)
        return admin_usage_text(
            user_label(user_id, user), usage, tier, periods, now, self._policy.zone_name
        )

    def stats(self) -> str:
        """Per-tier use and the top users this month, for ``/admin stats``."""
        periods = self._policy.periods(time.time())
        stats: UsageStats = self._ask(GetUsageStats(since=periods.month_start, top=TOP_USERS))
        return "\n".join(admin_stats_lines(stats.tiers, stats.top_users, "this month"))
