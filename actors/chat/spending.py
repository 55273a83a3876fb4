"""What a chat session does about money: check the tier, reserve, settle or release.

Every LLM request goes through here. Before the call, :meth:`Spending.reserve` checks that
the asker's tier may use the model and asks storage to reserve the prompt's tokens plus
``[usage] reserve_output_tokens`` against their daily and monthly budgets, in one
transaction (so two chats of one user asking at once cannot both take the last tokens).
After it, :meth:`Spending.settle` writes the provider's real figures and the cost from
``[prices]``, or :meth:`Spending.release` gives the reservation back when the call failed.

Without ``[tiers]`` in the config there is nothing to enforce: no reservation is asked for
(no storage round trip before the call), and settling still writes the ledger, which
``/usage`` and ``/admin stats`` read. Admins are never refused: their use is counted, not
capped, so a misconfigured tier cannot lock out the people who would fix it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from actors.storage import GetUsage, GetUser, ReleaseUsage, ReserveUsage, SettleUsage
from actors.usage import (
    Tier,
    UsagePolicy,
    model_not_allowed_text,
    over_budget_text,
    usage_text,
)
from runtime import Address
from storage import BudgetExceeded, User, UserUsage


@dataclass(frozen=True, kw_only=True)
class Charge:
    """Who pays for one request, and for what: kept from reservation to settlement."""

    request_id: str
    user_id: int
    tier: str
    provider: str
    model: str


class Spending:
    """The session's side of usage accounting; see the module docstring."""

    def __init__(
        self,
        policy: UsagePolicy,
        storage: Address,
        *,
        admin_ids: frozenset[int],
        storage_timeout: float,
    ) -> None:
        self.policy = policy
        self._storage = storage
        self._admin_ids = admin_ids
        self._timeout = storage_timeout

    def tier_of(self, user_id: int) -> Tier:
        """The user's tier as stored now (a change by an admin applies at once)."""
        if not self.policy.enabled:
            return self.policy.tier(None)
        user: User | None = self._storage.ask(GetUser(user_id=user_id), timeout=self._timeout)
        return self.policy.tier(user.tier if user is not None else None)

    def model_filter(self, user_id: int) -> Callable[[str, str], bool]:
        """Which models the user may use, as ``allows(provider, model)``: what /model offers.

        The tier is read once, so a menu of many models costs one storage round trip.
        """
        if not self.policy.enabled or user_id in self._admin_ids:
            return lambda _provider, _model: True
        return self.tier_of(user_id).allows

    def reserve(self, charge: Charge, prompt_tokens: int) -> str | None:
        """Hold the request's estimated tokens; None if it may go ahead, else why not.

        The reason is the text to show the user: the model is not in their tier, or the
        request would take them over a budget (with when it resets).
        """
        if not self.policy.enabled:
            return None
        tier = self.policy.tier(charge.tier)
        admin = charge.user_id in self._admin_ids
        if not admin and not tier.allows(charge.provider, charge.model):
            return model_not_allowed_text(tier, charge.provider, charge.model)
        now = time.time()
        periods = self.policy.periods(now)
        outcome = self._storage.ask(
            ReserveUsage(
                request_id=charge.request_id,
                user_id=charge.user_id,
                tier=charge.tier,
                provider=charge.provider,
                model=charge.model,
                tokens=prompt_tokens + self.policy.reserve_output_tokens,
                day_start=periods.day_start,
                month_start=periods.month_start,
                daily_limit=None if admin else tier.daily_tokens,
                monthly_limit=None if admin else tier.monthly_tokens,
            ),
            timeout=self._timeout,
        )
        if isinstance(outcome, BudgetExceeded):
            return over_budget_text(outcome, tier, periods, now, self.policy.zone_name)
        return None

    def charge_for(self, request_id: str, user_id: int, provider: str, model: str) -> Charge:
        """The charge of a new request: the user's tier is read now, and kept with it."""
        return Charge(
            request_id=request_id,
            user_id=user_id,
            tier=self.tier_of(user_id).name,
            provider=provider,
            model=model,
        )

    def settlement(self, charge: Charge, tokens_in: int, tokens_out: int) -> SettleUsage:
        """The write of what the request really used (the provider's figures, or estimates).

        The session sends it with the rest of the answer's writes, in one transaction.
        """
        return SettleUsage(
            request_id=charge.request_id,
            user_id=charge.user_id,
            tier=charge.tier,
            provider=charge.provider,
            model=charge.model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=self.policy.cost(charge.provider, charge.model, tokens_in, tokens_out),
        )

    def release(self, charge: Charge) -> None:
        """The call failed: give its reservation back."""
        if self.policy.enabled:
            self._storage.tell(ReleaseUsage(request_id=charge.request_id))

    def settle_unowned(
        self,
        request_id: str,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        *,
        fallback_user: int,
    ) -> None:
        """Settle a request this session no longer holds the charge of.

        An answer for an incarnation that crashed, or one given up on as overdue: the
        reservation row knows who pays and in which tier, so those are only a fallback for
        a ledger without the row (``fallback_user`` is the chat: the user, in private).
        """
        charge = Charge(
            request_id=request_id,
            user_id=fallback_user,
            tier=self.policy.default_tier,
            provider=provider,
            model=model,
        )
        self._storage.tell(self.settlement(charge, tokens_in, tokens_out))

    def release_unowned(self, request_id: str) -> None:
        """Give back the reservation of a failed request this session no longer holds."""
        if self.policy.enabled:
            self._storage.tell(ReleaseUsage(request_id=request_id))

    def report(self, user_id: int) -> str:
        """``/usage``: the user's use today and this month against their tier's budgets."""
        now = time.time()
        periods = self.policy.periods(now)
        usage: UserUsage = self._storage.ask(
            GetUsage(user_id=user_id, day_start=periods.day_start, month_start=periods.month_start),
            timeout=self._timeout,
        )
        tier = self.policy.tier(usage.tier)
        if user_id in self._admin_ids:
            tier = dataclasses.replace(
                tier,
                title=f"{tier.title}, admin: no limits",
                daily_tokens=None,
                monthly_tokens=None,
                models=(),
            )
        return usage_text(usage, tier, periods, now, self.policy.zone_name)
