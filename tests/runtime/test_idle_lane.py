"""Messages an idle actor lets the event loop handle in its own turn (serve_idle_on_loop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    AsyncLoop,
    ChildSpec,
    Message,
    SupervisorSpec,
    current_correlation_id,
    receive,
)
from tests.runtime.fakes import Journal


class Note(Message, frozen=True, kw_only=True):
    """Handled on the loop when the actor is idle, unless ``hard`` (then on its thread)."""

    value: str
    hard: bool = False
    fail: bool = False
    hold: float = 0.0  # seconds the handler takes


class Slow(Message, frozen=True, kw_only=True):
    """Only ever handled on the actor's thread; takes ``seconds``."""

    value: str
    seconds: float = 0.0


class Keeper(Actor):
    """Keeps a list in memory, as a chat session keeps its context; records who handled what."""

    def __init__(self, context: ActorContext, journal: Journal, loop: AsyncLoop) -> None:
        super().__init__(context)
        self.journal = journal
        self.loop = loop
        self.notes: list[str] = []

    def on_start(self) -> None:
        self.journal.record("start", self.context.path)
        self.serve_idle_on_loop(self.loop, {Note: self._easy})

    def _easy(self, message: Note) -> bool:
        return not message.hard

    @receive
    def on_note(self, message: Note) -> list[str]:
        thread = threading.current_thread().name
        self.journal.record("begin", message.value, thread, time.monotonic())
        time.sleep(message.hold)
        attempts = [e for e in self.journal.of("begin") if e[1] == message.value]
        if message.fail and len(attempts) == 1:  # the first delivery only
            raise RuntimeError(f"failing {message.value}")
        self.notes.append(message.value)
        self.journal.record(
            "note", message.value, thread, current_correlation_id(), tuple(self.notes)
        )
        self.journal.record("end", message.value, time.monotonic())
        return list(self.notes)

    @receive
    def on_slow(self, message: Slow) -> None:
        self.journal.record("begin", message.value, threading.current_thread().name, 0.0)
        self.journal.record("slow", message.value, time.monotonic())
        time.sleep(message.seconds)
        self.notes.append(message.value)
        self.journal.record("end", message.value, time.monotonic())


@pytest.fixture
def loop() -> Iterator[AsyncLoop]:
    with AsyncLoop() as running:
        yield running


def start(system: ActorSystem, journal: Journal, loop: AsyncLoop) -> Address:
    spec = ChildSpec(name="keeper", factory=lambda context: Keeper(context, journal, loop))
    system.start(SupervisorSpec(children=(spec,)))
    journal.wait_count("start", count=1)
    address = system.address("/keeper")
    wait_parked(system)
    return address


def wait_parked(system: ActorSystem) -> None:
    """Until the keeper's thread waits for work (it parks before each wait)."""
    cell = system._cells["/keeper"]
    deadline = time.monotonic() + 5
    while not cell.parked:
        assert time.monotonic() < deadline, "the actor's thread never parked"
        time.sleep(0.001)


def tell_from_loop(
    loop: AsyncLoop,
    journal: Journal,
    address: Address,
    message: Message,
    correlation_id: str | None = None,
) -> list[str]:
    """Tell ``message`` from a callback on the loop; return the notes taken by then."""
    seen: list[str] = []
    done = threading.Event()

    def send() -> None:
        address.tell(message, correlation_id=correlation_id)
        seen.extend(str(entry[1]) for entry in journal.of("note"))
        done.set()

    loop.call(send)
    assert done.wait(5)
    return seen


def test_an_idle_actor_handles_a_message_from_the_loop_within_the_senders_call(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    seen = tell_from_loop(loop, journal, keeper, Note(value="a"), "cid-a")

    assert seen == ["a"], "handled before tell returned"
    assert journal.of("note") == [("note", "a", "asyncio-loop", "cid-a", ("a",))]
    snapshot = system.snapshot().find("/keeper")
    assert snapshot is not None
    assert snapshot.processed == 1


def test_a_message_the_check_declines_goes_to_the_actors_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    seen = tell_from_loop(loop, journal, keeper, Note(value="hard", hard=True))

    journal.wait_count("note", count=1)
    assert seen == []
    assert journal.of("note")[0][2] == "actor:/keeper"


def test_a_message_from_another_thread_goes_to_the_actors_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    keeper.tell(Note(value="from-test-thread"))

    journal.wait_count("note", count=1)
    assert journal.of("note")[0][2] == "actor:/keeper"


def test_an_ask_is_answered_on_the_actors_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    asked = loop.submit(keeper.ask_async(Note(value="asked"), timeout=5)).result(5)

    assert asked == ["asked"]
    assert journal.of("note")[0][2] == "actor:/keeper"


def test_a_message_from_the_loop_never_overtakes_one_queued_before_it(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    def send() -> None:
        keeper.tell(Slow(value="first", seconds=0.05))
        for index in range(20):
            keeper.tell(Note(value=str(index)))

    loop.call(send)
    journal.wait_count("end", count=21)

    order = [entry[1] for entry in journal.of("begin")]
    assert order == ["first", *(str(i) for i in range(20))]
    wait_parked(system)
    assert tell_from_loop(loop, journal, keeper, Note(value="later"))[-1] == "later", "idle again"


def test_the_actors_thread_waits_while_the_loop_handles_a_message_in_its_turn(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    def send() -> None:
        keeper.tell(Note(value="on-loop", hold=0.1))

    loop.call(send)
    journal.wait_count("begin", count=1)
    keeper.tell(Slow(value="meanwhile"))  # from this thread: queued for the actor's thread
    journal.wait_count("end", count=2)

    (on_loop_end,) = [e[2] for e in journal.of("end") if e[1] == "on-loop"]
    (slow_start,) = [e[2] for e in journal.of("slow")]
    assert slow_start >= on_loop_end, "the two handlers never ran at once"
    assert journal.of("note")[0][4] == ("on-loop",)


def test_a_handler_that_raises_on_the_loop_restarts_the_actor_and_the_message_is_retried(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)

    tell_from_loop(loop, journal, keeper, Note(value="bad", fail=True))

    journal.wait_count("start", count=2)  # restarted by its supervisor
    journal.wait_count("note", count=1)  # and the message handled again, on the new thread
    assert journal.of("note")[0][1:3] == ("bad", "actor:/keeper")
    snapshot = system.snapshot().find("/keeper")
    assert snapshot is not None
    assert snapshot.failures == 1
    wait_parked(system)
    assert tell_from_loop(loop, journal, keeper, Note(value="after")) == ["bad", "after"]


def test_a_stopping_actor_no_longer_handles_messages_on_the_loop(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    keeper = start(system, journal, loop)
    cell = system._cells["/keeper"]

    cell.close_intake()

    assert tell_from_loop(loop, journal, keeper, Note(value="late")) == []
    assert journal.of("note") == []
