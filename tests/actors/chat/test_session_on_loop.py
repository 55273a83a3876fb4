"""A chat session deciding its common path on the event loop: real sessions, storage, loop.

The session lets the loop handle a known user's text and the answer's outcome while its
thread waits for work (``Actor.serve_idle_on_loop``); anything that would ask storage
stays on its thread. "Handled on the loop" is seen as handled within the sender's call:
the session's count of processed messages has grown by the time ``tell`` returns.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.chat import texts
from actors.chat.messages import AnswerDone, IncomingText, UserRef
from actors.chat.session import SessionSettings
from actors.llm.provider import Generate
from actors.telegram.messages import SendText, UpdateHandled
from actors.usage import Tier, UsagePolicy
from runtime import ActorSystem, Address, AsyncLoop, Message
from tests.actors.admin.test_actor import Journal
from tests.actors.chat.world import Recorder, sessions_world

ADA = UserRef(id=1000, first_name="Ada")  # an admin: let in without asking anyone
BOB = UserRef(id=2000, first_name="Bob")  # unknown: storage must be asked
SETTINGS = SessionSettings(
    admin_ids=frozenset({ADA.id}),
    default_provider="deepseek",
    provider_models={"deepseek": "deepseek-chat"},
    system_prompt="Be brief.",
)
WITH_TIERS = dataclasses.replace(
    SETTINGS,
    usage=UsagePolicy(
        tiers={"free": Tier(name="free", title="Free", daily_tokens=None, monthly_tokens=None)},
        default_tier="free",
        reserve_output_tokens=10,
    ),
)


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def loop() -> Iterator[AsyncLoop]:
    with AsyncLoop() as running:
        yield running


def world(
    tmp_path: Path, journal: Journal, loop: AsyncLoop, settings: SessionSettings
) -> Iterator[ActorSystem]:
    recorder = partial(Recorder, journal=journal)
    with sessions_world(tmp_path / "b.db", settings, recorder, loop=loop) as system:
        yield system


@pytest.fixture
def system(tmp_path: Path, journal: Journal, loop: AsyncLoop) -> Iterator[ActorSystem]:
    yield from world(tmp_path, journal, loop, SETTINGS)


def text(user: UserRef, words: str, update_id: int) -> IncomingText:
    return IncomingText(
        update_id=update_id,
        chat_id=user.id,
        chat_kind="private",
        message_id=update_id,
        user=user,
        text=words,
    )


def processed(system: ActorSystem, chat_id: int) -> int:
    snapshot = system.snapshot().find(f"/sessions/{chat_id}")
    return 0 if snapshot is None else snapshot.processed


def tell_from_loop(
    system: ActorSystem, loop: AsyncLoop, address: Address, message: Message
) -> bool:
    """Tell ``message`` from the loop; True if the session handled it within that call."""
    chat_id = int(address.path.rsplit("/", 1)[-1])
    outcome: list[bool] = []
    done = threading.Event()

    def send() -> None:
        before = processed(system, chat_id)
        address.tell(message)
        outcome.append(processed(system, chat_id) > before)
        done.set()

    loop.call(send)
    assert done.wait(5)
    return outcome[0]


def answer(journal: Journal, question: str) -> AnswerDone:
    generate = journal.wait_for(
        "/deepseek", lambda m: isinstance(m, Generate) and m.question == question
    )
    assert isinstance(generate, Generate)
    return AnswerDone(
        request_id=generate.request_id,
        provider="deepseek",
        model="deepseek-chat",
        text=f"Echo: {question}",
        question=question,
        tokens_in=10,
        tokens_out=3,
        latency_ms=5,
    )


def wait_idle(system: ActorSystem, chat_id: int) -> None:
    """Until the session's thread has parked again (it does once its mailbox is empty)."""
    done = threading.Event()
    for _ in range(500):
        cell = system._cells.get(f"/sessions/{chat_id}")
        if cell is not None and cell.parked and cell.depth() == 0:
            return
        done.wait(0.01)
    raise AssertionError("the session never went idle")


def first_answered(system: ActorSystem, journal: Journal, loop: AsyncLoop) -> Address:
    """Ada's chat, opened by a first question (on the session's thread) and its answer."""
    ada = system.address("/sessions").child(ADA.id)
    assert not tell_from_loop(system, loop, ada, text(ADA, "first", 1)), "opening asks storage"
    wait_idle(system, ADA.id)
    tell_from_loop(system, loop, ada, answer(journal, "first"))
    wait_idle(system, ADA.id)
    return ada


def test_a_known_users_text_and_its_answer_are_handled_on_the_loop_once_the_chat_is_open(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    ada = system.address("/sessions").child(ADA.id)
    assert not tell_from_loop(system, loop, ada, text(ADA, "first", 1)), "opening asks storage"
    wait_idle(system, ADA.id)
    assert tell_from_loop(system, loop, ada, answer(journal, "first"))

    assert tell_from_loop(system, loop, ada, text(ADA, "second", 2))
    assert tell_from_loop(system, loop, ada, answer(journal, "second"))

    second = journal.wait_for(
        "/deepseek", lambda m: isinstance(m, Generate) and m.question == "second"
    )
    assert isinstance(second, Generate)
    assert [t.text for t in second.turns] == ["Be brief.", "first", "Echo: first", "second"]
    journal.wait_for("/gateway", lambda m: isinstance(m, UpdateHandled) and m.update_id == 2)
    handled = [m.update_id for m in journal.to("/gateway") if isinstance(m, UpdateHandled)]
    assert handled == [1, 2]


def test_a_text_that_needs_storage_is_left_to_the_sessions_thread(
    system: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    bob = system.address("/sessions").child(BOB.id)
    tell_from_loop(system, loop, bob, text(BOB, "hello", 1))
    wait_idle(system, BOB.id)

    assert not tell_from_loop(system, loop, bob, text(BOB, "hello again", 2)), "not cached"

    journal.wait_for("/gateway", lambda m: isinstance(m, UpdateHandled) and m.update_id == 2)
    said = [m.text for m in journal.to("/gateway") if isinstance(m, SendText)]
    assert said == [texts.ASK_FOR_ACCESS, texts.ASK_FOR_ACCESS]


@pytest.fixture
def tiered(tmp_path: Path, journal: Journal, loop: AsyncLoop) -> Iterator[ActorSystem]:
    yield from world(tmp_path, journal, loop, WITH_TIERS)


def test_with_budgets_every_question_goes_to_the_sessions_thread_and_is_still_answered(
    tiered: ActorSystem, journal: Journal, loop: AsyncLoop
) -> None:
    ada = first_answered(tiered, journal, loop)

    assert not tell_from_loop(tiered, loop, ada, text(ADA, "second", 2)), "a reservation is asked"
    assert answer(journal, "second").question == "second"
