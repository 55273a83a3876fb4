"""The intake hands new updates to sessions while their batch is written, never twice."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from telegram import Bot, Update

from actors.chat.messages import IncomingText
from actors.storage import (
    ClaimPendingUpdates,
    GetInboxHighWater,
    MarkUpdatesDone,
    RecordUpdates,
)
from actors.telegram.intake import Intake
from actors.telegram.messages import FinishAnswer
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    ChildSpec,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
)
from storage import InboxUpdate
from tests.emulators.telegram import TelegramEmulator
from tests.runtime.fakes import Journal

ALICE = {"id": 2001, "is_bot": False, "first_name": "Alice"}
TOKEN = "123456:TEST-TOKEN-intake"


class WriteFailed(RuntimeError):
    """The fake inbox's write failing, as a locked or read-only database would."""


@dataclass
class Inbox:
    """The fake storage's state, outside the actor: update id -> done."""

    rows: dict[int, bool] = field(default_factory=dict)
    writable: threading.Event = field(default_factory=threading.Event)
    fail_writes: bool = False


class FakeStorage(Actor):
    """The inbox part of the storage actor, with a write that can be held or made to fail."""

    answered_errors = (WriteFailed,)

    def __init__(self, context: ActorContext, inbox: Inbox) -> None:
        super().__init__(context)
        self.inbox = inbox

    @receive
    def high_water(self, _message: GetInboxHighWater) -> int | None:
        return max(self.inbox.rows, default=None)

    @receive
    def claim(self, _message: ClaimPendingUpdates) -> tuple[InboxUpdate, ...]:
        return ()

    @receive
    def record(self, message: RecordUpdates) -> tuple[int, ...]:
        self.inbox.writable.wait(10)
        if self.inbox.fail_writes:
            raise WriteFailed("the database is read-only")
        fresh = tuple(u.update_id for u in message.updates if u.update_id not in self.inbox.rows)
        for update in message.updates:
            self.inbox.rows.setdefault(update.update_id, update.done)
        return fresh

    @receive
    def mark_done(self, message: MarkUpdatesDone) -> None:
        for update_id in message.update_ids:
            if update_id in self.inbox.rows:
                self.inbox.rows[update_id] = True


