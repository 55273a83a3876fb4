"""The scheduler actor: jobs persist, missed runs fire once, and nothing is left running."""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from actors.scheduler.actor import SchedulerActor, SchedulerSettings
from actors.scheduler.messages import (
    At,
    CancelJob,
    Cron,
    Every,
    JobDue,
    JobInfo,
    ListJobs,
    RunJobNow,
    Schedule,
)
from runtime import Actor, ActorContext, ActorSystem, ChildSpec, SupervisorSpec, receive
from tests.actors.scheduler.support import set_next_run


class Recorder(Actor):
    """A job target that hands every JobDue it gets to the test."""

    handled_on: ClassVar[list[str]] = []  # thread names, for the one test that looks

    def __init__(self, context: ActorContext, *, inbox: queue.Queue[JobDue]) -> None:
        super().__init__(context)
        self._inbox = inbox

    @receive
    def on_due(self, message: JobDue) -> None:
        self.handled_on.append(threading.current_thread().name)
        self._inbox.put(message)


Start = Callable[..., ActorSystem]


@pytest.fixture
def inbox() -> queue.Queue[JobDue]:
    return queue.Queue()


@pytest.fixture
def start(tmp_path: Path, inbox: queue.Queue[JobDue]) -> Iterator[Start]:
    """Start a system with a recorder and a scheduler on one job store; stop them all after."""
    systems: list[ActorSystem] = []

    def run(*standing: Schedule, grace: int = 3600) -> ActorSystem:
        system = ActorSystem()
        systems.append(system)
        settings = SchedulerSettings(
            jobstore=tmp_path / "bot.scheduler.sqlite3",
            misfire_grace_seconds=grace,
            standing=standing,
        )
        system.start(
            SupervisorSpec(
                children=(
                    ChildSpec(name="recorder", factory=functools.partial(Recorder, inbox=inbox)),
                    ChildSpec(
                        name="scheduler",
                        factory=functools.partial(
                            SchedulerActor, settings=settings, resolve=system.address
                        ),
                    ),
                )
            )
        )
        return system

    yield run
    for system in systems:
        system.shutdown()


def jobs(system: ActorSystem) -> dict[str, JobInfo]:
    listed: tuple[JobInfo, ...] = system.address("/scheduler").ask(ListJobs(), timeout=5)
    return {job.job_id: job for job in listed}


def received(inbox: queue.Queue[JobDue], within: float) -> list[JobDue]:
    """Everything the recorder got in the next ``within`` seconds."""
    deadline = time.monotonic() + within
    got: list[JobDue] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(inbox.get(timeout=left))
        except queue.Empty:
            break
    return got


def test_a_due_job_tells_its_target_a_job_due_with_topic_and_payload(
    start: Start, inbox: queue.Queue[JobDue]
) -> None:
    system = start()
    when = time.time() + 0.3
    system.address("/scheduler").tell(
        Schedule(
            job_id="login-7", trigger=At(epoch=when), target="/recorder", topic="login", payload="7"
        )
    )

    due = inbox.get(timeout=5)

    assert (due.job_id, due.topic, due.payload) == ("login-7", "login", "7")
    assert due.scheduled_for == pytest.approx(when, abs=0.01)
    assert "login-7" not in jobs(system)  # a one-off job is gone once it ran
    assert "APScheduler" not in Recorder.handled_on  # handled on the target's own thread


def test_jobs_persist_across_a_restart_with_the_same_job_store(start: Start) -> None:
    first = start()
    first.address("/scheduler").tell(
        Schedule(
            job_id="nightly", trigger=Cron(expression="0 4 * * *"), target="/recorder", topic="x"
        )
    )
    before = jobs(first)["nightly"]
    first.shutdown()

    after = jobs(start())["nightly"]

    assert after == before
    assert after.next_run is not None
    assert after.next_run > time.time()


def test_a_standing_job_reapplied_at_start_keeps_its_next_run_time(start: Start) -> None:
    standing = Schedule(job_id="tick", trigger=Every(seconds=60), target="/recorder", topic="t")
    first = start(standing)
    before = jobs(first)["tick"].next_run
    first.shutdown()
    time.sleep(1.1)

    after = jobs(start(standing))["tick"].next_run

    assert after == before  # not pushed to 60 s after the second start


