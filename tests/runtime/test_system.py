"""The system's lifecycle: start once, shut down in reverse after draining, leave no thread."""

from __future__ import annotations

import threading
import time

import pytest

from runtime import (
    ActorStopped,
    ActorSystem,
    ActorSystemError,
    ChildStartFailed,
    LifecycleState,
    SupervisorSpec,
    supervisor,
)
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import Journal, LogCapture, Note, Ping, Sleep, recorder, state


def abc(journal: Journal) -> SupervisorSpec:
    return SupervisorSpec(children=tuple(recorder(name, journal) for name in "abc"))


def test_the_system_is_a_context_manager_that_shuts_down_on_exit(journal: Journal) -> None:
    before = set(threading.enumerate())
    with ActorSystem() as system:
        system.start(abc(journal))
        assert system.address("/a").ask(Ping(), timeout=5) == "/a"
        assert len(leftover_threads(before)) == 5  # root, a, b, c, timers
    assert leftover_threads(before) == []
    assert [e[1] for e in journal.of("stop")] == ["/c", "/b", "/a"]
    assert system.exit_code == 0


def test_leaving_the_block_by_an_exception_still_shuts_down(journal: Journal) -> None:
    before = set(threading.enumerate())

    def run() -> None:
        with ActorSystem() as system:
            system.start(abc(journal))
            raise KeyError("boom")

    with pytest.raises(KeyError):
        run()
    assert leftover_threads(before) == []
    assert journal.count("stop") == 3


def test_shutdown_handles_queued_messages_before_stopping(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(abc(journal))
    for path in ("/a", "/b", "/c"):
        for n in range(20):
            system.address(path).tell(Sleep(seconds=0.002) if n % 2 else Note(n=n))
    system.shutdown(timeout=10)
    assert journal.count("note") == 30
    assert journal.count("slept") == 30
    assert system.dead_letters.recent() == ()


def test_shutdown_gives_up_draining_at_its_timeout_and_leaves_no_thread(
    journal: Journal, logs: LogCapture
) -> None:
    before = set(threading.enumerate())
    system = ActorSystem()
    inner = SupervisorSpec(children=(recorder("b", journal, shutdown_timeout=30.0),))
    system.start(
        SupervisorSpec(
            children=(recorder("a", journal, shutdown_timeout=30.0), supervisor("sub", inner))
        )
    )
    for path in ("/a", "/sub/b"):
        for _ in range(100):
            system.address(path).tell(Sleep(seconds=0.02))  # 2 s of work each
    started = time.monotonic()
    system.shutdown(timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert leftover_threads(before) == []
    handled = journal.count("slept")
    letters = [d for d in system.dead_letters.recent() if d.message_type == "Sleep"]
    assert handled < 100
    assert handled + len(letters) == 200  # what was not handled is dead-lettered, not lost
    assert logs.matching("did not stop within")


def test_shutdown_stops_actors_in_reverse_start_order(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(abc(journal))
    system.shutdown()
    assert [(e[0], e[1]) for e in journal.entries] == [
        ("start", "/a"),
        ("start", "/b"),
        ("start", "/c"),
        ("stop", "/c"),
        ("stop", "/b"),
        ("stop", "/a"),
    ]


def test_after_shutdown_every_actor_is_stopped_and_refuses_messages(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    system.start(abc(journal))
    system.shutdown()
    assert all(node.state == LifecycleState.STOPPED for _, node in system.snapshot().walk())
    with pytest.raises(ActorStopped):
        system.address("/b").ask(Ping(), timeout=1)
    assert logs.matching("actor system stopped (shutdown)")


def test_shutdown_is_idempotent(system: ActorSystem, journal: Journal) -> None:
    system.start(abc(journal))
    system.shutdown()
    system.shutdown()
    assert journal.count("stop") == 3


def test_a_system_cannot_be_started_twice(system: ActorSystem, journal: Journal) -> None:
    system.start(abc(journal))
    with pytest.raises(ActorSystemError, match="started once"):
        system.start(abc(journal))


def test_a_shut_down_system_cannot_be_started_again(journal: Journal) -> None:
    system = ActorSystem()
    system.shutdown()
    with pytest.raises(ActorSystemError, match="started once"):
        system.start(abc(journal))


def test_a_failed_start_stops_what_started_and_leaves_no_thread(journal: Journal) -> None:
    before = set(threading.enumerate())
    system = ActorSystem()
    spec = SupervisorSpec(
        children=(recorder("a", journal), recorder("b", journal, fail_on_start=True))
    )
    with pytest.raises(ChildStartFailed):
        system.start(spec)
    assert leftover_threads(before) == []
    assert state(system, "/a") == LifecycleState.STOPPED


def test_request_shutdown_releases_wait_with_exit_status_zero(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(abc(journal))
    assert system.wait(timeout=0.01) is False
    signal = threading.Thread(target=system.request_shutdown, args=("SIGTERM",))
    signal.start()
    assert system.wait(timeout=10) is True
    signal.join()
    assert (system.exit_code, system.exit_reason) == (0, "SIGTERM")


def test_correlation_ids_are_unique(system: ActorSystem) -> None:
    ids = {system.new_correlation_id() for _ in range(1000)}
    assert len(ids) == 1000
