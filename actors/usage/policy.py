"""Who may use how many tokens of which models, what a call costs, and when budgets reset.

:class:`UsagePolicy` is the ``[usage]``, ``[tiers.NAME]`` and ``[prices]`` sections made into
plain answers: a user's :class:`Tier` (the default one when they have none, or one no longer
configured), the :class:`Periods` a moment falls in, and the estimated cost of a call. No
I/O and no clock of its own: the ledger in storage keeps the figures, callers pass ``now``.

Without any ``[tiers.NAME]`` table the policy is not :attr:`~UsagePolicy.enabled`: one
built-in tier, ``"default"``, allows every model without limit, so nothing changes for a bot
configured before tiers existed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from actors.config import BUILTIN_TIER, Config, PriceConfig, TierConfig

_PER_MILLION: Final = 1_000_000


@dataclass(frozen=True, kw_only=True)
class Tier:
    """A usage tier: its token budgets (None: unlimited) and the models it may use."""

    name: str
    title: str
    daily_tokens: int | None
    monthly_tokens: int | None
    models: tuple[str, ...] = ()  # "provider/model" globs; () = every model

    @classmethod
    def from_config(cls, tier: TierConfig) -> Tier:
        """The tier of a ``[tiers.NAME]`` table, where a budget of 0 means no limit."""
        return cls(
            name=tier.name,
            title=tier.title or tier.name,
            daily_tokens=tier.daily_tokens or None,
            monthly_tokens=tier.monthly_tokens or None,
            models=tier.models,
        )

    @property
    def limited(self) -> bool:
        """True when the tier has a budget or may use only some models."""
        return bool(self.daily_tokens or self.monthly_tokens or self.models)

    def allows(self, provider: str, model: str) -> bool:
        """Whether ``provider``'s ``model`` matches one of the tier's globs (any, if none)."""
        if not self.models:
            return True
        key = f"{provider}/{model}"
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.models)


UNLIMITED: Final = Tier(
    name=BUILTIN_TIER, title=BUILTIN_TIER.capitalize(), daily_tokens=None, monthly_tokens=None
)


@dataclass(frozen=True, kw_only=True)
class Periods:
    """The day and the month a moment falls in, as epoch seconds; each end is the next start."""

    day_start: float
    day_end: float
    month_start: float
    month_end: float


class UsagePolicy:
    """Tiers, budget periods and prices, decided from the configuration once at start.

    Attributes:
        enabled: True when ``[tiers.NAME]`` tables exist, so budgets and model limits apply.
        default_tier: the name of the tier of users who have none.
        reserve_output_tokens: answer tokens reserved before a call, on top of the prompt's.
        zone_name: the IANA zone whose midnights start days and months.
    """

    def __init__(
        self,
        *,
        tiers: Mapping[str, Tier],
        default_tier: str = "",
        prices: Mapping[str, PriceConfig] | None = None,
        reserve_output_tokens: int = 0,
        zone_name: str = "UTC",
    ) -> None:
        """Build a policy; :meth:`from_config` is the usual way.

        Args:
            tiers: the configured tiers in order; empty means the built-in unlimited one.
            default_tier: the tier of users without one; "" means the first.
            prices: USD per million tokens by "provider/model" key or glob, in file order.
            reserve_output_tokens: answer tokens reserved before each call.
            zone_name: an IANA zone name.

        Raises:
            ValueError: ``default_tier`` is not among ``tiers``.
            zoneinfo.ZoneInfoNotFoundError: ``zone_name`` is not a known zone (the config
                loader has checked both already).
        """
        self.enabled = bool(tiers)
        self._tiers: Mapping[str, Tier] = MappingProxyType(
            dict(tiers) if tiers else {UNLIMITED.name: UNLIMITED}
        )
        self.default_tier = default_tier or next(iter(self._tiers))
        if self.default_tier not in self._tiers:
            raise ValueError(f"default tier {self.default_tier!r} is not among the tiers")
        self._prices: Mapping[str, PriceConfig] = MappingProxyType(dict(prices or {}))
        self.reserve_output_tokens = reserve_output_tokens
        self.zone_name = zone_name
        self._zone = zoneinfo.ZoneInfo(zone_name)

    @classmethod
    def from_config(cls, config: Config) -> UsagePolicy:
        """The policy of a loaded (so validated) configuration."""
        return cls(
            tiers={name: Tier.from_config(tier) for name, tier in config.tiers.items()},
            default_tier=config.usage.default_tier,
            prices=config.prices,
            reserve_output_tokens=config.usage.reserve_output_tokens,
            zone_name=config.usage.timezone,
        )

    @classmethod
    def unlimited(cls) -> UsagePolicy:
        """A policy that is not enabled: the built-in tier, every model, no limit, no prices."""
        return cls(tiers={})

    def tier(self, name: str | None) -> Tier:
        """The tier called ``name``; the default tier for None or a name no longer configured."""
        if name is not None and name in self._tiers:
            return self._tiers[name]
        return self._tiers[self.default_tier]

    def tier_names(self) -> tuple[str, ...]:
        """Every tier's name, in file order (``("default",)`` when none is configured)."""
        return tuple(self._tiers)

    def periods(self, now: float) -> Periods:
        """The day and month ``now`` falls in: midnight to midnight in the policy's zone.

        Each start is the first moment of its local date, so a day across a DST change is
        23 or 25 hours long, and a midnight skipped by a change starts when the clock
        jumps past it.
        """
        today = dt.datetime.fromtimestamp(now, self._zone).date()
        first = today.replace(day=1)
        next_month = (first + dt.timedelta(days=31)).replace(day=1)
        return Periods(
            day_start=self._midnight(today),
            day_end=self._midnight(today + dt.timedelta(days=1)),
            month_start=self._midnight(first),
            month_end=self._midnight(next_month),
        )

    def cost(self, provider: str, model: str, tokens_in: int, tokens_out: int) -> float:
        """Estimated US dollars of a call; 0.0 for a model without a price.

        The exact ``"provider/model"`` key wins; otherwise the first matching glob, in the
        order the config file lists them.
        """
        price = self._price(provider, model)
        if price is None:
            return 0.0
        return (tokens_in * price.input + tokens_out * price.output) / _PER_MILLION

    def has_price(self, provider: str, model: str) -> bool:
        """Whether a ``[prices]`` key or glob covers ``provider``'s ``model``."""
        return self._price(provider, model) is not None

    def _price(self, provider: str, model: str) -> PriceConfig | None:
        key = f"{provider}/{model}"
        if key in self._prices:
            return self._prices[key]
        return next(
            (price for glob, price in self._prices.items() if fnmatch.fnmatchcase(key, glob)),
            None,
        )

    def _midnight(self, date: dt.date) -> float:
        """The first moment of ``date`` in the zone, even where DST skips its midnight."""
        # fold=0 reads a midnight that happens twice as the first one, and one that never
        # happens (a DST gap) with the offset from before the gap: the instant of the jump.
        return dt.datetime.combine(date, dt.time(), tzinfo=self._zone).timestamp()
