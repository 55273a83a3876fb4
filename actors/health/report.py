"""Health in words: the ``/admin health`` page and the notice sent to admins on a change.

Plain text, one line per component, so it reads the same in Telegram and in a log. Times
are UTC clock times (what an admin compares with the log) or ages ("12s ago").
"""

from __future__ import annotations

import time
from typing import Final

from actors.health.messages import ComponentView, HealthView, Overall

MEANING: Final[dict[Overall, str]] = {
    "healthy": "every check passes",
    "degraded": "some part fails; chats are still answered",
    "unhealthy": "the bot cannot do its job (storage, Telegram or every provider fails)",
}
_MINUTE = 60


def component_label(component: ComponentView) -> str:
    """``storage``, ``telegram``, ``provider deepseek``, ``actor tree``, ``process``."""
    if component.kind == "provider":
        return f"provider {component.name}"
    if component.kind == "tree":
        return "actor tree"
    return component.name


def render_health(view: HealthView, now: float) -> str:
    """The ``/admin health`` page: overall state, then each component with its detail."""
    checked = (
        "not checked yet" if view.checked_at is None else f"checked {_ago(view.checked_at, now)}"
    )
    lines = [
        f"Health: {view.overall.upper()} since {_clock(view.since)} UTC ({checked})",
        MEANING[view.overall],
        "",
    ]
    for component in view.components:
        lines.extend(_component_lines(component, now))
    return "\n".join(lines)


def render_change(view: HealthView, previous: Overall) -> str:
    """The notice for admins: the new state, what it means, and what fails (with actions)."""
    again = " again" if view.overall == "healthy" else ""
    lines = [
        f"Health: {view.overall.upper()}{again} (was {previous})",
        MEANING[view.overall],
    ]
    failing = [c for c in view.components if c.status == "failing"]
    for component in failing:
        lines.append(f"- {component_label(component)}: {component.detail}")
        if component.last_action:
            lines.append(f"  action: {component.last_action}")
    if failing:
        lines.append("/admin health shows every component.")
    return "\n".join(lines)


def _component_lines(component: ComponentView, now: float) -> list[str]:
    status = {"ok": "ok", "failing": "FAILING", "unknown": "not checked yet"}[component.status]
    line = f"{component_label(component)}: {status}"
    if component.detail:
        line += f" — {component.detail}"
    if component.failures_in_a_row:
        line += f" ({component.failures_in_a_row} failed in a row, fails at {component.threshold})"
    if component.checked_at is not None:
        line += f", {_ago(component.checked_at, now)}"
    lines = [line]
    if component.status != "failing" and component.last_failure_at is not None:
        lines.append(
            f"  last failure {_clock(component.last_failure_at)}: {component.last_failure}"
        )
    if component.last_action_at is not None:
        lines.append(f"  last action {_clock(component.last_action_at)}: {component.last_action}")
    return lines


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(at))


def _ago(at: float, now: float) -> str:
    seconds = max(0.0, now - at)
    if seconds < _MINUTE:
        return f"{seconds:.0f}s ago"
    return f"{seconds // _MINUTE:.0f}m{seconds % _MINUTE:02.0f}s ago"
