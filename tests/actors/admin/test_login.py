"""/admin login on the flow mechanism: the admin actor with a fake scheduler and fake sessions.

The scheduler is a fake that records what it is asked; a test plays the clock by telling
the admin actor the JobDue the real scheduler would send when a job is due.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.admin.actor import AdminActor
from actors.admin.login import NOTHING_GUARDED, PRIVATE_ONLY
from actors.admin.messages import AdminCommand, NotifyAdmins
from actors.chat.messages import AccessChanged, UserRef
from actors.config import AdminConfig, Secret
from actors.flows.messages import CancelFlow, CaptureInput, FlowInput, ReleaseInput
from actors.scheduler.messages import At, CancelJob, JobDue, Schedule
from actors.storage import RegisterUser, StorageActor
from actors.telegram.messages import AnswerButton, DeleteMessage, EditText, SendText
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    ChildSpec,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
)
from tests.actors.admin.test_actor import ADMIN, ALICE, SETTINGS, Journal, text_to

PASSWORD = "correct horse battery"
CONFIG = AdminConfig(
    password=Secret(PASSWORD), elevation_minutes=15.0, login_attempts=3, login_timeout_seconds=60.0
)


class Recorder(Actor):
    """Stands in for the gateway, the sessions and the scheduler: records what it is told."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self._journal = journal

    @receive
    def on_message(
        self,
        message: SendText
        | EditText
        | AnswerButton
        | DeleteMessage
        | AccessChanged
        | CaptureInput
        | ReleaseInput
        | Schedule
        | CancelJob,
    ) -> None:
        self._journal.record(self.context.path, message)


def start(
    tmp_path: Path, journal: Journal, config: AdminConfig, *, with_scheduler: bool = True
) -> ActorSystem:
    system = ActorSystem()
    fake = partial(Recorder, journal=journal)
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(name="storage", factory=partial(StorageActor, path=tmp_path / "b.db")),
                ChildSpec(name="gateway", factory=fake),
                ChildSpec(name="scheduler", factory=fake),
                pool("sessions", PoolSpec(factory=fake, idle_after=None)),
                ChildSpec(
                    name="admin",
                    factory=partial(
                        AdminActor,
                        settings=SETTINGS,
                        storage=system.address("/storage"),
                        gateway=system.address("/gateway"),
                        sessions=system.address("/sessions"),
                        snapshot=system.snapshot,
                        config=config,
                        scheduler=system.address("/scheduler") if with_scheduler else None,
                    ),
                ),
            )
        )
    )
    system.address("/storage").ask(
        RegisterUser(user_id=ALICE.id, first_name="Alice", username=None), timeout=5.0
    )
    return system


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def system(tmp_path: Path, journal: Journal) -> Iterator[ActorSystem]:
    actor_system = start(tmp_path, journal, CONFIG)
    try:
        yield actor_system
    finally:
        actor_system.shutdown()


@pytest.fixture
def admin_actor(system: ActorSystem) -> Address:
    return system.address("/admin")


def command(*args: str, chat_id: int = ADMIN.id, user: UserRef = ADMIN) -> AdminCommand:
    return AdminCommand(chat_id=chat_id, message_id=3, user=user, command="admin", args=args)


def login(admin_actor: Address, journal: Journal) -> CaptureInput:
    """Start /admin login; return the capture the admin's session was told."""
    admin_actor.tell(command("login"))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Send the admin password"))
    capture = journal.wait_for("/sessions/1000", lambda m: isinstance(m, CaptureInput))
    assert isinstance(capture, CaptureInput)
    return capture


def answer(admin_actor: Address, capture: CaptureInput, text: str, message_id: int) -> None:
    admin_actor.tell(
        FlowInput(
            chat_id=ADMIN.id, message_id=message_id, user=ADMIN, text=text, flow_id=capture.flow_id
        )
    )


def test_a_guarded_command_is_refused_until_login_and_approve_is_not_guarded(
    admin_actor: Address, journal: Journal
) -> None:
    admin_actor.tell(command("block", str(ALICE.id)))
    journal.wait_for("/gateway", text_to(ADMIN.id, "guarded by the admin password"))
    admin_actor.tell(command("approve", str(ALICE.id)))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Approved Alice"))

    journal.wait_for(
        "/sessions/2001", lambda m: m == AccessChanged(user_id=ALICE.id, state="active")
    )


def test_the_right_password_is_deleted_and_elevates_so_block_works(
    admin_actor: Address, journal: Journal
) -> None:
    capture = login(admin_actor, journal)
    assert capture.owner == "/admin"
    timeout_job = journal.wait_for(
        "/scheduler", lambda m: isinstance(m, Schedule) and m.job_id.endswith(":timeout")
    )
    assert isinstance(timeout_job, Schedule)
    assert isinstance(timeout_job.trigger, At)
    assert timeout_job.target == "/admin"

    answer(admin_actor, capture, PASSWORD, message_id=77)

    journal.wait_for("/gateway", text_to(ADMIN.id, "Logged in for 15 minutes"))
    journal.wait_for("/gateway", lambda m: m == DeleteMessage(chat_id=ADMIN.id, message_id=77))
    journal.wait_for(
        "/sessions/1000", lambda m: m == ReleaseInput(user_id=ADMIN.id, flow_id=capture.flow_id)
    )
    journal.wait_for("/scheduler", lambda m: m == CancelJob(job_id=timeout_job.job_id))
    admin_actor.tell(command("block", str(ALICE.id)))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Blocked Alice"))

    admin_actor.tell(command("logout"))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Logged out"))
    admin_actor.tell(command("unblock", str(ALICE.id)))
    journal.wait_for("/gateway", text_to(ADMIN.id, "guarded by the admin password"))


