"""The poller against the Telegram emulator: a batch is on record before it is confirmed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from telegram import Bot, Update

from actors.chat.messages import BotMembershipChanged, IncomingFile, IncomingText, UserRef
from actors.telegram.updates import Poller, Record, UpdatesRequest, translate
from storage import IncomingUpdate, Store
from tests.emulators.telegram import TelegramEmulator

TOKEN = "123456:TEST-TOKEN-poller"
RUN = "test-run"


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "bot.db") as opened:
        yield opened


def _recorder(store: Store, as_json: Callable[[Update], str] = Update.to_json) -> Record:
    """Write a batch to the inbox as the gateway does (the store lives on this thread)."""

    async def record(updates: Sequence[Update]) -> Sequence[Update]:
        fresh = store.record_updates(
            [
                IncomingUpdate(update_id=u.update_id, chat_id=None, payload=as_json(u))
                for u in updates
            ],
            run_id=RUN,
        )
        return [u for u in updates if u.update_id in fresh]

    return record


async def _poll_until_delivered(
    telegram: TelegramEmulator,
    record: Record,
    count: int,
    timeout: float = 5.0,
    updates_request: UpdatesRequest | None = None,
) -> tuple[Poller, list[int]]:
    """Poll with a real PTB bot until ``count`` updates were delivered, then stop as the
    gateway does (cancel, then confirm); return the poller and the delivered ids."""
    delivered: list[int] = []
    enough = asyncio.Event()

    def deliver(update: Update) -> None:
        delivered.append(update.update_id)
        if len(delivered) >= count:
            enough.set()

    async with Bot(
        TOKEN,
        base_url=telegram.bot_base_url,
        base_file_url=telegram.file_base_url,
        get_updates_request=updates_request,
    ) as bot:
        poller = Poller(bot, deliver, timeout=0, record=record)
        task = asyncio.create_task(poller.run())
        await asyncio.wait_for(enough.wait(), timeout)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await poller.confirm()
    return poller, delivered


def test_a_batch_is_on_record_before_the_get_updates_that_confirms_it(
    telegram: TelegramEmulator, store: Store
) -> None:
    alice = telegram.user(2001, "Alice")
    first = telegram.send_text(alice, "one")
    telegram.send_text(alice, "two")
    confirmed_when_recorded: list[int] = []
    record = _recorder(store)

    async def watching(updates: Sequence[Update]) -> Sequence[Update]:
        confirmed_when_recorded.append(telegram.confirmed_offset)
        return await record(updates)

    _, delivered = asyncio.run(_poll_until_delivered(telegram, watching, count=2))

    assert confirmed_when_recorded[0] <= first, "not confirmed before it was written down"
    assert [u.update_id for u in store.pending_updates()] == delivered == [first, first + 1]
    assert telegram.pending_updates() == []


def test_an_update_is_written_to_the_inbox_as_telegram_sent_it(
    telegram: TelegramEmulator, store: Store
) -> None:
    # PTB's to_json() would write its own rendering instead (defaulted fields added).
    telegram.send_text(telegram.user(2001, "Alice"), "/start see https://example.com")
    [sent] = json.loads(json.dumps(telegram.pending_updates(), default=dict))
    request = UpdatesRequest()

    asyncio.run(
        _poll_until_delivered(
            telegram, _recorder(store, request.as_sent), count=1, updates_request=request
        )
    )

    [row] = store.pending_updates()
    assert json.loads(row.payload) == sent
    assert Update.de_json(sent, None) == Update.de_json(json.loads(row.payload), None)


def test_an_update_that_did_not_come_in_the_last_batch_is_written_as_ptb_renders_it() -> None:
    chat = {"id": 2001, "type": "private", "first_name": "Alice"}
    message = {"message_id": 1, "date": 0, "chat": chat, "text": "hi"}
    update = Update.de_json({"update_id": 7, "message": message}, None)

    assert UpdatesRequest().as_sent(update) == update.to_json()


def test_a_batch_that_cannot_be_recorded_is_not_confirmed_and_is_fetched_again(
    telegram: TelegramEmulator, store: Store
) -> None:
    alice = telegram.user(2001, "Alice")
    update_id = telegram.send_text(alice, "hello")
    attempts: list[int] = []
    record = _recorder(store)

    async def failing_once(updates: Sequence[Update]) -> Sequence[Update]:
        attempts.append(telegram.confirmed_offset)
        if len(attempts) == 1:
            raise RuntimeError("database is locked")
        return await record(updates)

    _, delivered = asyncio.run(_poll_until_delivered(telegram, failing_once, count=1))

    assert len(attempts) == 2
    assert all(offset <= update_id for offset in attempts), "never confirmed before recorded"
    assert delivered == [update_id]


def test_updates_already_on_record_are_confirmed_but_not_delivered_again(
    telegram: TelegramEmulator, store: Store
) -> None:
    alice = telegram.user(2001, "Alice")
    seen = telegram.send_text(alice, "answered before a crash")
    new = telegram.send_text(alice, "new")
    store.record_updates([IncomingUpdate(update_id=seen, chat_id=None, payload="{}")], run_id="x")

    poller, delivered = asyncio.run(_poll_until_delivered(telegram, _recorder(store), count=1))

    assert delivered == [new]
    assert (poller.received, poller.duplicates) == (1, 1)
    assert telegram.pending_updates() == []


def test_a_batch_being_recorded_when_polling_is_cancelled_is_still_delivered(
    telegram: TelegramEmulator, store: Store
) -> None:
    alice = telegram.user(2001, "Alice")
    update_id = telegram.send_text(alice, "caught by the stop")
    delivered: list[int] = []
    record = _recorder(store)

    async def scenario() -> None:
        recording = asyncio.Event()
        proceed = asyncio.Event()
        handed_on = asyncio.Event()

        def deliver(update: Update) -> None:
            delivered.append(update.update_id)
            handed_on.set()

        async def slow(updates: Sequence[Update]) -> Sequence[Update]:
            recording.set()
            await proceed.wait()
            return await record(updates)

        async with Bot(
            TOKEN, base_url=telegram.bot_base_url, base_file_url=telegram.file_base_url
        ) as bot:
            task = asyncio.create_task(Poller(bot, deliver, timeout=0, record=slow).run())
            await asyncio.wait_for(recording.wait(), 5.0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            proceed.set()
            await asyncio.wait_for(handed_on.wait(), 5.0)

    asyncio.run(scenario())

    assert delivered == [update_id]
    assert [u.update_id for u in store.pending_updates()] == [update_id]


# --- translate: what reaches a session from a group -------------------------------------------

BOT_USERNAME = "test_llm_bot"
GROUP = {"id": -100777, "type": "supergroup", "title": "Team"}
ALICE = {"id": 2001, "is_bot": False, "first_name": "Alice"}
THE_BOT = {"id": 99, "is_bot": True, "first_name": "Bot", "username": BOT_USERNAME}


def _group_update(**fields: object) -> Update:
    message = {"message_id": 7, "date": 0, "chat": GROUP, "from": ALICE, **fields}
    update = Update.de_json({"update_id": 1, "message": message}, None)
    assert update is not None
    return update


def test_a_group_service_message_is_not_handed_to_a_session() -> None:
    joined = _group_update(new_chat_members=[{"id": 2002, "is_bot": False, "first_name": "Bob"}])
    pinned = _group_update(pinned_message={"message_id": 3, "date": 0, "chat": GROUP})
    assert translate(joined, BOT_USERNAME) is None
    assert translate(pinned, BOT_USERNAME) is None


def test_a_mention_in_a_caption_addresses_the_bot_and_is_cut_from_the_instruction() -> None:
    update = _group_update(
        document={"file_id": "f", "file_unique_id": "u", "mime_type": "text/plain"},
        caption="@Test_LLM_Bot 👋 summarise",
        caption_entities=[{"type": "mention", "offset": 0, "length": 13}],
    )
    translated = translate(update, BOT_USERNAME)
    assert translated is not None
    assert isinstance(translated[1], IncomingFile)
    assert translated[1].caption == "👋 summarise"


def test_text_after_an_astral_character_loses_only_the_mention() -> None:
    text = "🎉 hey @test_llm_bot, well done"
    update = _group_update(text=text, entities=[{"type": "mention", "offset": 7, "length": 13}])
    translated = translate(update, BOT_USERNAME)
    assert translated is not None
    assert isinstance(translated[1], IncomingText)
    assert translated[1].text == "🎉 hey , well done"


def test_a_forum_message_replying_only_to_its_topic_is_not_addressed_one_to_the_bot_is() -> None:
    opened = {
        "message_id": 2,
        "date": 0,
        "chat": GROUP,
        "from": THE_BOT,
        "forum_topic_created": {"name": "Ideas", "icon_color": 0},
    }
    in_topic = _group_update(text="hello all", message_thread_id=2, reply_to_message=opened)
    to_bot = {"message_id": 5, "date": 0, "chat": GROUP, "from": THE_BOT, "text": "Hi"}
    reply = _group_update(
        text="thanks", message_thread_id=2, is_topic_message=True, reply_to_message=to_bot
    )
    assert translate(in_topic, BOT_USERNAME) is None
    translated = translate(reply, BOT_USERNAME)
    assert translated is not None
    assert isinstance(translated[1], IncomingText)
    assert translated[1].topic_id == 2  # the topic's own context


# --- translate: the bot's own membership (my_chat_member) -------------------------------------


def _membership_update(chat: dict[str, object], old: str, new: str, **member: object) -> Update:
    change = {
        "chat": chat,
        "from": ALICE,
        "date": 0,
        "old_chat_member": {"status": old, "user": THE_BOT, **member},
        "new_chat_member": {"status": new, "user": THE_BOT, **member},
    }
    update = Update.de_json({"update_id": 9, "my_chat_member": change}, None)
    assert update is not None
    return update


def test_the_bot_added_to_a_group_goes_to_that_groups_session() -> None:
    translated = translate(_membership_update(GROUP, "left", "member"), BOT_USERNAME)

    assert translated == (
        -100777,
        BotMembershipChanged(
            update_id=9,
            chat_id=-100777,
            chat_kind="supergroup",
            title="Team",
            by=UserRef(id=2001, first_name="Alice"),
            status="added",
        ),
    )


def test_the_bot_kicked_from_a_group_is_a_removal() -> None:
    translated = translate(
        _membership_update(GROUP, "member", "kicked", until_date=0), BOT_USERNAME
    )

    assert translated is not None
    assert isinstance(translated[1], BotMembershipChanged)
    assert translated[1].status == "removed"


def test_membership_news_of_a_private_chat_or_without_a_change_is_not_handed_on() -> None:
    private = {"id": 2001, "type": "private", "first_name": "Alice"}
    blocked_by_user = _membership_update(private, "member", "kicked", until_date=0)
    promoted = _membership_update(GROUP, "member", "administrator", **_ADMIN_RIGHTS)

    assert translate(blocked_by_user, BOT_USERNAME) is None
    assert translate(promoted, BOT_USERNAME) is None


_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
