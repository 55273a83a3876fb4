"""Supervisors: strategies, restart types, intensity and escalation, back-off, order, poison."""

from __future__ import annotations

import threading
import time

import pytest

from runtime import (
    ActorStopped,
    ActorSystem,
    Backoff,
    ChildStartFailed,
    DeliveryFailed,
    LifecycleState,
    Restart,
    Strategy,
    SupervisorSpec,
    supervisor,
)
from tests.runtime.fakes import (
    Boom,
    Crash,
    Flaky,
    Forward,
    Journal,
    LogCapture,
    Note,
    Ping,
    Sleep,
    StopNow,
    Wait,
    eventually,
    recorder,
    relay,
    restarts,
    state,
)

ABC = ("/a", "/b", "/c")


def three(journal: Journal, strategy: Strategy) -> SupervisorSpec:
    return SupervisorSpec(
        children=tuple(recorder(name, journal) for name in "abc"), strategy=strategy
    )


def crash(system: ActorSystem, path: str) -> None:
    with pytest.raises(Boom):
        system.address(path).ask(Crash(), timeout=5)


def ping_all(system: ActorSystem, paths: tuple[str, ...] = ABC) -> None:
    for path in paths:
        assert system.address(path).ask(Ping(), timeout=5) == path


@pytest.mark.parametrize(
    ("strategy", "restarted"),
    [
        (Strategy.ONE_FOR_ONE, ("/b",)),
        (Strategy.ONE_FOR_ALL, ("/a", "/b", "/c")),
        (Strategy.REST_FOR_ONE, ("/b", "/c")),
    ],
)
def test_each_strategy_restarts_exactly_the_right_siblings(
    system: ActorSystem, journal: Journal, strategy: Strategy, restarted: tuple[str, ...]
) -> None:
    system.start(three(journal, strategy))
    crash(system, "/b")
    for path in restarted:
        journal.wait_count("start", 2, path)
    ping_all(system)
    starts = {path: journal.count("start", path) for path in ABC}
    assert starts == {path: 2 if path in restarted else 1 for path in ABC}
    assert {path: restarts(system, path) for path in ABC} == {
        path: 1 if path in restarted else 0 for path in ABC
    }


def test_one_for_all_stops_the_siblings_in_reverse_and_restarts_all_in_order(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(three(journal, Strategy.ONE_FOR_ALL))
    journal.wait_count("start", 3)
    crash(system, "/b")
    journal.wait_count("start", 6)
    after = [(e[0], e[1]) for e in journal.entries[3:] if e[0] in {"start", "stop"}]
    assert after == [
        ("stop", "/b"),
        ("stop", "/c"),
        ("stop", "/a"),
        ("start", "/a"),
        ("start", "/b"),
        ("start", "/c"),
    ]


def test_siblings_restarted_with_a_failed_child_first_handle_their_queued_messages(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(three(journal, Strategy.ONE_FOR_ALL))
    c = system.address("/c")
    c.tell(Sleep(seconds=0.1))
    for n in range(5):
        c.tell(Note(n=n))
    crash(system, "/a")
    journal.wait_count("start", 2, "/c")
    ping_all(system)
    assert [e[3] for e in journal.of("note", "/c")] == list(range(5))


def test_a_permanent_child_is_restarted_after_a_normal_stop(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, restart=Restart.PERMANENT),)))
    system.address("/a").tell(StopNow())
    journal.wait_count("start", 2)
    assert system.address("/a").ask(Ping(), timeout=5) == "/a"


def test_a_transient_child_is_restarted_after_a_failure(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, restart=Restart.TRANSIENT),)))
    crash(system, "/a")
    assert system.address("/a").ask(Ping(), timeout=5) == "/a"
    assert restarts(system, "/a") == 1


def test_a_transient_child_stays_stopped_after_a_normal_stop(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, restart=Restart.TRANSIENT),)))
    system.address("/a").tell(StopNow())
    eventually(lambda: state(system, "/a") == LifecycleState.STOPPED, what="stopped")
    with pytest.raises(ActorStopped):
        system.address("/a").ask(Ping(), timeout=5)
    assert journal.count("start") == 1


