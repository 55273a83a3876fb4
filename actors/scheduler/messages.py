"""What the scheduler actor is asked to do, and what it sends when a job is due.

The protocol is :data:`SchedulerRequest`. Any actor can schedule work for any address
(``target`` is an actor path such as ``"/admin"``): when the job is due, the scheduler
tells ``target`` a :class:`JobDue` carrying the job's ``topic`` and ``payload``. Jobs are
kept in SQLite, so they come back after a restart of the scheduler or of the process; a
run missed while the bot was down follows APScheduler's misfire and coalesce rules (at
most one late run, within the configured grace time), never two.

Scheduling a job with an id that exists replaces it, which makes every request here
idempotent: an actor can re-schedule its jobs in ``on_start`` without duplicating them.
"""

from __future__ import annotations

import msgspec

from runtime import Message


class Cron(msgspec.Struct, frozen=True, kw_only=True):
    """Crontab syntax (``"0 4 * * *"``), in the scheduler's configured time zone."""

    expression: str


class At(msgspec.Struct, frozen=True, kw_only=True):
    """Once, at ``epoch`` seconds (a time in the past runs as soon as possible)."""

    epoch: float


class Every(msgspec.Struct, frozen=True, kw_only=True):
    """Repeatedly, every ``seconds``."""

    seconds: float


Trigger = Cron | At | Every


class Schedule(Message, frozen=True, kw_only=True):
    """Add or replace job ``job_id``: tell ``target`` a JobDue(topic, payload) when due."""

    job_id: str
    trigger: Trigger
    target: str
    topic: str
    payload: str = ""


class CancelJob(Message, frozen=True, kw_only=True):
    """Remove job ``job_id``; nothing happens if there is none."""

    job_id: str


class RunJobNow(Message, frozen=True, kw_only=True):
    """Run job ``job_id`` once now, keeping its schedule (for admin commands and tests)."""

    job_id: str


class ListJobs(Message, frozen=True, kw_only=True):
    """Ask: reply with every job as a tuple of :class:`JobInfo`."""


class JobInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A job as /admin health and /debug show it; ``next_run`` is epoch seconds or None."""

    job_id: str
    target: str
    topic: str
    next_run: float | None


class JobDue(Message, frozen=True, kw_only=True):
    """Sent to a job's target when it is due; ``scheduled_for`` is the planned epoch time."""

    job_id: str
    topic: str
    payload: str
    scheduled_for: float


SchedulerRequest = Schedule | CancelJob | RunJobNow | ListJobs
