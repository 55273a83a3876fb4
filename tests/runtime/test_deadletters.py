"""The dead-letter office keeps a bounded ring of what could not be delivered."""

from __future__ import annotations

import time

import msgspec

from runtime import ActorSystem, DeadLetter, SupervisorSpec
from runtime._deadletters import DeadLetters
from tests.runtime.fakes import Journal, LogCapture, Note, Ping, Secret, Unknown, recorder


def record(letters: DeadLetters, n: int) -> DeadLetter:
    return letters.record(
        message_type=f"Type{n}",
        target="/a",
        reason="no handler",
        correlation_id=f"c{n}",
        sender=None,
    )


def test_the_ring_keeps_only_the_newest_letters_up_to_its_capacity() -> None:
    letters = DeadLetters(capacity=3)
    for n in range(5):
        record(letters, n)
    assert [d.correlation_id for d in letters.recent()] == ["c2", "c3", "c4"]
    assert [d.correlation_id for d in letters.recent(2)] == ["c3", "c4"]
    assert letters.total == 5


def test_an_empty_ring_has_no_letters() -> None:
    letters = DeadLetters(capacity=3)
    assert letters.recent() == ()
    assert letters.total == 0


def test_a_dead_letter_records_type_target_reason_time_and_sender() -> None:
    letters = DeadLetters()
    before = time.time()
    letter = letters.record(
        message_type="Note", target="/b", reason="actor stopped", correlation_id="c", sender="/a"
    )
    assert (letter.message_type, letter.target, letter.reason) == ("Note", "/b", "actor stopped")
    assert (letter.correlation_id, letter.sender) == ("c", "/a")
    assert before <= letter.at <= time.time()
    assert letters.recent() == (letter,)


def test_each_dead_letter_is_logged(logs: LogCapture) -> None:
    record(DeadLetters(), 1)
    assert logs.matching("WARNING dead letter: Type1 to /a (no handler) cid=c1")


def test_the_system_ring_is_bounded_and_readable_through_the_snapshot() -> None:
    with ActorSystem(dead_letter_capacity=4) as system:
        for n in range(10):
            system.address("/nobody").tell(Note(n=n), correlation_id=f"c{n}")
        snapshot = system.snapshot(dead_letters=3)
        assert snapshot.dead_letter_total == 10
        assert [d.correlation_id for d in snapshot.dead_letters] == ["c7", "c8", "c9"]
        assert len(system.snapshot(dead_letters=100).dead_letters) == 4


def test_a_dead_letter_never_holds_the_message_contents(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    system.address("/nobody").tell(Secret(text="hunter2"))
    system.address("/a").tell(Unknown())
    system.address("/a").ask(Ping(), timeout=5)
    letters = system.dead_letters.recent()
    assert [d.message_type for d in letters] == ["Secret", "Unknown"]
    assert b"hunter2" not in msgspec.json.encode(letters)
