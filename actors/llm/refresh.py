"""What a model refresh found, per provider, and the texts admins read about it.

Plain logic for :mod:`actors.llm.catalog`: :func:`outcome_of` reads a provider's stored
:class:`~storage.ModelDiff`, :func:`changes_notice` is the scheduled run's message to admins
(None when nothing changed, so a quiet day sends nothing) and :func:`refresh_report` answers
``/admin refresh``, naming every provider, failures included.

A provider's first listing (nothing cached for it before) is not a change: every model
would show as "added", which tells an admin nothing. The scheduled notice leaves it out,
and the report says "listed for the first time" with a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec

from storage import ModelDiff

NOTICE_TITLE: Final = "Model lists changed:"
REPORT_TITLE: Final = "Model refresh"
_MINUS: Final = "\N{MINUS SIGN}"


class ProviderOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One provider's part of a refresh: what changed, or why nothing could be stored."""

    provider: str
    listed: int = 0
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    first: bool = False
    error: str | None = None

    @property
    def changed(self) -> bool:
        """True when an admin should hear about this provider's models."""
        return self.error is None and not self.first and bool(self.added or self.removed)


def outcome_of(diff: ModelDiff, listed: int) -> ProviderOutcome:
    """The outcome of storing ``listed`` models, given what the store said changed.

    It was the first listing when every model is new and none went away: then the cache
    held nothing for this provider before (``removed`` is what was cached and is gone).
    """
    first = listed > 0 and not diff.removed and len(diff.added) == listed
    return ProviderOutcome(
        provider=diff.provider,
        listed=listed,
        added=diff.added,
        removed=diff.removed,
        first=first,
    )


def changes_notice(outcomes: Sequence[ProviderOutcome]) -> str | None:
    """The scheduled refresh's message to admins, or None when no provider changed."""
    changed = [outcome for outcome in outcomes if outcome.changed]
    if not changed:
        return None
    lines = [NOTICE_TITLE]
    for outcome in changed:
        lines.append(outcome.provider)
        lines.extend(_diff_lines(outcome))
    return "\n".join(lines)


def refresh_report(outcomes: Sequence[ProviderOutcome]) -> str:
    """The answer to ``/admin refresh``: one line or block per provider."""
    changed = sum(outcome.changed for outcome in outcomes)
    failed = sum(outcome.error is not None for outcome in outcomes)
    if not outcomes:
        return f"{REPORT_TITLE}: no providers are configured."
    summary = "no changes" if not changed else f"{changed} provider(s) changed"
    if failed:
        summary += f", {failed} failed"
    lines = [f"{REPORT_TITLE}: {summary}."]
    for outcome in outcomes:
        if outcome.error is not None:
            lines.append(f"{outcome.provider}: failed — {outcome.error}")
        elif outcome.first:
            lines.append(f"{outcome.provider}: listed for the first time ({outcome.listed} models)")
        elif outcome.changed:
            lines.append(
                f"{outcome.provider}: {len(outcome.added)} added, {len(outcome.removed)} removed"
                f" ({outcome.listed} models)"
            )
            lines.extend(_diff_lines(outcome))
        else:
            lines.append(f"{outcome.provider}: no changes ({outcome.listed} models)")
    return "\n".join(lines)


def _diff_lines(outcome: ProviderOutcome) -> list[str]:
    return [f"  + {model}" for model in outcome.added] + [
        f"  {_MINUS} {model}" for model in outcome.removed
    ]
