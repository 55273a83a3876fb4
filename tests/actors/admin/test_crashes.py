"""Crash reports: an actor that crashes becomes one notice to the admin actor, with no user text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial

import pytest
from loguru import logger

from actors.admin.crashes import actor_of, report_crashes
from actors.admin.messages import NotifyAdmins
from runtime import Actor, ActorContext, ActorSystem, ChildSpec, Message, SupervisorSpec, receive
from tests.actors.admin.test_actor import Journal


class Boom(Message, frozen=True, kw_only=True):
    text: str


class Crasher(Actor):
    @receive
    def on_boom(self, message: Boom) -> None:
        raise ValueError(message.text)


class FakeAdmin(Actor):
    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self._journal = journal

    @receive
    def on_notify(self, message: NotifyAdmins) -> None:
        self._journal.record(self.context.path, message)


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def system(journal: Journal) -> Iterator[ActorSystem]:
    actor_system = ActorSystem()
    actor_system.start(
        SupervisorSpec(
            children=(
                ChildSpec(name="admin", factory=partial(FakeAdmin, journal=journal)),
                ChildSpec(name="crasher", factory=Crasher, poison_after=1),
            )
        )
    )
    handler = report_crashes(actor_system.address("/admin"))
    try:
        yield actor_system
    finally:
        logger.remove(handler)
        actor_system.shutdown()


def test_an_actor_crash_reaches_the_admin_actor_without_the_exception_text(
    system: ActorSystem, journal: Journal
) -> None:
    system.address("/crasher").tell(Boom(text="a user's private words"), correlation_id="u42")

    notice = journal.wait_for("/admin", lambda m: isinstance(m, NotifyAdmins))

    assert isinstance(notice, NotifyAdmins)
    assert notice.topic == "crash:/crasher"
    assert notice.text.splitlines()[0] == "💥 Unexpected ValueError in /crasher handling Boom"
    assert "test_crashes.py" in notice.text
    assert "in on_boom" in notice.text
    assert "cid u42" in notice.text
    assert "private words" not in notice.text


def test_errors_without_an_exception_and_warnings_with_one_are_not_reported(
    system: ActorSystem, journal: Journal
) -> None:
    logger.error("an error without a traceback")
    logger.opt(exception=RuntimeError("expected")).warning("a warning with a traceback")
    logger.opt(exception=RuntimeError("marker")).error("the one to report")

    notice = journal.wait_for("/admin", lambda m: isinstance(m, NotifyAdmins))
    assert isinstance(notice, NotifyAdmins)
    assert "RuntimeError" in notice.text
    assert len(journal.to("/admin")) == 1


def test_pool_keys_in_actor_threads_share_one_topic() -> None:
    assert actor_of("actor:/sessions/4242") == "/sessions/*"
    assert actor_of("actor:/sessions/-100123") == "/sessions/*"
    assert actor_of("actor:/io/gateway") == "/io/gateway"
    assert actor_of(threading.current_thread().name) == "MainThread"
