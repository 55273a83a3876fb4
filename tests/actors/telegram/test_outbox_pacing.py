"""The outbox spares Telegram calls that show nothing new."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from telegram import Bot

from actors.telegram.messages import GatewayCommand, SendText, ShowTyping
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from tests.emulators.telegram import TelegramEmulator

TOKEN = "123456:TEST-TOKEN-pacing"
ALICE = 2001
FAST = Pacing(per_chat_rate=100.0, global_rate=100.0, network_retries=1, retry_backoff=0.01)


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, "Alice")
        yield emulator


def send(telegram: TelegramEmulator, *commands: GatewayCommand) -> None:
    """Submit ``commands`` at once and wait until the outbox has sent what it will."""

    async def main() -> None:
        async with Bot(
            TOKEN, base_url=telegram.bot_base_url, base_file_url=telegram.file_base_url
        ) as bot:
            outbox = Outbox(bot, FAST)
            try:
                for command in commands:
                    outbox.submit(command)
                assert await outbox.drain(timeout=10) == 0
            finally:
                await outbox.close()

    asyncio.run(main())


def test_typing_is_shown_while_nothing_else_is_queued(telegram: TelegramEmulator) -> None:
    send(telegram, ShowTyping(chat_id=ALICE))

    assert len(telegram.calls("sendChatAction")) == 1


def test_typing_is_skipped_when_the_answer_is_already_queued_behind_it(
    telegram: TelegramEmulator,
) -> None:
    send(telegram, ShowTyping(chat_id=ALICE), SendText(chat_id=ALICE, text="here it is"))

    assert telegram.calls("sendChatAction") == []
    assert [c.params["text"] for c in telegram.calls("sendMessage")] == ["here it is"]
