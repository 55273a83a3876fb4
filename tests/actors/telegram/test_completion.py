"""When an update is done: against a real outbox sending to the Telegram emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from telegram import Bot

from actors.telegram.completion import Completions, update_id_of
from actors.telegram.messages import FinishAnswer, SendText, ShowDraft
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from tests.emulators.telegram import TelegramEmulator

TOKEN = "123456:TEST-TOKEN-completion"
ALICE = 2001
ADMIN = 1000
FAST = Pacing(per_chat_rate=100.0, global_rate=100.0, network_retries=1, retry_backoff=0.01)


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, "Alice")
        emulator.user(ADMIN, "Ada")
        yield emulator


Scenario = Callable[[Outbox, Completions, list[int]], Awaitable[None]]


def _run(telegram: TelegramEmulator, scenario: Scenario) -> list[int]:
    """Run ``scenario`` with an outbox and its completions; return the ids marked done."""
    done: list[int] = []

    async def main() -> None:
        async with Bot(
            TOKEN, base_url=telegram.bot_base_url, base_file_url=telegram.file_base_url
        ) as bot:
            outbox = Outbox(bot, FAST)
            try:
                await scenario(outbox, Completions(outbox, done.append), done)
            finally:
                await outbox.close()

    asyncio.run(main())
    return done


def test_an_update_is_done_once_its_replies_in_every_chat_were_accepted(
    telegram: TelegramEmulator,
) -> None:
    telegram.set_delay(0.2, method="sendMessage")
    seen_at_done: list[int] = []

    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        completions.opened(7, ALICE)
        outbox.submit(SendText(chat_id=ALICE, text="request sent", format="plain"))
        completions.replied(7, ADMIN)
        outbox.submit(SendText(chat_id=ADMIN, text="approve Alice?", format="plain"))
        completions.handled(7, ALICE)
        assert done == [], "not before Telegram took the replies"
        await outbox.drain(5.0)
        seen_at_done.append(len(telegram.bot_messages(ALICE)) + len(telegram.bot_messages(ADMIN)))

    assert _run(telegram, scenario) == [7]
    assert seen_at_done == [2]


def test_an_update_its_session_answered_with_nothing_is_done_at_once(
    telegram: TelegramEmulator,
) -> None:
    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        completions.opened(8, ALICE)
        completions.handled(8, ALICE)
        await outbox.drain(1.0)

    assert _run(telegram, scenario) == [8]


def test_a_reply_given_up_on_still_lets_the_update_be_done(telegram: TelegramEmulator) -> None:
    telegram.set_blocked(ALICE)  # 403: retrying cannot help, so it is dropped

    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        completions.opened(9, ALICE)
        outbox.submit(SendText(chat_id=ALICE, text="hello", format="plain"))
        completions.handled(9, ALICE)
        await outbox.drain(2.0)

    assert _run(telegram, scenario) == [9]


def test_an_update_whose_reply_is_still_queued_when_the_outbox_closes_is_not_done(
    telegram: TelegramEmulator,
) -> None:
    telegram.set_delay(5.0, method="sendMessage")

    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        completions.opened(10, ALICE)
        outbox.submit(SendText(chat_id=ALICE, text="slow", format="plain"))
        completions.handled(10, ALICE)
        assert await outbox.drain(0.2) > 0

    assert _run(telegram, scenario) == []


def test_replies_after_an_update_is_done_are_not_tracked(telegram: TelegramEmulator) -> None:
    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        completions.opened(11, ALICE)
        completions.handled(11, ALICE)
        await outbox.drain(1.0)
        completions.replied(11, ADMIN)  # e.g. an admin's late reply carrying its id
        assert completions.open_count == 0

    assert _run(telegram, scenario) == [11]


def test_only_update_correlation_ids_name_an_update() -> None:
    assert update_id_of("u42") == 42
    assert update_id_of("u42x") is None
    assert update_id_of("job:retention") is None
    assert update_id_of(None) is None


def test_an_adopted_draft_is_edited_by_the_new_answer_and_a_new_one_is_reported(
    telegram: TelegramEmulator,
) -> None:
    leftover = _send_directly(telegram, "one two")
    noted: list[tuple[int, str, int]] = []

    async def scenario(outbox: Outbox, completions: Completions, done: list[int]) -> None:
        outbox.on_new_draft = lambda chat, draft, message: noted.append((chat, draft, message))
        outbox.adopt_draft(ALICE, "replayed", leftover)
        outbox.submit(FinishAnswer(chat_id=ALICE, draft_id="replayed", markdown="the answer"))
        outbox.submit(ShowDraft(chat_id=ALICE, draft_id="fresh", markdown="draft"))
        await outbox.drain(2.0)

    _run(telegram, scenario)

    shown = telegram.bot_messages(ALICE)
    assert [m.text for m in shown] == ["the answer", "draft"]
    assert shown[0].message_id == leftover
    assert noted == [(ALICE, "fresh", shown[1].message_id)]


def _send_directly(telegram: TelegramEmulator, text: str) -> int:
    """A message the bot sent before (a killed process's draft); returns its id."""

    async def send() -> int:
        async with Bot(
            TOKEN, base_url=telegram.bot_base_url, base_file_url=telegram.file_base_url
        ) as bot:
            return (await bot.send_message(ALICE, text)).message_id

    return asyncio.run(send())
