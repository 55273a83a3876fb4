"""Addresses stay valid across restarts and say clearly when nothing can take a message."""

from __future__ import annotations

import pytest

from runtime import (
    ActorNotFound,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    Backoff,
    LifecycleState,
    Restart,
    SupervisorSpec,
)
from tests.runtime.fakes import (
    Boom,
    Crash,
    Journal,
    Note,
    Ping,
    Sleep,
    StopNow,
    eventually,
    recorder,
    restarts,
    state,
)


def test_an_address_names_a_path_and_compares_by_it(system: ActorSystem) -> None:
    root = system.address("/")
    sessions = root.child("sessions")
    assert sessions == system.address("/sessions")
    assert hash(sessions) == hash(system.address("/sessions"))
    assert sessions.child(42).path == "/sessions/42"
    assert sessions != "/sessions"
    assert repr(sessions) == "Address('/sessions')"


def test_an_address_survives_a_restart(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    a = system.address("/a")
    assert a.ask(Ping(), timeout=5) == "/a"
    with pytest.raises(Boom):
        a.ask(Crash(), timeout=5)
    assert a.ask(Ping(), timeout=5) == "/a"
    assert journal.count("start", "/a") == 2
    assert restarts(system, "/a") == 1


def test_an_address_made_before_start_reaches_the_actor(
    system: ActorSystem, journal: Journal
) -> None:
    early = system.address("/a")
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    assert early.ask(Ping(), timeout=5) == "/a"


def test_messages_sent_during_a_restart_reach_the_new_incarnation_in_order(
    system: ActorSystem, journal: Journal
) -> None:
    slow = SupervisorSpec(
        children=(recorder("a", journal),), backoff=Backoff(initial=0.3, maximum=0.3)
    )
    system.start(slow)
    a = system.address("/a")
    with pytest.raises(Boom):
        a.ask(Crash(), timeout=5)
    eventually(lambda: state(system, "/a") == LifecycleState.RESTARTING, what="restarting")
    for n in range(50):
        a.tell(Note(n=n))
    assert journal.count("start", "/a") == 1  # still waiting out the back-off
    journal.wait_count("note", 50, "/a")
    assert [e[3] for e in journal.of("note", "/a")] == list(range(50))
    entries = journal.entries
    restarted = entries.index(journal.of("start", "/a")[1])
    first_note = entries.index(journal.of("note", "/a")[0])
    assert restarted < first_note


def test_a_message_to_an_actor_stopped_for_good_is_dead_lettered(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal, restart=Restart.TEMPORARY),)))
    a = system.address("/a")
    a.tell(StopNow())
    eventually(lambda: state(system, "/a") == LifecycleState.STOPPED, what="stopped")
    a.tell(Note(n=1), correlation_id="too-late")
    [letter] = system.dead_letters.recent()
    assert (letter.message_type, letter.target, letter.reason) == ("Note", "/a", "actor stopped")
    assert letter.correlation_id == "too-late"
    with pytest.raises(ActorStopped):
        a.ask(Ping(), timeout=5)
    assert journal.count("note") == 0


def test_asking_an_unknown_path_raises_actor_not_found(system: ActorSystem) -> None:
    with pytest.raises(ActorNotFound, match="/nobody"):
        system.address("/nobody").ask(Ping(), timeout=5)


def test_telling_an_unknown_path_is_dead_lettered(system: ActorSystem) -> None:
    system.address("/nobody").tell(Ping(), correlation_id="c1")
    [letter] = system.dead_letters.recent()
    assert (letter.target, letter.reason, letter.correlation_id) == (
        "/nobody",
        "no such actor",
        "c1",
    )


def test_an_ask_without_a_reply_in_time_raises_ask_timeout(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    with pytest.raises(AskTimeout, match="/a"):
        system.address("/a").ask(Sleep(seconds=0.3), timeout=0.05)
