"""The actor base: typed dispatch, dead letters for unknown types, live figures, hooks."""

from __future__ import annotations

import threading
import time
from functools import partial

import msgspec
import pytest

from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    ChildSpec,
    ChildStartFailed,
    DeliveryFailed,
    LifecycleState,
    SupervisorSpec,
    UnhandledMessage,
    receive,
)
from runtime._stats import RECENT_TYPES
from tests.runtime.fakes import (
    Boom,
    Crash,
    Journal,
    Left,
    LogCapture,
    Note,
    Ping,
    Right,
    Secret,
    Sleep,
    StopNow,
    Unknown,
    Wait,
    recorder,
    state,
)


class TwoParameters(Actor):
    @receive
    def on_pair(self, first: Left, second: Right) -> None:
        """Not a valid handler: a handler takes exactly one message."""


class GenericAnnotation(Actor):
    @receive
    def on_numbers(self, message: list[int]) -> None:
        """Not a valid handler: dispatch needs a class, not a generic alias."""


class Quiet(Actor):
    """Keeps the base class's handling of DeliveryFailed."""


class Later(Actor):
    """Schedules messages to itself with ``tell_later``."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self.journal = journal

    @receive
    def on_ping(self, message: Ping) -> None:
        self.context.tell_later(0.05, Note(n=1))
        self.context.tell_later(0.05, Note(n=2)).cancel()
        self.context.tell_later(0.1, Note(n=3))

    @receive
    def on_note(self, message: Note) -> None:
        from runtime import current_correlation_id  # noqa: PLC0415

        self.journal.record("note", message.n, current_correlation_id(), time.monotonic())


def start_one(
    system: ActorSystem, journal: Journal, *, fail_on_start: bool = False, stop_error: bool = False
) -> None:
    spec = recorder("a", journal, fail_on_start=fail_on_start, stop_error=stop_error)
    system.start(SupervisorSpec(children=(spec,)))


def test_each_message_type_goes_to_its_handler(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    a = system.address("/a")
    assert a.ask(Ping(), timeout=5) == "/a"
    assert a.ask(Note(n=5), timeout=5) == 5
    assert a.ask(Sleep(seconds=0), timeout=5) == 0


def test_a_union_annotation_dispatches_each_member(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    a = system.address("/a")
    assert a.ask(Left(text="x"), timeout=5) == "Left"
    assert a.ask(Right(number=1), timeout=5) == "Right"


def test_a_handler_with_two_message_parameters_is_refused_at_start(
    system: ActorSystem,
) -> None:
    spec = SupervisorSpec(children=(ChildSpec(name="bad", factory=TwoParameters),))
    with pytest.raises(ChildStartFailed, match="exactly one message param"):
        system.start(spec)


def test_a_handler_annotated_with_something_other_than_a_class_is_refused_at_start(
    system: ActorSystem,
) -> None:
    spec = SupervisorSpec(children=(ChildSpec(name="bad", factory=GenericAnnotation),))
    with pytest.raises(ChildStartFailed, match="cannot dispatch on annotation"):
        system.start(spec)


def test_by_default_a_delivery_failure_is_logged(system: ActorSystem, logs: LogCapture) -> None:
    system.start(SupervisorSpec(children=(ChildSpec(name="q", factory=Quiet),)))
    notice = DeliveryFailed(
        message_type="Note", target="/gone", reason="actor stopped", correlation_id="c"
    )
    system.address("/q").tell(notice)
    logs.wait_for("Quiet(/q): Note to /gone failed: actor stopped")


def test_an_unknown_control_item_is_logged_and_ignored(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    start_one(system, journal)
    system._cells["/a"].post("not a control item")
    assert system.address("/a").ask(Ping(), timeout=5) == "/a"
    assert logs.matching("Recorder(/a) ignored control item 'not a control item'")


def test_an_unknown_message_type_is_dead_lettered_with_a_log_line(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    start_one(system, journal)
    a = system.address("/a")
    a.tell(Unknown(), correlation_id="lost-1")
    a.ask(Ping(), timeout=5)
    [letter] = system.dead_letters.recent()
    assert (letter.message_type, letter.target, letter.reason) == ("Unknown", "/a", "no handler")
    assert letter.correlation_id == "lost-1"
    assert logs.matching("dead letter: Unknown to /a (no handler) cid=lost-1")


def test_asking_with_an_unknown_message_type_raises_unhandled_message(
    system: ActorSystem, journal: Journal
) -> None:
    start_one(system, journal)
    a = system.address("/a")
    with pytest.raises(UnhandledMessage, match="Unknown"):
        a.ask(Unknown(), timeout=5)
    # An unhandled message is not a failure: the same incarnation carries on.
    assert a.ask(Ping(), timeout=5) == "/a"
    node = system.snapshot().find("/a")
    assert node is not None
    assert (node.failures, node.restarts) == (0, 0)


def test_the_exception_a_handler_raises_reaches_the_asker(
    system: ActorSystem, journal: Journal
) -> None:
    start_one(system, journal)
    with pytest.raises(Boom, match="kaput"):
        system.address("/a").ask(Crash(reason="kaput"), timeout=5)


def test_figures_count_processed_messages_and_time_them(
    system: ActorSystem, journal: Journal
) -> None:
    start_one(system, journal)
    a = system.address("/a")
    node = system.snapshot().find("/a")
    assert node is not None
    assert node.processed == 0
    assert node.since_last_message_s is None
    assert node.state == LifecycleState.RUNNING
    for _ in range(9):
        a.ask(Ping(), timeout=5)
    a.ask(Sleep(seconds=0.05), timeout=5)
    node = system.snapshot().find("/a")
    assert node is not None
    assert node.processed == 10
    assert node.p50_ms < 40.0
    assert 45.0 <= node.p99_ms < 2000.0
    assert node.since_last_message_s is not None
    assert 0.0 <= node.since_last_message_s < 5.0


def test_time_since_last_message_grows_while_idle(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    system.address("/a").ask(Ping(), timeout=5)
    first = system.snapshot().find("/a")
    time.sleep(0.05)
    later = system.snapshot().find("/a")
    assert first is not None
    assert later is not None
    assert first.since_last_message_s is not None
    assert later.since_last_message_s is not None
    assert later.since_last_message_s >= first.since_last_message_s + 0.04


def test_recent_message_types_are_kept_with_times_but_never_contents(
    system: ActorSystem, journal: Journal
) -> None:
    start_one(system, journal)
    a = system.address("/a")
    before = time.time()
    a.tell(Secret(text="my password is hunter2"))
    a.ask(Note(n=1), timeout=5)
    node = system.snapshot().find("/a")
    assert node is not None
    assert [stamp.type for stamp in node.recent] == ["Secret", "Note"]
    assert all(before <= stamp.at <= time.time() for stamp in node.recent)
    assert b"hunter2" not in msgspec.json.encode(system.snapshot())


def test_recent_message_types_keep_only_the_last_few(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    a = system.address("/a")
    for n in range(RECENT_TYPES + 5):
        a.tell(Note(n=n))
    a.ask(Ping(), timeout=5)
    node = system.snapshot().find("/a")
    assert node is not None
    assert len(node.recent) == RECENT_TYPES
    assert node.recent[-1].type == "Ping"


def test_mailbox_depth_counts_messages_waiting(system: ActorSystem, journal: Journal) -> None:
    gate = threading.Event()
    system.start(SupervisorSpec(children=(recorder("a", journal, gate=gate),)))
    a = system.address("/a")
    a.tell(Wait())
    journal.wait_count("waiting", 1)
    for n in range(5):
        a.tell(Note(n=n))
    node = system.snapshot().find("/a")
    assert node is not None
    assert node.mailbox_depth == 5
    gate.set()
    a.ask(Ping(), timeout=5)
    node = system.snapshot().find("/a")
    assert node is not None
    assert node.mailbox_depth == 0


def test_a_failure_is_counted_and_described(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    a = system.address("/a")
    with pytest.raises(Boom):
        a.ask(Crash(reason="disk full"), timeout=5)
    a.ask(Ping(), timeout=5)
    node = system.snapshot().find("/a")
    assert node is not None
    assert node.failures == 1
    assert node.last_failure is not None
    assert (node.last_failure.type, node.last_failure.message) == ("Boom", "disk full")


def test_on_stop_runs_after_a_crash(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    a = system.address("/a")
    with pytest.raises(Boom):
        a.ask(Crash(), timeout=5)
    a.ask(Ping(), timeout=5)
    kinds = [e[0] for e in journal.entries if e[0] in {"start", "crash", "stop"}]
    assert kinds == ["start", "crash", "stop", "start"]


def test_on_stop_runs_after_on_start_failed(system: ActorSystem, journal: Journal) -> None:
    with pytest.raises(ChildStartFailed):
        start_one(system, journal, fail_on_start=True)
    assert [e[0] for e in journal.entries] == ["start", "stop"]


def test_a_failing_on_stop_is_logged_and_the_actor_still_ends(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    start_one(system, journal, stop_error=True)
    a = system.address("/a")
    with pytest.raises(Boom):
        a.ask(Crash(), timeout=5)
    assert a.ask(Ping(), timeout=5) == "/a"
    assert logs.matching("on_stop failed")
    assert journal.count("start") == 2


def test_stopping_itself_ends_the_incarnation_after_queued_messages(
    system: ActorSystem, journal: Journal
) -> None:
    start_one(system, journal)
    a = system.address("/a")
    a.tell(StopNow())
    a.tell(Note(n=1))
    journal.wait_count("start", 2)
    assert a.ask(Ping(), timeout=5) == "/a"
    kinds = [e[0] for e in journal.entries if e[0] in {"start", "stop", "note"}]
    # The permanent child is restarted; the note queued behind the stop is not lost.
    assert kinds in (["start", "note", "stop", "start"], ["start", "stop", "start", "note"])


def test_the_state_is_stopped_after_shutdown(system: ActorSystem, journal: Journal) -> None:
    start_one(system, journal)
    assert state(system, "/a") == LifecycleState.RUNNING
    system.shutdown()
    assert state(system, "/a") == LifecycleState.STOPPED
    assert state(system, "/") == LifecycleState.STOPPED


def test_tell_later_delivers_after_the_delay_with_the_correlation_id(
    system: ActorSystem, journal: Journal
) -> None:
    later = ChildSpec(name="l", factory=partial(Later, journal=journal))
    system.start(SupervisorSpec(children=(later,)))
    sent = time.monotonic()
    system.address("/l").tell(Ping(), correlation_id="later-1")
    journal.wait_count("note", 2)
    [(_, first, cid, at), (_, last, _, _)] = journal.of("note")
    assert (first, cid) == (1, "later-1")
    assert at - sent >= 0.05
    # The cancelled note (due before the last one) never came.
    assert last == 3


class Refuses(Actor):
    """Answers a Crash ask with Boom, which it declares to be the asker's business."""

    answered_errors = (Boom,)

    @receive
    def on_crash(self, message: Crash) -> None:
        raise Boom(message.reason)

    @receive
    def on_ping(self, _message: Ping) -> str:
        return "still here"


def test_an_answered_error_reaches_the_asker_and_the_actor_carries_on(
    system: ActorSystem,
) -> None:
    system.start(SupervisorSpec(children=(ChildSpec(name="r", factory=Refuses),)))
    r = system.address("/r")

    with pytest.raises(Boom, match="bad argument"):
        r.ask(Crash(reason="bad argument"), timeout=5)

    assert r.ask(Ping(), timeout=5) == "still here"
    node = system.snapshot().find("/r")
    assert node is not None
    assert (node.failures, node.restarts) == (0, 0)


def test_an_answered_error_in_a_tell_handler_still_fails_the_actor(system: ActorSystem) -> None:
    system.start(SupervisorSpec(children=(ChildSpec(name="r", factory=Refuses),)))
    r = system.address("/r")

    r.tell(Crash(reason="nobody to answer"))

    deadline = time.monotonic() + 5
    while (node := system.snapshot().find("/r")) is not None and node.failures == 0:
        assert time.monotonic() < deadline, "the tell never failed the actor"
        time.sleep(0.01)
