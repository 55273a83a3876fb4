"""A group's session and the group's access: real sessions and storage, fake the rest."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.chat import texts
from actors.chat.messages import (
    BotMembershipChanged,
    GroupAccessChanged,
    IncomingText,
    UserRef,
)
from actors.chat.session import SessionSettings
from actors.llm.provider import Generate
from actors.storage import GetChat
from actors.telegram.messages import SendText, UpdateHandled
from runtime import (
    ActorSystem,
    Address,
)
from storage import Chat
from tests.actors.admin.test_actor import Journal
from tests.actors.chat.world import Recorder, sessions_world

ADA = UserRef(id=1000, first_name="Ada")
BOB = UserRef(id=2002, first_name="Bob")
TEAM = -100777
SETTINGS = SessionSettings(
    admin_ids=frozenset({ADA.id}),
    default_provider="deepseek",
    provider_models={"deepseek": "deepseek-chat"},
    system_prompt="Be brief.",
)


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def system(tmp_path: Path, journal: Journal) -> Iterator[ActorSystem]:
    with sessions_world(tmp_path / "b.db", SETTINGS, partial(Recorder, journal=journal)) as world:
        yield world


@pytest.fixture
def session(system: ActorSystem) -> Address:
    return system.address("/sessions").child(TEAM)


def added(by: UserRef, update_id: int = 1) -> BotMembershipChanged:
    return BotMembershipChanged(
        update_id=update_id,
        chat_id=TEAM,
        chat_kind="supergroup",
        title="Team",
        by=by,
        status="added",
    )


def mention(words: str, update_id: int) -> IncomingText:
    return IncomingText(
        update_id=update_id,
        chat_id=TEAM,
        chat_kind="supergroup",
        message_id=update_id,
        user=BOB,
        text=words,
    )


def said(journal: Journal, chat_id: int) -> list[SendText]:
    return [m for m in journal.to("/gateway") if isinstance(m, SendText) and m.chat_id == chat_id]


def handled(journal: Journal, update_id: int) -> None:
    journal.wait_for(
        "/gateway", lambda m: isinstance(m, UpdateHandled) and m.update_id == update_id
    )


def test_a_stranger_adding_the_bot_leaves_the_group_pending_and_asks_the_admins(
    system: ActorSystem, session: Address, journal: Journal
) -> None:
    session.tell(added(BOB))
    handled(journal, 1)

    assert [m.text for m in said(journal, TEAM)] == [texts.GROUP_NEEDS_APPROVAL]
    [request] = said(journal, ADA.id)
    assert request.text == "Bob (2002) added the bot to Team (-100777). Let the group in?"
    assert [b.data for row in request.buttons for b in row] == [
        "a:approve:-100777",
        "a:reject:-100777",
    ]
    chat: Chat | None = system.address("/storage").ask(GetChat(chat_id=TEAM), timeout=5)
    assert chat is not None
    assert (chat.access, chat.added_by) == ("pending", BOB.id)


def test_a_pending_group_hears_once_that_it_waits_then_is_answered_once_approved(
    session: Address, journal: Journal
) -> None:
    session.tell(added(BOB))
    for update_id in (2, 3, 4):
        session.tell(mention("hello?", update_id))
    handled(journal, 4)

    waiting = [m for m in said(journal, TEAM) if m.text == texts.GROUP_STILL_PENDING]
    assert len(waiting) == 1
    assert journal.to("/deepseek") == []

    session.tell(GroupAccessChanged(chat_id=TEAM, access="active"))
    session.tell(mention("now?", 5))
    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))


def test_an_admin_adding_the_bot_makes_the_group_active_and_a_block_silences_it(
    session: Address, journal: Journal
) -> None:
    session.tell(added(ADA))
    session.tell(mention("hi", 2))
    journal.wait_for("/deepseek", lambda m: isinstance(m, Generate))
    assert said(journal, TEAM)[0].text == texts.GROUP_WELCOME
    assert said(journal, ADA.id)[0].text == "Ada (1000) added the bot to Team (-100777)."

    session.tell(GroupAccessChanged(chat_id=TEAM, access="blocked"))
    session.tell(mention("still?", 3))
    handled(journal, 3)
    assert len(journal.to("/deepseek")) == 1