@pytest.mark.parametrize("ending", ["crash", "stop"])
def test_a_temporary_child_is_never_restarted(
    system: ActorSystem, journal: Journal, ending: str
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, restart=Restart.TEMPORARY),)))
    a = system.address("/a")
    if ending == "crash":
        a.tell(Crash())
    else:
        a.tell(StopNow())
    eventually(lambda: state(system, "/a") == LifecycleState.STOPPED, what="stopped")
    with pytest.raises(ActorStopped):
        a.ask(Ping(), timeout=5)
    assert journal.count("start") == 1
    assert restarts(system, "/a") == 0


def test_past_its_intensity_a_supervisor_escalates_and_its_parent_restarts_the_subtree(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    inner = SupervisorSpec(
        children=(recorder("w1", journal), recorder("w2", journal)),
        max_restarts=1,
        within_seconds=30,
    )
    system.start(SupervisorSpec(children=(supervisor("sub", inner),), max_restarts=5))
    crash(system, "/sub/w1")
    journal.wait_count("start", 2, "/sub/w1")
    crash(system, "/sub/w1")
    journal.wait_count("start", 2, "/sub/w2")  # only a restart of /sub restarts w2
    journal.wait_count("start", 3, "/sub/w1")
    ping_all(system, ("/sub/w1", "/sub/w2"))
    assert restarts(system, "/sub") == 1
    assert system.exit_code == 0
    assert logs.matching(
        "escalating: /sub: more than 1 restarts in 30s (last: /sub/w1, Boom: boom)"
    )
    # The restarted supervisor starts over with a fresh intensity budget.
    crash(system, "/sub/w1")
    journal.wait_count("start", 4, "/sub/w1")
    assert restarts(system, "/sub") == 1


def test_messages_sent_to_a_subtree_waiting_to_restart_reach_its_new_incarnations(
    system: ActorSystem, journal: Journal
) -> None:
    inner = SupervisorSpec(
        children=(recorder("w1", journal), recorder("w2", journal)), max_restarts=0
    )
    system.start(
        SupervisorSpec(
            children=(supervisor("sub", inner),), backoff=Backoff(initial=0.3, maximum=0.3)
        )
    )
    crash(system, "/sub/w1")
    eventually(lambda: state(system, "/sub") == LifecycleState.RESTARTING, what="restarting")
    w2 = system.address("/sub/w2")
    for n in range(10):
        w2.tell(Note(n=n))
    journal.wait_count("note", 10)
    assert [e[3] for e in journal.of("note")] == list(range(10))
    assert journal.count("start", "/sub/w2") == 2  # handled by the new incarnation


def test_a_removed_subtree_dead_letters_what_is_sent_to_its_children(
    system: ActorSystem, journal: Journal
) -> None:
    inner = SupervisorSpec(children=(recorder("w", journal),), max_restarts=0)
    system.start(SupervisorSpec(children=(supervisor("sub", inner, restart=Restart.TEMPORARY),)))
    crash(system, "/sub/w")  # /sub gives up at once and, being temporary, is not restarted
    eventually(lambda: state(system, "/sub") == LifecycleState.STOPPED, what="/sub stopped")
    assert state(system, "/sub/w") == LifecycleState.STOPPED
    with pytest.raises(ActorStopped):
        system.address("/sub/w").ask(Ping(), timeout=5)


def test_restarts_older_than_the_intensity_window_are_forgotten(
    system: ActorSystem, journal: Journal
) -> None:
    spec = SupervisorSpec(children=(recorder("a", journal),), max_restarts=1, within_seconds=0.2)
    system.start(spec)
    crash(system, "/a")
    time.sleep(0.3)  # the window is a time span: this much has to pass
    crash(system, "/a")
    assert system.address("/a").ask(Ping(), timeout=5) == "/a"
    assert restarts(system, "/a") == 2
    assert system.exit_code == 0


@pytest.mark.parametrize("names", [("a", "a"), ("a", ""), ("a", "b/c")])
def test_child_names_must_be_distinct_path_segments(
    journal: Journal, names: tuple[str, str]
) -> None:
    with pytest.raises(ValueError, match="child name"):
        SupervisorSpec(children=tuple(recorder(name, journal) for name in names))


def test_when_the_root_gives_up_the_system_stops_with_exit_status_one(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),), max_restarts=1))
    crash(system, "/a")
    journal.wait_count("start", 2)
    crash(system, "/a")
    assert system.wait(timeout=10)
    assert system.exit_code == 1
    assert "more than 1 restarts" in system.exit_reason
    line = logs.wait_for("root supervisor gave up")
    assert line.startswith("CRITICAL")
    assert "(last: /a, Boom: boom)" in line
    system.shutdown()
    assert state(system, "/a") == LifecycleState.STOPPED


