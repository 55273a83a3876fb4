"""The scheduler actor: APScheduler's BackgroundScheduler behind the scheduler protocol.

Jobs persist in their own SQLite file (:func:`~actors.scheduler.triggers.jobstore_path`),
through APScheduler's SQLAlchemyJobStore, so they come back after a restart of this actor
or of the process. When a job is due, :class:`~actors.scheduler.executor.TellingExecutor`
tells its target a :class:`~actors.scheduler.messages.JobDue`; none of our code runs on
APScheduler's thread. Missed runs follow APScheduler's rules: ``coalesce=True`` (several
missed runs become one) and ``misfire_grace_time`` (a run later than that is skipped).

Standing jobs (the daily model refresh, the retention clean-up) are given by the tree as
:class:`Schedule` messages and applied in ``on_start`` before the scheduler resumes: an
unchanged one keeps its stored next run time (so a run missed while the bot was down
fires once), a changed one (a new crontab in config.toml) replaces it.

The scheduler is created in ``on_start`` and shut down in ``on_stop``, which joins its
thread and disposes of the job store's connections: a restart leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from loguru import logger

from actors.scheduler.executor import FUNC_REF, TellingExecutor
from actors.scheduler.messages import (
    CancelJob,
    JobDue,
    JobInfo,
    ListJobs,
    RunJobNow,
    Schedule,
)
from actors.scheduler.triggers import describe, load_timezone, to_apscheduler
from runtime import Actor, ActorContext, Address, receive


@dataclass(frozen=True, kw_only=True)
class SchedulerSettings:
    """What the scheduler actor needs from ``[scheduler]`` and ``[storage]``."""

    jobstore: Path  # the SQLite file jobs persist in
    timezone: str = "UTC"  # of Cron triggers
    misfire_grace_seconds: int = 3600
    standing: tuple[Schedule, ...] = ()  # applied at every start


class SchedulerActor(Actor):
    """See the module docstring. ``resolve`` turns a job's target path into an address."""

    def __init__(
        self,
        context: ActorContext,
        *,
        settings: SchedulerSettings,
        resolve: Callable[[str], Address],
    ) -> None:
        super().__init__(context)
        self._settings = settings
        self._timezone = load_timezone(settings.timezone)
        self._resolve = resolve
        self._scheduler: BackgroundScheduler | None = None

    def on_start(self) -> None:
        path = self._settings.jobstore
        path.parent.mkdir(parents=True, exist_ok=True)
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
            executors={"default": TellingExecutor(self._resolve)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self._settings.misfire_grace_seconds,
            },
            timezone=self._timezone,
        )
        # Paused first: standing jobs are compared with the stored ones before anything runs.
        scheduler.start(paused=True)
        self._scheduler = scheduler
        for schedule in self._settings.standing:
            self._apply(schedule)
        scheduler.resume()
        logger.info("scheduler: {} job(s) in {}", len(scheduler.get_jobs()), path)

    def on_stop(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)

    @property
    def scheduler(self) -> BackgroundScheduler:
        if self._scheduler is None:
            raise RuntimeError("the scheduler is not running")
        return self._scheduler

    @receive
    def on_schedule(self, message: Schedule) -> None:
        try:
            self._apply(message)
        except ValueError as exc:  # the sender's bug; crashing would not fix it
            logger.error("scheduler: job {} not scheduled: {}", message.job_id, exc)

    @receive
    def on_cancel(self, message: CancelJob) -> None:
        try:
            self.scheduler.remove_job(message.job_id)
        except JobLookupError:
            return
        logger.info("scheduler: job {} cancelled", message.job_id)

    @receive
    def on_run_now(self, message: RunJobNow) -> None:
        job = self.scheduler.get_job(message.job_id)
        if job is None:
            logger.warning("scheduler: no job {} to run now", message.job_id)
            return
        target, topic, payload = job.args
        self._resolve(target).tell(
            JobDue(job_id=job.id, topic=topic, payload=payload, scheduled_for=time.time())
        )

    @receive
    def on_list(self, _message: ListJobs) -> tuple[JobInfo, ...]:
        return tuple(
            JobInfo(
                job_id=job.id,
                target=job.args[0],
                topic=job.args[1],
                next_run=None if job.next_run_time is None else job.next_run_time.timestamp(),
            )
            for job in self.scheduler.get_jobs()
        )

    def _apply(self, schedule: Schedule) -> None:
        """Add the job, or replace it if its schedule or arguments changed; else keep it.

        Raises:
            ValueError: a malformed crontab or a non-positive interval.
        """
        scheduler = self.scheduler
        description = describe(schedule.trigger, self._timezone)
        args = (schedule.target, schedule.topic, schedule.payload)
        existing = scheduler.get_job(schedule.job_id)
        if existing is not None and existing.name == description and tuple(existing.args) == args:
            grace = self._settings.misfire_grace_seconds
            if existing.misfire_grace_time != grace or not existing.coalesce:
                # A new grace time in config.toml: keep the job and its next run time.
                scheduler.modify_job(schedule.job_id, misfire_grace_time=grace, coalesce=True)
            return
        scheduler.add_job(
            FUNC_REF,
            trigger=to_apscheduler(schedule.trigger, self._timezone),
            args=args,
            id=schedule.job_id,
            name=description,
            replace_existing=True,
        )
        logger.info(
            "scheduler: job {} ({}) -> {} {!r}",
            schedule.job_id,
            description,
            schedule.target,
            schedule.topic,
        )
