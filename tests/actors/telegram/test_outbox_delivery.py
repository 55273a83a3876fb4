"""A new message that may have reached Telegram is not sent again blindly (issue #6).

The outbox talks to the Telegram emulator through PTB with a short read timeout, so a slow
answer is a real ``httpx.ReadTimeout`` and a dropped connection a real protocol error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from actors.telegram.messages import (
    EditText,
    FinishAnswer,
    GatewayCommand,
    SendText,
    ShowDraft,
    ShowTyping,
)
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from tests.emulators.telegram import TelegramEmulator

TOKEN = "123456:TEST-TOKEN-delivery"
ALICE = 2001
READ_TIMEOUT = 0.3
SLOW = 0.6  # Telegram takes the message, then answers after the read timeout
FAST = Pacing(per_chat_rate=100.0, global_rate=100.0, network_retries=3, retry_backoff=0.01)


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, "Alice")
        yield emulator


def send(
    telegram: TelegramEmulator, *commands: GatewayCommand, then: tuple[GatewayCommand, ...] = ()
) -> None:
    """Submit ``commands`` at once and, once they are done, ``then``; wait for slow answers."""

    async def main() -> None:
        request = HTTPXRequest(read_timeout=READ_TIMEOUT)
        async with Bot(
            TOKEN,
            base_url=telegram.bot_base_url,
            base_file_url=telegram.file_base_url,
            request=request,
        ) as bot:
            outbox = Outbox(bot, FAST)
            try:
                for batch in (commands, then):
                    for command in batch:
                        outbox.submit(command)
                    assert await outbox.drain(timeout=10) == 0
            finally:
                await outbox.close()

    asyncio.run(main())
    time.sleep(SLOW)  # what Telegram still carries out after the bot stopped waiting


def texts(telegram: TelegramEmulator) -> list[str]:
    return [m.text for m in telegram.bot_messages(ALICE)]


def test_a_message_telegram_answers_too_late_for_is_shown_once(
    telegram: TelegramEmulator,
) -> None:
    telegram.set_delay(SLOW, method="sendMessage")

    send(telegram, SendText(chat_id=ALICE, text="slow but there", format="plain"))

    assert texts(telegram) == ["slow but there"]


def test_a_message_whose_connection_dropped_is_sent_once_more(telegram: TelegramEmulator) -> None:
    telegram.drop_next("sendMessage")

    send(telegram, SendText(chat_id=ALICE, text="after the drop", format="plain"))

    assert texts(telegram) == ["after the drop"]


def test_a_message_whose_connection_drops_twice_is_not_sent_a_third_time(
    telegram: TelegramEmulator,
) -> None:
    telegram.drop_next("sendMessage", count=2, after_processing=True)

    send(telegram, SendText(chat_id=ALICE, text="twice at worst", format="plain"))

    assert len(telegram.calls("sendMessage")) == 2
    assert texts(telegram) == ["twice at worst", "twice at worst"]


def test_an_edit_whose_answer_was_lost_is_made_again(telegram: TelegramEmulator) -> None:
    send(telegram, SendText(chat_id=ALICE, text="before", format="plain"))
    [message] = telegram.bot_messages(ALICE)
    telegram.drop_next("editMessageText", after_processing=True)

    send(telegram, EditText(chat_id=ALICE, message_id=message.message_id, text="after"))

    assert len(telegram.calls("editMessageText")) == 2
    assert texts(telegram) == ["after"]


def test_a_draft_whose_first_message_timed_out_is_not_shown_again_when_finished_alike(
    telegram: TelegramEmulator,
) -> None:
    telegram.set_delay(SLOW, method="sendMessage")

    send(
        telegram,
        ShowDraft(chat_id=ALICE, draft_id="d", markdown="the whole answer"),
        FinishAnswer(chat_id=ALICE, draft_id="d", markdown="the whole answer"),
    )

    assert texts(telegram) == ["the whole answer"]


def test_a_draft_whose_first_message_timed_out_gets_its_final_text_in_a_new_message(
    telegram: TelegramEmulator,
) -> None:
    telegram.set_delay(SLOW, method="sendMessage")

    send(
        telegram,
        ShowDraft(chat_id=ALICE, draft_id="d", markdown="the start"),
        then=(
            ShowDraft(chat_id=ALICE, draft_id="d", markdown="the start and"),
            FinishAnswer(chat_id=ALICE, draft_id="d", markdown="the start and the end"),
        ),
    )

    assert texts(telegram) == ["the start", "the start and the end"]
    assert telegram.calls("editMessageText") == []


def test_a_final_text_without_words_keeps_the_draft_and_adds_the_notice(
    telegram: TelegramEmulator,
) -> None:
    send(
        telegram,
        ShowDraft(chat_id=ALICE, draft_id="d", markdown="Started **well**"),
        then=(FinishAnswer(chat_id=ALICE, draft_id="d", markdown="", notice="It took too long."),),
    )

    [message] = telegram.bot_messages(ALICE)
    assert message.text == "Started well\n\nIt took too long."
    assert len(telegram.calls("editMessageText")) == 1


def test_typing_and_messages_go_to_the_forum_topic_they_name(telegram: TelegramEmulator) -> None:
    send(
        telegram,
        ShowTyping(chat_id=ALICE, topic_id=7),
        then=(
            SendText(chat_id=ALICE, text="in the topic", topic_id=7),
            SendText(chat_id=ALICE, text="in general"),
        ),
    )

    assert [a.message_thread_id for a in telegram.chat_actions(ALICE)] == [7]
    assert [m.message_thread_id for m in telegram.bot_messages(ALICE)] == [7, None]