class Session(Actor):
    """Stands in for a chat session: records every update handed to it."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self.journal = journal

    @receive
    def on_text(self, message: IncomingText) -> None:
        self.journal.record("handed", message.update_id)


def text_update(update_id: int) -> Update:
    chat = {"id": 2001, "type": "private", "first_name": "Alice"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": ALICE, "text": "hi"}
    update = Update.de_json({"update_id": update_id, "message": message}, None)
    assert update is not None
    return update


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    with ActorSystem() as running:
        yield running


def start(
    system: ActorSystem,
    inbox: Inbox,
    journal: Journal,
    *,
    bot: Bot | None = None,
    outbox: Outbox | None = None,
    drafts: dict[int, int] | None = None,
) -> Intake:
    sessions = PoolSpec(factory=functools.partial(Session, journal=journal), idle_after=None)
    storage = ChildSpec(name="storage", factory=functools.partial(FakeStorage, inbox=inbox))
    system.start(SupervisorSpec(children=(storage, pool("sessions", sessions))))
    bot = bot or Bot("123:TEST")
    outbox = outbox or Outbox(bot, Pacing(), clock=time.monotonic)
    return Intake(
        bot=bot,
        username="test_llm_bot",
        outbox=outbox,
        sessions=system.address("/sessions"),
        gateway=system.address("/sessions"),
        storage=system.address("/storage"),
        run_id="run-1",
        drafts=drafts,
    )


async def poll_once(intake: Intake, *update_ids: int) -> None:
    """What the poller does with a batch: record it, then route what is new."""
    for update in await intake.record([text_update(i) for i in update_ids]):
        intake.route(update)


async def handed(journal: Journal, count: int) -> None:
    deadline = time.monotonic() + 10
    while journal.count("handed") < count:
        assert time.monotonic() < deadline, journal.entries
        await asyncio.sleep(0.01)


def test_a_new_update_reaches_its_session_while_its_batch_is_still_being_written(
    system: ActorSystem,
) -> None:
    inbox, journal = Inbox(rows={1: True}), Journal()
    intake = start(system, inbox, journal)

    async def scenario() -> None:
        await intake.replay_pending()  # learns the high-water mark: 1
        writing = asyncio.ensure_future(poll_once(intake, 2))
        await handed(journal, 1)
        assert not writing.done(), "handed out before the write finished"
        inbox.writable.set()
        await writing

    asyncio.run(scenario())
    time.sleep(0.1)
    assert journal.of("handed") == [("handed", 2)]  # once, not again after the write
    assert inbox.rows == {1: True, 2: False}


def test_updates_at_or_below_the_mark_wait_for_the_write_and_redeliveries_are_dropped(
    system: ActorSystem,
) -> None:
    inbox, journal = Inbox(rows={5: True}), Journal()
    inbox.writable.set()
    intake = start(system, inbox, journal)

    async def scenario() -> None:
        await intake.replay_pending()
        await poll_once(intake, 4, 5, 6)  # 4 is older but unseen, 5 a re-delivery, 6 new
        await handed(journal, 2)

    asyncio.run(scenario())
    time.sleep(0.1)
    assert sorted(entry[1] for entry in journal.of("handed")) == [4, 6]


def test_an_update_answered_before_its_failed_write_is_written_done_when_retried(
    system: ActorSystem,
) -> None:
    inbox, journal = Inbox(rows={1: True}, fail_writes=True), Journal()
    inbox.writable.set()
    intake = start(system, inbox, journal)

    async def scenario() -> None:
        await intake.replay_pending()
        with pytest.raises(WriteFailed):
            await poll_once(intake, 2)
        await handed(journal, 1)
        intake.mark_done(2)  # its answer is out, while the row still is not written
        inbox.fail_writes = False
        await poll_once(intake, 2)  # the poller fetches the batch again

    asyncio.run(scenario())
    time.sleep(0.1)
    assert journal.of("handed") == [("handed", 2)]
    assert inbox.rows[2] is True, "written as answered: a restart must not replay it"


def test_an_update_answered_before_its_batch_is_sent_to_be_written_is_written_done(
    system: ActorSystem,
) -> None:
    """The write waits two turns of the loop for the answers' calls to start (see
    ``let_calls_start``); an answer out by then is no reason to replay the update."""
    inbox, journal = Inbox(rows={1: True}), Journal()
    inbox.writable.set()
    intake = start(system, inbox, journal)

    async def scenario() -> None:
        await intake.replay_pending()
        loop = asyncio.get_running_loop()
        loop.call_soon(intake.mark_done, 2)  # in the first of the two turns
        await poll_once(intake, 2)

    asyncio.run(scenario())
    assert inbox.rows[2] is True, "written as answered: a restart must not replay it"


def test_a_restarted_gateway_finishes_an_answer_in_the_draft_shown_before(
    system: ActorSystem,
) -> None:
    with TelegramEmulator(token=TOKEN) as telegram:
        telegram.user(2001, "Alice")
        inbox, journal = Inbox(rows={7: False}), Journal()

        async def scenario() -> None:
            async with Bot(TOKEN, base_url=telegram.bot_base_url) as bot:
                shown = await bot.send_message(2001, "Echo:")  # by the gateway that crashed
                outbox = Outbox(bot, Pacing(), clock=time.monotonic)
                # The restarted gateway's, with the pending drafts it read from the inbox:
                drafts = {7: shown.message_id}
                intake = start(system, inbox, journal, bot=bot, outbox=outbox, drafts=drafts)
                await intake.replay_pending()
                answer = FinishAnswer(chat_id=2001, draft_id="r1", markdown="Echo: hi")
                intake.submit(answer, update_id=7, chat_id=2001)
                assert await outbox.drain(timeout=10) == 0
                await outbox.close()

        asyncio.run(scenario())
        assert [m.text for m in telegram.bot_messages(2001)] == ["Echo: hi"]
