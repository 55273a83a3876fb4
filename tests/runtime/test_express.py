"""Messages an actor serves on the event loop: one thread hop, supervision as usual."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    Message,
    SupervisorSpec,
    current_correlation_id,
    receive,
)
from tests.runtime.fakes import Journal


class Forward(Message, frozen=True, kw_only=True):
    """Served on the loop."""

    value: str
    fail: bool = False


class Local(Message, frozen=True, kw_only=True):
    """Served on the actor's own thread."""

    value: str


class Forwarder(Actor):
    """Serves ``Forward`` on the loop; records where each message was handled."""

    def __init__(self, context: ActorContext, journal: Journal, loop: AsyncLoop) -> None:
        super().__init__(context)
        self.journal = journal
        self.loop = loop

    def on_start(self) -> None:
        self.journal.record("start", self.context.path)
        self.serve_on_loop(self.loop.loop, Forward)

    @receive
    def on_forward(self, message: Forward) -> str:
        thread = threading.current_thread().name
        self.journal.record("forward", message.value, thread, current_correlation_id())
        deliveries = [e for e in self.journal.of("forward") if e[1] == message.value]
        if message.fail and len(deliveries) == 1:  # the first delivery only
            raise RuntimeError(f"failing {message.value}")
        return thread

    @receive
    def on_local(self, message: Local) -> None:
        self.journal.record("local", message.value, threading.current_thread().name)


class QueuedAtStart(Forwarder):
    """Has Forward messages queued before it serves them on the loop, and handles those
    slowly on its own thread (where a later message served on the loop would overtake)."""

    def on_start(self) -> None:
        for index in range(5):
            self.context.address.tell(Forward(value=str(index)))
        super().on_start()

    @receive
    def on_forward(self, message: Forward) -> str:
        if threading.current_thread().name.startswith("actor:"):
            time.sleep(0.01)
        return super().on_forward(message)


@pytest.fixture
def loop() -> Iterator[AsyncLoop]:
    with AsyncLoop() as running:
        yield running


def start(system: ActorSystem, journal: Journal, loop: AsyncLoop) -> None:
    spec = ChildSpec(name="fwd", factory=lambda context: Forwarder(context, journal, loop))
    system.start(SupervisorSpec(children=(spec,)))
    journal.wait_count("start", count=1)


def test_a_served_message_is_handled_on_the_loop_and_others_on_the_actor_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    start(system, journal, loop)
    fwd = system.address("/fwd")
    fwd.tell(Forward(value="a"), correlation_id="cid-a")
    fwd.tell(Local(value="b"))
    journal.wait_count("forward", count=1)
    journal.wait_count("local", count=1)
    assert journal.of("forward") == [("forward", "a", "asyncio-loop", "cid-a")]
    assert journal.of("local") == [("local", "b", "actor:/fwd")]


def test_served_messages_keep_their_order(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    start(system, journal, loop)
    fwd = system.address("/fwd")
    for index in range(50):
        fwd.tell(Forward(value=str(index)))
    journal.wait_count("forward", count=50)
    assert [entry[1] for entry in journal.of("forward")] == [str(i) for i in range(50)]


def test_messages_queued_before_the_loop_serves_them_are_not_overtaken(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    spec = ChildSpec(name="fwd", factory=lambda context: QueuedAtStart(context, journal, loop))
    system.start(SupervisorSpec(children=(spec,)))
    fwd = system.address("/fwd")
    for index in range(5, 20):
        fwd.tell(Forward(value=str(index)))

    journal.wait_count("forward", count=20)

    assert [entry[1] for entry in journal.of("forward")] == [str(i) for i in range(20)]
    fwd.tell(Forward(value="later"))
    journal.wait_count("forward", count=21)
    assert journal.of("forward")[-1][2] == "asyncio-loop", "then the loop serves them"


def test_an_ask_of_a_served_type_is_answered_on_the_actor_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    start(system, journal, loop)
    assert system.address("/fwd").ask(Forward(value="asked"), timeout=5) == "actor:/fwd"


def test_a_served_handler_that_raises_restarts_the_actor_and_the_message_is_retried(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    start(system, journal, loop)
    fwd = system.address("/fwd")
    fwd.tell(Forward(value="bad", fail=True))
    journal.wait_count("start", count=2)  # restarted by its supervisor
    journal.wait_count("forward", count=2)  # and the message handled again, by the new one
    assert [entry[1] for entry in journal.of("forward")] == ["bad", "bad"]
    fwd.tell(Forward(value="after"))
    journal.wait_count("forward", count=3)
    assert journal.of("forward")[-1][2] == "asyncio-loop"  # the new incarnation serves too
    snapshot = system.snapshot().find("/fwd")
    assert snapshot is not None
    assert snapshot.failures == 1