def test_wrong_passwords_count_down_then_lock_login_and_tell_admins(
    admin_actor: Address, journal: Journal
) -> None:
    capture = login(admin_actor, journal)

    answer(admin_actor, capture, "guess one", message_id=10)
    journal.wait_for("/gateway", text_to(ADMIN.id, "Wrong password. 2 attempts left."))
    answer(admin_actor, capture, "guess two", message_id=11)
    journal.wait_for("/gateway", text_to(ADMIN.id, "Wrong password. 1 attempt left."))
    answer(admin_actor, capture, "guess three", message_id=12)
    journal.wait_for("/gateway", text_to(ADMIN.id, "Too many wrong passwords"))
    journal.wait_for("/gateway", text_to(ADMIN.id, "locked after wrong passwords"))

    deleted = {m.message_id for m in journal.to("/gateway") if isinstance(m, DeleteMessage)}
    assert deleted == {10, 11, 12}
    admin_actor.tell(command("login"))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Login is locked"))


def test_an_unanswered_prompt_is_reminded_then_times_out(
    admin_actor: Address, journal: Journal
) -> None:
    capture = login(admin_actor, journal)
    journal.wait_for("/scheduler", lambda m: isinstance(m, Schedule) and "timeout" in m.job_id)
    jobs = {m.job_id: m for m in journal.to("/scheduler") if isinstance(m, Schedule)}
    [remind] = [job_id for job_id in jobs if job_id.endswith(":remind")]
    [timeout] = [job_id for job_id in jobs if job_id.endswith(":timeout")]

    for job_id in (remind, timeout):
        trigger = jobs[job_id].trigger
        assert isinstance(trigger, At)
        admin_actor.tell(
            JobDue(job_id=job_id, topic="flow", payload="", scheduled_for=trigger.epoch)
        )

    journal.wait_for("/gateway", text_to(ADMIN.id, "Still waiting for the admin password"))
    journal.wait_for("/gateway", text_to(ADMIN.id, "Login timed out"))
    journal.wait_for(
        "/sessions/1000", lambda m: m == ReleaseInput(user_id=ADMIN.id, flow_id=capture.flow_id)
    )
    answer(admin_actor, capture, PASSWORD, message_id=30)  # too late: a stray answer
    journal.wait_for("/gateway", text_to(ADMIN.id, "That login prompt has expired"))
    journal.wait_for("/gateway", lambda m: m == DeleteMessage(chat_id=ADMIN.id, message_id=30))


def test_cancel_ends_the_login(admin_actor: Address, journal: Journal) -> None:
    capture = login(admin_actor, journal)

    admin_actor.tell(CancelFlow(chat_id=ADMIN.id, user=ADMIN, flow_id=capture.flow_id))

    journal.wait_for("/gateway", text_to(ADMIN.id, "Login cancelled."))


def test_login_in_a_group_is_refused_without_a_prompt(
    admin_actor: Address, journal: Journal
) -> None:
    admin_actor.tell(command("login", chat_id=-100))

    journal.wait_for("/gateway", text_to(-100, PRIVATE_ONLY))
    assert journal.to("/sessions/-100") == []


def test_without_a_password_login_says_nothing_is_guarded_and_block_just_works(
    tmp_path: Path, journal: Journal
) -> None:
    system = start(tmp_path, journal, AdminConfig())
    try:
        admin_actor = system.address("/admin")
        admin_actor.tell(command("login"))
        journal.wait_for("/gateway", text_to(ADMIN.id, NOTHING_GUARDED))
        admin_actor.tell(command("block", str(ALICE.id)))
        journal.wait_for("/gateway", text_to(ADMIN.id, "Blocked Alice"))
    finally:
        system.shutdown()


def test_notices_on_one_topic_are_rate_limited_and_the_next_one_counts_those_held_back(
    admin_actor: Address, journal: Journal
) -> None:
    admin_actor.tell(NotifyAdmins(text="storage degraded", topic="health"))
    admin_actor.tell(NotifyAdmins(text="storage degraded again", topic="health"))
    admin_actor.tell(NotifyAdmins(text="model list changed", topic="refresh"))
    admin_actor.tell(NotifyAdmins(text="storage down", topic="health", urgent=True))

    journal.wait_for("/gateway", text_to(ADMIN.id, "storage down"))
    sent = [m.text for m in journal.to("/gateway") if isinstance(m, SendText)]
    assert sent == [
        "storage degraded",
        "model list changed",
        "storage down\n\n(+1 more notice on this held back since the last one.)",
    ]


def test_without_a_scheduler_the_timers_run_on_the_runtime_and_the_prompt_times_out(
    tmp_path: Path, journal: Journal
) -> None:
    config = AdminConfig(password=Secret(PASSWORD), login_timeout_seconds=0.3)
    system = start(tmp_path, journal, config, with_scheduler=False)
    try:
        system.address("/admin").tell(command("login"))
        journal.wait_for("/gateway", text_to(ADMIN.id, "Login timed out"))
        assert journal.to("/scheduler") == []
    finally:
        system.shutdown()