def test_a_changed_standing_job_replaces_the_stored_one(start: Start) -> None:
    first = start(Schedule(job_id="tick", trigger=Every(seconds=60), target="/recorder", topic="t"))
    first.shutdown()

    second = start(
        Schedule(job_id="tick", trigger=Every(seconds=600), target="/recorder", topic="t")
    )

    next_run = jobs(second)["tick"].next_run
    assert next_run is not None
    assert next_run > time.time() + 500


def test_a_cron_run_missed_several_times_while_down_fires_once(
    start: Start, inbox: queue.Queue[JobDue], tmp_path: Path
) -> None:
    # A per-minute job, then the bot is down for three minutes and a bit.
    every_minute = Schedule(
        job_id="refresh", trigger=Cron(expression="* * * * *"), target="/recorder", topic="r"
    )
    start(every_minute).shutdown()
    set_next_run(tmp_path / "bot.scheduler.sqlite3", "refresh", time.time() - 185)
    restarted_at = time.time()

    start(every_minute)

    late = [due for due in received(inbox, 1.5) if due.scheduled_for < restarted_at]
    assert len(late) == 1
    assert late[0].scheduled_for > restarted_at - 61  # the latest missed run, not the first


def test_a_run_missed_by_more_than_the_grace_time_is_skipped(
    start: Start, inbox: queue.Queue[JobDue]
) -> None:
    first = start(grace=1)
    first.address("/scheduler").tell(
        Schedule(job_id="soon", trigger=At(epoch=time.time() + 0.5), target="/recorder", topic="t")
    )
    assert "soon" in jobs(first)
    first.shutdown()
    time.sleep(2.0)

    second = start(grace=1)

    assert received(inbox, 1.0) == []
    assert "soon" not in jobs(second)


def test_a_cancelled_job_never_fires(start: Start, inbox: queue.Queue[JobDue]) -> None:
    system = start()
    scheduler = system.address("/scheduler")
    scheduler.tell(
        Schedule(job_id="soon", trigger=At(epoch=time.time() + 0.5), target="/recorder", topic="t")
    )
    scheduler.tell(CancelJob(job_id="soon"))
    scheduler.tell(CancelJob(job_id="never-was"))

    assert "soon" not in jobs(system)
    assert received(inbox, 1.0) == []


def test_run_job_now_delivers_at_once_and_keeps_the_schedule(
    start: Start, inbox: queue.Queue[JobDue]
) -> None:
    system = start()
    scheduler = system.address("/scheduler")
    scheduler.tell(
        Schedule(
            job_id="daily",
            trigger=Cron(expression="0 4 * * *"),
            target="/recorder",
            topic="d",
            payload="p",
        )
    )
    before = jobs(system)["daily"]

    scheduler.tell(RunJobNow(job_id="daily"))

    due = inbox.get(timeout=5)
    assert (due.job_id, due.topic, due.payload) == ("daily", "d", "p")
    assert jobs(system)["daily"] == before


def test_a_malformed_schedule_is_refused_and_the_actor_keeps_running(start: Start) -> None:
    system = start()
    scheduler = system.address("/scheduler")
    scheduler.tell(
        Schedule(job_id="bad", trigger=Cron(expression="61 * * *"), target="/recorder", topic="t")
    )

    assert "bad" not in jobs(system)
    node = system.snapshot().find("/scheduler")
    assert node is not None
    assert node.restarts == 0


def test_no_scheduler_thread_is_left_after_stop(start: Start) -> None:
    before = set(threading.enumerate())
    system = start(
        Schedule(job_id="tick", trigger=Every(seconds=60), target="/recorder", topic="t")
    )
    assert any(thread.name == "APScheduler" for thread in threading.enumerate())

    system.shutdown()

    assert set(threading.enumerate()) <= before


def test_a_new_grace_time_applies_to_a_kept_standing_job(
    start: Start, inbox: queue.Queue[JobDue], tmp_path: Path
) -> None:
    standing = Schedule(job_id="tick", trigger=Every(seconds=60), target="/recorder", topic="t")
    start(standing, grace=3600).shutdown()
    set_next_run(tmp_path / "bot.scheduler.sqlite3", "tick", time.time() - 5)

    start(standing, grace=1)

    assert received(inbox, 1.0) == []  # 5 s late is past the new 1 s grace
