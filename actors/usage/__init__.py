"""Usage policy: tiers with token budgets and allowed models, prices, and what users read.

Plain values and functions, no actors and no I/O; the ledger itself is in
:mod:`storage.usage`, and the chat session and admin actors put the pieces together:

- :mod:`~actors.usage.policy`: ``[usage]``, ``[tiers.NAME]`` and ``[prices]`` as answers:
  a user's tier, whether it may use a model, the day and month a moment falls in, the
  estimated cost of a call;
- :mod:`~actors.usage.report`: /usage, the refusals (over budget, model not allowed),
  /admin usage and the lines /admin stats adds.
"""

from actors.usage.policy import UNLIMITED, Periods, Tier, UsagePolicy
from actors.usage.report import (
    admin_stats_lines,
    admin_usage_text,
    format_cost,
    format_reset,
    format_tokens,
    model_not_allowed_text,
    over_budget_text,
    usage_text,
)

__all__ = [
    "UNLIMITED",
    "Periods",
    "Tier",
    "UsagePolicy",
    "admin_stats_lines",
    "admin_usage_text",
    "format_cost",
    "format_reset",
    "format_tokens",
    "model_not_allowed_text",
    "over_budget_text",
    "usage_text",
]
