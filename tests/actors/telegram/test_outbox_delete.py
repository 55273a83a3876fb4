"""DeleteMessage: done at once, a failure logged and given up, a network error retried briefly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from telegram import Bot

from actors.telegram.messages import DeleteMessage
from actors.telegram.outbox import DELETE_ATTEMPTS, Outbox
from actors.telegram.pacing import Pacing
from tests.emulators.telegram import TelegramEmulator

TOKEN = "123456:TEST-TOKEN-delete"
ADMIN = 1000
FAST = Pacing(per_chat_rate=100.0, global_rate=100.0, network_retries=1, retry_backoff=0.01)


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        emulator.user(ADMIN, "Ada")
        yield emulator


def delete(telegram: TelegramEmulator, message_id: int) -> None:
    """Submit one DeleteMessage and wait until the outbox has finished with it."""

    async def main() -> None:
        async with Bot(
            TOKEN, base_url=telegram.bot_base_url, base_file_url=telegram.file_base_url
        ) as bot:
            outbox = Outbox(bot, FAST)
            try:
                outbox.submit(DeleteMessage(chat_id=ADMIN, message_id=message_id))
                await asyncio.gather(*outbox._side_tasks)
            finally:
                await outbox.close()

    asyncio.run(main())


def user_message_id(telegram: TelegramEmulator, text: str) -> int:
    telegram.send_text(ADMIN, text)
    return int(telegram.pending_updates()[-1]["message"]["message_id"])


def test_a_users_message_is_deleted(telegram: TelegramEmulator) -> None:
    message_id = user_message_id(telegram, "my password")

    delete(telegram, message_id)

    assert telegram.message(ADMIN, message_id).deleted


def test_a_message_that_cannot_be_deleted_is_given_up_at_once(
    telegram: TelegramEmulator,
) -> None:
    delete(telegram, 4242)

    assert len(telegram.calls("deleteMessage")) == 1


def test_network_errors_are_retried_a_few_times_only(telegram: TelegramEmulator) -> None:
    message_id = user_message_id(telegram, "my password")
    telegram.fail_next("deleteMessage", status=502, count=DELETE_ATTEMPTS + 5)

    delete(telegram, message_id)

    assert len(telegram.calls("deleteMessage")) == DELETE_ATTEMPTS
    assert not telegram.message(ADMIN, message_id).deleted


def test_one_network_error_is_retried_and_the_message_deleted(telegram: TelegramEmulator) -> None:
    message_id = user_message_id(telegram, "my password")
    telegram.fail_next("deleteMessage", status=502)

    delete(telegram, message_id)

    assert telegram.message(ADMIN, message_id).deleted
