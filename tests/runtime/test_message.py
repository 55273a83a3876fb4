"""Messages are frozen Structs that encode both ways; envelopes carry correlation and sender."""

from __future__ import annotations

import time

import msgspec
import pytest

from runtime import (
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    DeadLetter,
    DeliveryFailed,
    Message,
    SupervisorSpec,
    current_correlation_id,
)
from runtime._message import Envelope
from tests.runtime.fakes import (
    Forward,
    Journal,
    Note,
    Piper,
    RunCoroutine,
    Unknown,
    WhoAmI,
    recorder,
    relay,
)


class Order(Message, frozen=True, kw_only=True):
    """A message with nested and sequence fields, as real protocols have."""

    chat_id: int
    items: tuple[str, ...]
    note: Note | None = None
    price: float = 0.0


ORDER = Order(chat_id=42, items=("tea", "scone"), note=Note(n=7, origin="/x"), price=3.5)


def test_messages_are_immutable() -> None:
    with pytest.raises(AttributeError):
        ORDER.chat_id = 1  # type: ignore[misc]


def test_messages_take_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        Note(1)  # type: ignore[call-arg]


def test_equal_messages_compare_and_hash_equal() -> None:
    again = Order(chat_id=42, items=("tea", "scone"), note=Note(n=7, origin="/x"), price=3.5)
    assert again == ORDER
    assert hash(again) == hash(ORDER)


@pytest.mark.parametrize(
    "message",
    [
        ORDER,
        Note(n=1),
        DeliveryFailed(
            message_type="Note", target="/a", reason="actor stopped", correlation_id="c"
        ),
        DeadLetter(message_type="Note", target="/a", reason="r", at=1.5, correlation_id="c"),
    ],
)
def test_messages_round_trip_through_json_and_msgpack(message: Message) -> None:
    kind = type(message)
    assert msgspec.json.decode(msgspec.json.encode(message), type=kind) == message
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(message), type=kind) == message


def test_an_envelope_records_correlation_sender_and_enqueue_time() -> None:
    before = time.time()
    envelope = Envelope(Note(n=1), "cid-1", "/sender")
    assert envelope.correlation_id == "cid-1"
    assert envelope.sender == "/sender"
    assert before <= envelope.enqueued_at <= time.time()
    assert envelope.attempts == 0
    assert "Note" in repr(envelope)
    assert "cid-1" in repr(envelope)


def test_sending_something_that_is_not_a_message_is_refused(system: ActorSystem) -> None:
    address = system.address("/anyone")
    with pytest.raises(TypeError, match=r"runtime\.Message"):
        address.tell({"text": "hi"})  # type: ignore[arg-type]


def test_there_is_no_correlation_id_outside_a_handler() -> None:
    assert current_correlation_id() is None


def test_each_request_from_outside_gets_a_fresh_correlation_id(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    a = system.address("/a")
    first = a.ask(WhoAmI(), timeout=5)
    second = a.ask(WhoAmI(), timeout=5)
    assert first[0] == "/a"
    assert first[1] is not None
    assert second[1] is not None
    assert first[1] != second[1]


def test_the_correlation_id_follows_a_request_across_two_actors(
    system: ActorSystem, journal: Journal
) -> None:
    system.start(
        SupervisorSpec(children=(recorder("b", journal), relay("a", journal, system, ("/b",))))
    )
    system.address("/a").tell(Forward(to="b", n=1), correlation_id="request-17")
    system.address("/a").tell(Forward(to="b", n=2))
    journal.wait_count("note", 2, "/b")
    forwarded = journal.of("forwarded", "/a")
    notes = journal.of("note", "/b")
    assert forwarded[0][4] == "request-17"
    assert notes[0][4] == "request-17"
    # Without an explicit id, the relay's fresh id is the one the second actor sees.
    assert notes[1][4] == forwarded[1][4] != "request-17"


def test_the_sender_is_the_actor_whose_handler_told(system: ActorSystem, journal: Journal) -> None:
    system.start(
        SupervisorSpec(children=(recorder("b", journal), relay("a", journal, system, ("/b",))))
    )
    system.address("/a").tell(Forward(to="b", kind="unknown"), correlation_id="from-a")
    system.address("/b").tell(Unknown(), correlation_id="from-test")
    system.address("/a").ask(WhoAmI(), timeout=5)
    system.address("/b").ask(WhoAmI(), timeout=5)
    senders = {d.correlation_id: d.sender for d in system.dead_letters.recent()}
    assert senders == {"from-a": "/a", "from-test": None}


def test_the_correlation_id_reaches_coroutines_and_their_piped_results(
    system: ActorSystem, journal: Journal, async_loop: AsyncLoop
) -> None:
    spec = ChildSpec(name="piper", factory=lambda c: Piper(c, journal, async_loop))
    system.start(SupervisorSpec(children=(spec,)))
    system.address("/piper").tell(RunCoroutine(value="v"), correlation_id="req-9")
    journal.wait_count("piped", 1)
    assert journal.of("coroutine") == [("coroutine", "v", "req-9")]
    assert journal.of("piped") == [("piped", "v", "req-9")]
