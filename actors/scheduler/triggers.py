"""Our trigger messages as APScheduler triggers, and the checks the config loader runs on them.

Each job also carries a one-line description of its schedule (stored as the job's name).
Re-scheduling a job whose description and arguments are unchanged leaves it alone, so a
standing job re-applied at every start keeps its next run time, a run missed while the bot
was down included, instead of being pushed to the next future time.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from actors.scheduler.messages import At, Cron, Every, Trigger


def jobstore_path(database: Path) -> Path:
    """Where jobs persist: beside the database, ``bot.sqlite3`` -> ``bot.scheduler.sqlite3``.

    A file of its own keeps APScheduler's table and its SQLAlchemy connections away from
    the storage actor's single writer (and from the migrations).
    """
    return database.with_name(f"{database.stem}.scheduler.sqlite3")


def load_timezone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` (``"UTC"``, ``"Europe/Berlin"``).

    Raises:
        ValueError: not a zone this system knows, in words for a config error.
    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f'unknown time zone "{name}" (expected an IANA name such as "UTC")'
        ) from None


def parse_crontab(expression: str, timezone: zoneinfo.ZoneInfo) -> Any:
    """A five-field crontab line (minute hour day month weekday) as a CronTrigger.

    Raises:
        ValueError: the expression is malformed, in words for a config error.
    """
    try:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    except (ValueError, TypeError, LookupError) as exc:
        problem = str(exc).strip("'\"")  # a KeyError's str() comes quoted
        problem = problem[:1].lower() + problem[1:]
        raise ValueError(f'invalid crontab "{expression}": {problem}') from None


def to_apscheduler(trigger: Trigger, timezone: zoneinfo.ZoneInfo, now: float | None = None) -> Any:
    """The APScheduler trigger for ``trigger``; an :class:`At` in the past fires at ``now``.

    Typed ``Any``: APScheduler ships no type information (a CronTrigger, DateTrigger or
    IntervalTrigger).

    Raises:
        ValueError: a malformed crontab or a non-positive interval.
    """
    match trigger:
        case Cron(expression=expression):
            return parse_crontab(expression, timezone)
        case At(epoch=epoch):
            when = max(epoch, time.time() if now is None else now)
            return DateTrigger(run_date=dt.datetime.fromtimestamp(when, timezone))
        case Every(seconds=seconds):
            if seconds <= 0:
                raise ValueError(f"interval must be positive, got {seconds:g}s")
            return IntervalTrigger(seconds=seconds, timezone=timezone)


def describe(trigger: Trigger, timezone: zoneinfo.ZoneInfo) -> str:
    """One line that changes exactly when the schedule does (``"cron 0 4 * * * UTC"``)."""
    match trigger:
        case Cron(expression=expression):
            return f"cron {' '.join(expression.split())} {timezone.key}"
        case At(epoch=epoch):
            return f"at {epoch!r}"
        case Every(seconds=seconds):
            return f"every {seconds!r}s"
