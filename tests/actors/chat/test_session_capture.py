"""A chat session lending a user's input to a flow: real sessions and storage, fake the rest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.admin.messages import AdminCommand
from actors.chat import texts
from actors.chat.messages import IncomingCommand, IncomingText, UserRef
from actors.chat.session import SessionSettings
from actors.flows.messages import CancelFlow, CaptureInput, FlowInput, ReleaseInput
from actors.llm.provider import Generate
from actors.telegram.messages import SendText, ShowTyping
from runtime import (
    Actor,
    ActorContext,
    Address,
    receive,
)
from tests.actors.admin.test_actor import Journal
from tests.actors.chat.world import sessions_world

ADA = UserRef(id=1000, first_name="Ada")
SETTINGS = SessionSettings(
    admin_ids=frozenset({ADA.id}),
    default_provider="deepseek",
    provider_models={"deepseek": "deepseek-chat"},
    system_prompt="Be brief.",
)


class Recorder(Actor):
    """Stands in for the gateway, the admin actor and the provider."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self._journal = journal

    @receive
    def on_message(
        self,
        message: SendText | ShowTyping | FlowInput | CancelFlow | AdminCommand | Generate,
    ) -> None:
        self._journal.record(self.context.path, message)


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def session(tmp_path: Path, journal: Journal) -> Iterator[Address]:
    recorder = partial(Recorder, journal=journal)
    with sessions_world(tmp_path / "b.db", SETTINGS, recorder) as system:
        yield system.address("/sessions").child(ADA.id)


def text(words: str, message_id: int = 5) -> IncomingText:
    return IncomingText(
        update_id=message_id,
        chat_id=ADA.id,
        chat_kind="private",
        message_id=message_id,
        user=ADA,
        text=words,
    )


def cancel() -> IncomingCommand:
    return IncomingCommand(
        update_id=9, chat_id=ADA.id, chat_kind="private", message_id=9, user=ADA, command="cancel"
    )


def capture(*, until: float, owner: str = "/admin") -> CaptureInput:
    return CaptureInput(user_id=ADA.id, owner=owner, flow_id="login:1000:1000:x", until=until)


def test_captured_text_goes_to_the_owner_and_never_to_the_llm(
    session: Address, journal: Journal
) -> None:
    session.tell(capture(until=time.time() + 60))
    session.tell(text("the password", message_id=7))

    forwarded = journal.wait_for("/admin", lambda m: isinstance(m, FlowInput))

    assert forwarded == FlowInput(
        chat_id=ADA.id, message_id=7, user=ADA, text="the password", flow_id="login:1000:1000:x"
    )
    assert "the password" not in repr(forwarded)
    assert journal.to("/deepseek") == []


def test_after_release_text_is_answered_as_usual(session: Address, journal: Journal) -> None:
    session.tell(capture(until=time.time() + 60))
    session.tell(ReleaseInput(user_id=ADA.id, flow_id="login:1000:1000:x"))
    session.tell(text("a question"))

    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))
    assert journal.to("/admin") == []


def test_a_release_for_another_flow_keeps_the_capture(session: Address, journal: Journal) -> None:
    session.tell(capture(until=time.time() + 60))
    session.tell(ReleaseInput(user_id=ADA.id, flow_id="login:1000:1000:old"))
    session.tell(text("still captured"))

    journal.wait_for("/admin", lambda m: isinstance(m, FlowInput))


def test_an_expired_capture_falls_back_to_normal_handling(
    session: Address, journal: Journal
) -> None:
    session.tell(capture(until=time.time() + 0.2))
    time.sleep(0.4)
    session.tell(text("a question"))

    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))
    assert journal.to("/admin") == []


def test_cancel_while_captured_tells_the_owner_and_ends_the_capture(
    session: Address, journal: Journal
) -> None:
    session.tell(capture(until=time.time() + 60))
    session.tell(cancel())
    session.tell(text("a question"))

    journal.wait_for("/admin", lambda m: isinstance(m, CancelFlow))
    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))
    assert [m for m in journal.to("/admin") if isinstance(m, FlowInput)] == []


def test_cancel_with_nothing_waiting_says_so(session: Address, journal: Journal) -> None:
    session.tell(cancel())

    journal.wait_for(
        "/gateway", lambda m: isinstance(m, SendText) and m.text == texts.NOTHING_TO_CANCEL
    )


def test_a_capture_by_an_unknown_owner_is_ignored(session: Address, journal: Journal) -> None:
    session.tell(capture(until=time.time() + 60, owner="/somebody"))
    session.tell(text("a question"))

    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))
    assert journal.to("/admin") == []
