"""A provider shows the answer it makes: "typing…", drafts, then the final text.

A real provider actor against the OpenAI-compatible emulator; recorders stand in for the
gateway and for the asking chat's session (a keyed pool of them, as in the real tree).
"""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Iterator

import pytest

from actors.chat.messages import AnswerDone, AnswerFailed
from actors.chat.texts import EMPTY_ANSWER, provider_failure
from actors.config import ProviderConfig, Secret
from actors.llm.provider import AnswerDisplay, Generate, ProviderActor
from actors.llm.wire import Turn
from actors.loop import LoopKeeper
from actors.telegram.messages import FinishAnswer, ShowDraft, ShowTyping
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    Message,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
)
from tests.emulators.openai_compat import OpenAIEmulator

CHAT = 1000


class Recorder(Actor):
    """Hands what it gets to the test, tagged with where it arrived."""

    def __init__(self, context: ActorContext, *, inbox: queue.Queue[tuple[str, Message]]) -> None:
        super().__init__(context)
        self._inbox = inbox
        self._where = "gateway" if context.path == "/gateway" else "session"

    @receive
    def on_message(
        self, message: ShowTyping | ShowDraft | FinishAnswer | AnswerDone | AnswerFailed
    ) -> None:
        self._inbox.put((self._where, message))


@pytest.fixture
def api() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(api_key="sk-test") as emulator:
        yield emulator


@pytest.fixture
def inbox() -> queue.Queue[tuple[str, Message]]:
    return queue.Queue()


@pytest.fixture
def system(api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]) -> Iterator[ActorSystem]:
    config = ProviderConfig(
        name="deepseek",
        base_url=api.base_url,
        api_key=Secret("sk-test"),
        default_model="deepseek-chat",
        timeout=5.0,
        max_retries=0,
    )
    record = functools.partial(Recorder, inbox=inbox)
    with ActorSystem() as actors:
        loop = AsyncLoop()
        actors.start(
            SupervisorSpec(
                children=(
                    ChildSpec(name="loop", factory=functools.partial(LoopKeeper, loop=loop)),
                    ChildSpec(name="gateway", factory=record),
                    pool("sessions", PoolSpec(factory=record)),
                    ChildSpec(
                        name="deepseek",
                        factory=functools.partial(
                            ProviderActor,
                            config=config,
                            loop=loop,
                            sessions=actors.address("/sessions"),
                        ),
                    ),
                )
            )
        )
        yield actors


def ask(system: ActorSystem, display: AnswerDisplay | None) -> None:
    system.address("/deepseek").tell(
        Generate(
            request_id="r1",
            chat_id=CHAT,
            model=None,
            turns=(Turn(role="user", text="hello?"),),
            question="hello?",
            display=display,
        )
    )


def shown_and_heard(
    inbox: queue.Queue[tuple[str, Message]], timeout: float = 10.0
) -> tuple[list[Message], list[Message]]:
    """What the gateway and the session got, until the session's outcome and a moment more."""
    got: list[tuple[str, Message]] = []
    deadline = time.monotonic() + timeout
    while not any(isinstance(message, AnswerDone | AnswerFailed) for _, message in got):
        got.append(inbox.get(timeout=max(0.0, deadline - time.monotonic())))
    time.sleep(0.2)
    while not inbox.empty():
        got.append(inbox.get_nowait())
    shown = [message for where, message in got if where == "gateway"]
    heard = [message for where, message in got if where == "session"]
    return shown, heard


def test_typing_then_a_draft_of_the_first_words_then_the_final_text(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.reply("one two three", chunks=["one", " two", " three"], chunk_delay=0.05)

    ask(system, AnswerDisplay(gateway=system.address("/gateway"), draft_every=60.0))
    shown, heard = shown_and_heard(inbox)

    assert shown == [
        ShowTyping(chat_id=CHAT),
        ShowDraft(chat_id=CHAT, draft_id="r1", markdown="one"),
        FinishAnswer(chat_id=CHAT, draft_id="r1", markdown="one two three"),
    ]
    [done] = heard
    assert isinstance(done, AnswerDone)
    assert done.text == "one two three"


def test_each_draft_holds_the_whole_text_so_far(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.reply("one two three", chunks=["one", " two", " three"], chunk_delay=0.05)

    ask(system, AnswerDisplay(gateway=system.address("/gateway"), draft_every=0.0))
    shown, _ = shown_and_heard(inbox)

    drafts = [message.markdown for message in shown if isinstance(message, ShowDraft)]
    assert drafts == ["one", "one two", "one two three"]


def test_in_a_group_every_part_replies_to_the_question(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.reply("one two", chunks=2)
    gateway = system.address("/gateway")

    ask(system, AnswerDisplay(gateway=gateway, draft_every=0.0, reply_to_message_id=7))
    shown, _ = shown_and_heard(inbox)

    answer = [m for m in shown if isinstance(m, ShowDraft | FinishAnswer)]
    assert answer
    assert {m.reply_to_message_id for m in answer} == {7}


def test_a_failed_stream_shows_what_came_and_a_friendly_line_then_says_it_was_shown(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.cut_stream(after_chunks=2)  # of the echo, one word a chunk

    ask(system, AnswerDisplay(gateway=system.address("/gateway"), draft_every=60.0))
    shown, heard = shown_and_heard(inbox)

    final = shown[-1]
    assert isinstance(final, FinishAnswer)
    [failed] = heard
    assert isinstance(failed, AnswerFailed)
    assert failed.shown
    assert final.markdown == failed.partial == "Echo: hello?"
    assert final.notice == provider_failure(failed.error)


def test_an_empty_answer_is_shown_as_such(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.reply("")

    ask(system, AnswerDisplay(gateway=system.address("/gateway"), draft_every=0.0))
    shown, heard = shown_and_heard(inbox)

    assert shown[-1] == FinishAnswer(chat_id=CHAT, draft_id="r1", markdown=EMPTY_ANSWER)
    [done] = heard
    assert isinstance(done, AnswerDone)
    assert done.text == ""


def test_without_a_display_the_gateway_hears_nothing(
    system: ActorSystem, api: OpenAIEmulator, inbox: queue.Queue[tuple[str, Message]]
) -> None:
    api.reply("one two three", chunks=3)

    ask(system, None)
    shown, heard = shown_and_heard(inbox)

    assert shown == []
    assert [type(message) for message in heard] == [AnswerDone]
