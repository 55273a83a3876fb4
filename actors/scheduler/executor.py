"""An APScheduler executor that runs nothing: it tells the job's target a :class:`JobDue`.

APScheduler calls executors on its own thread. Running our code there would put a second
thread inside actors that assume they have one, so this executor only builds a message and
``tell``s it (which never blocks and never raises for delivery problems); the target
handles it on its own thread. The job's function is therefore never called: it is only the
stable textual reference :data:`FUNC_REF` stored in the job store, and the job's arguments
are plain strings ``(target path, topic, payload)``, so a stored job never pickles one of
our objects and always loads again after an upgrade.

Misfires follow APScheduler's own rule (the one in ``apscheduler.executors.base.run_job``):
a run later than the job's ``misfire_grace_time`` is reported as missed and not delivered.
With ``coalesce=True`` the scheduler hands over only the latest of several missed run
times, so a job missed while the bot was down is delivered at most once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Final

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from loguru import logger

from actors.scheduler.messages import JobDue
from runtime import Address

FUNC_REF: Final = "actors.scheduler.executor:deliver"


def deliver(target: str, topic: str, payload: str) -> None:
    """The function every stored job names; :class:`TellingExecutor` never calls it.

    Raises:
        RuntimeError: always: a job reached an executor other than ours (a configuration
            mistake that would otherwise run our code on APScheduler's thread).
    """
    raise RuntimeError(f"job for {target} ({topic}, {payload!r}) must run in TellingExecutor")


class TellingExecutor(BaseExecutor):  # type: ignore[misc] # APScheduler ships no types
    """Turn each due run of a job into a :class:`JobDue` told to its target.

    Args:
        resolve: the target path to an address (``ActorSystem.address``).
    """

    def __init__(self, resolve: Callable[[str], Address]) -> None:
        super().__init__()
        self._resolve = resolve

    def _do_submit_job(self, job: Any, run_times: Sequence[dt.datetime]) -> None:
        events = []
        for run_time in run_times:
            late = dt.datetime.now(dt.UTC) - run_time
            grace = job.misfire_grace_time
            if grace is not None and late > dt.timedelta(seconds=grace):
                logger.warning(
                    "scheduler: job {} missed its run at {} by {}", job.id, run_time, late
                )
                events.append(
                    JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time)  # noqa: SLF001
                )
                continue
            target, topic, payload = job.args
            scheduled_for = run_time.timestamp()
            logger.info("scheduler: job {} due, telling {} {!r}", job.id, target, topic)
            self._resolve(target).tell(
                JobDue(job_id=job.id, topic=topic, payload=payload, scheduled_for=scheduled_for),
                correlation_id=f"j-{job.id}-{int(scheduled_for)}",
            )
            events.append(
                JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time)  # noqa: SLF001
            )
        self._run_job_success(job.id, events)
