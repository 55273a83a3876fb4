"""What every fault-injection test checks, whatever the fault (issue #6).

After a fault the user whose message met it gets exactly one answer or exactly one friendly
line (nothing lost, nothing sent twice), other chats carry on meanwhile, and the process stays
up (the ``bot_process`` fixture then checks that it still exits 0 on SIGTERM). Counting is done
on the Telegram emulator's record of the chat: what a user would see, not what the bot logged.
"""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.emulators.telegram import SimUser, TelegramEmulator


def mark(telegram: TelegramEmulator, chat_id: int) -> int:
    """How many messages the bot has sent to a chat so far: pass it to :func:`replies_since`."""
    return len(telegram.bot_messages(chat_id))


def replies_since(telegram: TelegramEmulator, chat_id: int, since: int) -> list[str]:
    """The current text of every message the bot sent to a chat after :func:`mark`."""
    return [m.text for m in telegram.bot_messages(chat_id)[since:] if not m.deleted]


def assert_still_serving(bot: BotProcess, telegram: TelegramEmulator, user: SimUser) -> None:
    """The process is up and answers ``user`` (a round trip after everything sent before it)."""
    assert bot.process is not None, "the bot is not running"
    assert bot.process.poll() is None, f"the bot exited with {bot.process.returncode}"
    since = mark(telegram, user.id)
    pongs = replies_since(telegram, user.id, 0).count("Bot ready")
    telegram.send_text(user, "/ping")
    telegram.wait_for_message(user.id, containing="Bot ready", count=pongs + 1, timeout=15)
    replies = replies_since(telegram, user.id, since)
    assert replies == ["Bot ready"], f"chat {user.id} got {replies} for a /ping"


def assert_answered_once(
    bot: BotProcess, telegram: TelegramEmulator, user: SimUser, since: int, expected: list[str]
) -> None:
    """``user`` got exactly ``expected`` after ``since``, and a later round trip adds nothing.

    The ``/ping`` goes through the same chat lane after the answer, so a copy still being
    retried would show up before its reply.
    """
    replies = replies_since(telegram, user.id, since)
    assert replies == expected, f"chat {user.id} got {replies}, not {expected}"
    assert_still_serving(bot, telegram, user)
    replies = replies_since(telegram, user.id, since)
    assert replies == [*expected, "Bot ready"], f"chat {user.id} then got {replies}"
