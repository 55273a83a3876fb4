"""The two checks the health supervisor runs itself: the actor tree and the process.

Both are plain functions over data (a snapshot, process figures) returning ``(ok, detail)``,
cheap enough to run on the health actor's own thread at every interval. The process figures
come from ``/proc/self``; where there is no ``/proc`` (not Linux) a figure is None and is
not held against its limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from runtime import SystemSnapshot

_PROC = Path("/proc/self")
_KIB_PER_MB = 1024
_SHOWN = 3  # actors named per problem; the rest are counted


@dataclass(frozen=True, kw_only=True)
class TreeLimits:
    """When the actor tree counts as unwell."""

    max_mailbox_backlog: int
    max_restarts_per_hour: int


@dataclass(frozen=True, kw_only=True)
class ProcessLimits:
    """What the process may use before it counts as unwell."""

    max_rss_mb: int
    max_open_fds: int
    max_threads: int


@dataclass(frozen=True, kw_only=True)
class ProcessFigures:
    """What the process uses now; None where it cannot be read."""

    rss_mb: float | None
    open_fds: int | None
    threads: int


def check_tree(snapshot: SystemSnapshot, limits: TreeLimits) -> tuple[bool, str]:
    """Backlogs (a mailbox over the limit) and restart storms (restarts in the last hour).

    A backlog means an actor cannot keep up; a restart storm means one keeps failing. Both
    are reported by path, so the admin knows where to look (``/debug actor <path>``).
    """
    backlogged = [
        f"{node.path} ({node.mailbox_depth} waiting)"
        for _, node in snapshot.walk()
        if node.mailbox_depth > limits.max_mailbox_backlog
    ]
    storming = [
        f"{node.path} ({node.restarts_last_hour} restarts in the last hour)"
        for _, node in snapshot.walk()
        if node.restarts_last_hour > limits.max_restarts_per_hour
    ]
    problems = []
    if backlogged:
        problems.append("mailbox backlog: " + _some(backlogged))
    if storming:
        problems.append("restart storm: " + _some(storming))
    if problems:
        return False, "; ".join(problems)
    restarts = sum(node.restarts_last_hour for _, node in snapshot.walk())
    return True, f"{snapshot.actor_count} actors, {restarts} restarts in the last hour"


def read_process_figures(proc: Path = _PROC) -> ProcessFigures:
    """RSS and open file descriptors from ``proc``, threads from the interpreter."""
    rss_mb: float | None = None
    try:
        for line in (proc / "status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                rss_mb = int(line.split()[1]) / _KIB_PER_MB
                break
    except (OSError, ValueError, IndexError):
        rss_mb = None
    try:
        open_fds: int | None = sum(1 for _ in (proc / "fd").iterdir())
    except OSError:
        open_fds = None
    return ProcessFigures(rss_mb=rss_mb, open_fds=open_fds, threads=threading.active_count())


def check_process(figures: ProcessFigures, limits: ProcessLimits) -> tuple[bool, str]:
    """Each figure against its limit; the detail shows all of them, over-limit ones first."""
    over: list[str] = []
    shown: list[str] = []
    for label, value, limit, unit in (
        ("RSS", figures.rss_mb, limits.max_rss_mb, " MB"),
        ("open fds", figures.open_fds, limits.max_open_fds, ""),
        ("threads", figures.threads, limits.max_threads, ""),
    ):
        if value is None:
            shown.append(f"{label} unknown")
            continue
        text = f"{label} {value:.0f}{unit} (limit {limit}{unit})"
        (over if value > limit else shown).append(text)
    if over:
        rest = f"; {', '.join(shown)}" if shown else ""
        return False, "over the limit: " + ", ".join(over) + rest
    return True, ", ".join(shown)


def _some(items: list[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")
