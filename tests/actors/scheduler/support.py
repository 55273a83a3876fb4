"""Reach into a scheduler's job store the way only a previous process could."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def set_next_run(path: Path, job_id: str, epoch: float) -> None:
    """Move a stored job's next run time, as if the process had been down since then.

    The job store is opened on a scheduler that is never started, so nothing runs here.
    """
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
    store.start(BackgroundScheduler(), "default")
    try:
        job = store.lookup_job(job_id)
        assert job is not None, f"no job {job_id} in {path}"
        job.next_run_time = dt.datetime.fromtimestamp(epoch, dt.UTC)
        store.update_job(job)
    finally:
        store.shutdown()