def test_after_the_root_gave_up_messages_to_its_children_are_dead_lettered(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),), max_restarts=0))
    crash(system, "/a")
    assert system.wait(timeout=10)
    system.shutdown()
    with pytest.raises(ActorStopped):
        system.address("/a").ask(Ping(), timeout=1)


def test_a_child_that_keeps_failing_to_restart_exhausts_the_intensity(
    system: ActorSystem, journal: Journal
) -> None:
    broken = threading.Event()
    spec = SupervisorSpec(children=(recorder("a", journal, start_fails=broken),), max_restarts=3)
    system.start(spec)
    broken.set()
    crash(system, "/a")
    assert system.wait(timeout=10)
    assert system.exit_code == 1
    assert journal.count("start", "/a") == 4  # the first start, then three failed restarts


def test_back_off_delays_grow_between_restarts(system: ActorSystem, journal: Journal) -> None:
    backoff = Backoff(initial=0.05, factor=2.0, maximum=1.0)
    spec = SupervisorSpec(
        children=(recorder("a", journal, poison_after=4),), backoff=backoff, max_restarts=10
    )
    system.start(spec)
    system.address("/a").tell(Crash())  # retried by each incarnation until poison
    journal.wait_count("start", 5, "/a")
    crashes = [e[2] for e in journal.of("crash", "/a")]
    starts = [e[2] for e in journal.of("start", "/a")]
    gaps = [start - crashed for crashed, start in zip(crashes, starts[1:], strict=True)]
    expected = [backoff.delay(n) for n in range(1, 5)]
    assert expected == [0.05, 0.1, 0.2, 0.4]
    for gap, delay in zip(gaps, expected, strict=True):
        assert delay <= gap < delay + 1.0
    assert gaps == sorted(gaps)


def test_back_off_is_capped_at_its_maximum() -> None:
    backoff = Backoff(initial=1.0, factor=10.0, maximum=5.0)
    assert [backoff.delay(n) for n in (0, 1, 2, 3)] == [1.0, 1.0, 5.0, 5.0]


def test_children_start_in_order_and_stop_in_reverse(system: ActorSystem, journal: Journal) -> None:
    inner = SupervisorSpec(children=(recorder("b", journal), recorder("c", journal)))
    system.start(
        SupervisorSpec(
            children=(recorder("a", journal), supervisor("sub", inner), recorder("d", journal))
        )
    )
    system.shutdown()
    events = [(e[0], e[1]) for e in journal.entries]
    assert events == [
        ("start", "/a"),
        ("start", "/sub/b"),
        ("start", "/sub/c"),
        ("start", "/d"),
        ("stop", "/d"),
        ("stop", "/sub/c"),
        ("stop", "/sub/b"),
        ("stop", "/a"),
    ]


def test_a_child_that_cannot_drain_within_its_shutdown_timeout_is_cut_short(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, shutdown_timeout=0.2),)))
    a = system.address("/a")
    for _ in range(50):
        a.tell(Sleep(seconds=0.05))  # 2.5 s of work queued
    started = time.monotonic()
    system.shutdown()
    assert time.monotonic() - started < 1.5
    assert logs.matching("/a did not stop within 0.2s")
    handled = journal.count("slept")
    assert 1 <= handled < 50
    # What was not handled is dead-lettered, not lost.
    letters = [d for d in system.dead_letters.recent() if d.message_type == "Sleep"]
    assert len(letters) == 50 - handled
    assert {d.reason for d in letters} == {"actor stopped"}


