"""Messages of an actor's ``served_first`` types overtake what is queued, and only that."""

from __future__ import annotations

import threading
from functools import partial

from runtime import ActorSystem, ChildSpec, SupervisorSpec
from runtime._cell import Cell
from runtime._message import Envelope
from tests.runtime.fakes import Journal, Note, Ping, Recorder, Secret, Wait


class PingedFirst(Recorder):
    """A recorder that handles Ping and Secret before anything queued."""

    served_first = (Ping, Secret)


def envelope(message: Note | Ping | Secret) -> Envelope:
    return Envelope(message, "cid", None)


def test_a_message_served_first_overtakes_those_queued_before_it(
    system: ActorSystem, journal: Journal
) -> None:
    gate = threading.Event()
    spec = ChildSpec(name="a", factory=partial(PingedFirst, journal=journal, gate=gate))
    system.start(SupervisorSpec(children=(spec,)))
    a = system.address("/a")
    a.tell(Wait())
    journal.wait_count("waiting", 1)
    for n in range(3):
        a.tell(Note(n=n))
    a.tell(Secret(text="s"))
    a.tell(Ping())

    gate.set()
    journal.wait_count("note", 3)

    handled = [e[0] for e in journal.entries if e[0] in {"note", "ping", "secret"}]
    assert handled == ["secret", "ping", "note", "note", "note"]


def test_an_idle_actor_wakes_for_a_message_served_first(
    system: ActorSystem, journal: Journal
) -> None:
    spec = ChildSpec(name="a", factory=partial(PingedFirst, journal=journal))
    system.start(SupervisorSpec(children=(spec,)))

    assert system.address("/a").ask(Ping(), timeout=5) == "/a"
    assert system.address("/a").ask(Note(n=1), timeout=5) == 1


def test_the_mailbox_counts_each_waiting_message_once_and_empties() -> None:
    cell = Cell("/a", None)
    cell.first = frozenset({Ping})
    for message in (Note(n=1), Ping(), Note(n=2), Ping()):
        assert cell.deliver(envelope(message))
    assert cell.depth() == 4

    taken = [type(cell.take().message).__name__ for _ in range(4)]

    assert taken == ["Ping", "Ping", "Note", "Note"]
    assert cell.depth() == 0
    assert cell.close_intake_if_empty()


def test_a_message_served_first_arriving_while_the_actor_waits_is_taken_then() -> None:
    cell = Cell("/a", None)
    cell.first = frozenset({Ping})
    taken: list[object] = []
    waiting = threading.Thread(target=lambda: taken.append(cell.take().message))
    waiting.start()

    cell.deliver(envelope(Ping()))
    waiting.join(5)

    assert taken == [Ping()]
    cell.deliver(envelope(Note(n=1)))
    assert cell.take().message == Note(n=1)
    assert cell.depth() == 0


def test_draining_returns_messages_served_first_first_and_leaves_nothing() -> None:
    cell = Cell("/a", None)
    cell.first = frozenset({Ping})
    cell.deliver(envelope(Note(n=1)))
    cell.deliver(envelope(Ping()))
    cell.deliver(envelope(Ping()))
    assert isinstance(cell.take().message, Ping)  # its marker is still queued

    drained = [type(e.message).__name__ for e in cell.drain()]

    assert drained == ["Ping", "Note"]
    assert cell.depth() == 0
    assert cell.close_intake()