def test_a_slow_on_stop_is_reported_and_its_siblings_are_still_stopped(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    system.start(
        SupervisorSpec(
            children=(
                recorder("a", journal),
                recorder("b", journal, shutdown_timeout=0.1, stop_delay=0.5),
            )
        )
    )
    system.shutdown()
    assert logs.matching("/b did not stop within 0.1s")
    assert [(e[0], e[1]) for e in journal.of("stop")] == [("stop", "/b"), ("stop", "/a")]


def test_a_restart_drops_only_the_failing_message_and_keeps_the_mailbox(
    system: ActorSystem, journal: Journal
) -> None:
    gate = threading.Event()
    system.start(SupervisorSpec(children=(recorder("a", journal, gate=gate, poison_after=1),)))
    a = system.address("/a")
    a.tell(Wait())
    journal.wait_count("waiting", 1)
    a.tell(Note(n=1))
    a.tell(Crash(), correlation_id="bad")
    for n in range(2, 6):
        a.tell(Note(n=n))
    gate.set()
    journal.wait_count("note", 5)
    assert [e[3] for e in journal.of("note")] == [1, 2, 3, 4, 5]
    assert journal.count("crash") == 1
    [letter] = system.dead_letters.recent()
    assert (letter.message_type, letter.correlation_id) == ("Crash", "bad")
    assert letter.reason.startswith("poison")
    assert restarts(system, "/a") == 1


def test_a_failed_message_is_retried_by_the_next_incarnation_before_the_rest(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, poison_after=3),)))
    a = system.address("/a")
    a.tell(Flaky(failures=2), correlation_id="flaky")
    a.tell(Note(n=1))
    journal.wait_count("note", 1)
    attempts = [e[3] for e in journal.of("flaky")]
    assert attempts == [1, 2, 3]
    kinds = [e[0] for e in journal.entries if e[0] in {"flaky", "note"}]
    assert kinds == ["flaky", "flaky", "flaky", "note"]
    assert restarts(system, "/a") == 2
    assert system.dead_letters.recent() == ()


def test_a_poison_message_is_dead_lettered_and_its_sender_told(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(
        SupervisorSpec(
            children=(
                recorder("victim", journal, poison_after=3),
                relay("sender", journal, system, ("/victim",)),
            ),
            max_restarts=10,
        )
    )
    system.address("/sender").tell(Forward(to="victim", kind="crash"), correlation_id="p1")
    journal.wait_count("delivery_failed", 1, "/sender")
    assert journal.count("crash", "/victim") == 3
    [(_, _, notice)] = journal.of("delivery_failed")
    assert notice == DeliveryFailed(
        message_type="Crash",
        target="/victim",
        reason="poison: failed 3 times",
        correlation_id="p1",
    )
    [letter] = system.dead_letters.recent()
    assert (letter.message_type, letter.sender, letter.correlation_id) == ("Crash", "/sender", "p1")
    assert system.address("/victim").ask(Ping(), timeout=5) == "/victim"
    assert restarts(system, "/victim") == 3


def test_an_asked_message_that_fails_is_not_retried(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    crash(system, "/a")
    assert system.address("/a").ask(Ping(), timeout=5) == "/a"
    assert journal.count("crash") == 1


def test_a_child_failing_in_on_start_fails_the_start_of_its_supervisor(
    system: ActorSystem, journal: Journal
) -> None:
    spec = SupervisorSpec(
        children=(
            recorder("a", journal),
            recorder("b", journal, fail_on_start=True),
            recorder("c", journal),
        )
    )
    with pytest.raises(ChildStartFailed, match=r"/b failed to start \(Boom: /b cannot start\)"):
        system.start(spec)
    events = [(e[0], e[1]) for e in journal.entries]
    assert events == [("start", "/a"), ("start", "/b"), ("stop", "/b"), ("stop", "/a")]


def test_a_grandchild_failing_in_on_start_fails_the_whole_start(
    system: ActorSystem, journal: Journal
) -> None:
    inner = SupervisorSpec(children=(recorder("b", journal, fail_on_start=True),))
    spec = SupervisorSpec(children=(recorder("a", journal), supervisor("sub", inner)))
    with pytest.raises(ChildStartFailed, match="/sub/b failed to start"):
        system.start(spec)
    assert [(e[0], e[1]) for e in journal.of("stop")] == [("stop", "/sub/b"), ("stop", "/a")]
