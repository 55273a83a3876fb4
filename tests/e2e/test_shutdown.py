"""SIGTERM: polling stops, answers in flight are finished and delivered, then exit status 0.

This is what docs/architecture.md ("Shutdown") promises. What survives a kill -9, and what
a stop past its grace period leaves for the next start, is in test_durable_inbox.py.
"""

from __future__ import annotations

import time

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_sigterm_while_an_answer_is_generated_still_delivers_it_before_exiting_0(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    words = [f"word{n}" for n in range(40)]
    answer = " ".join(words)
    # The whole answer arrives at once after 2 s: only the final message can show all of it.
    bot.deepseek.reply(answer, chunks=len(words), delay=2.0, chunk_delay=0.0)
    telegram.send_text(alice, "take your time")
    bot.deepseek.wait_for_requests(1)

    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 5.0 + 3.0, "stopped within the grace period"

    shown = [m.text for m in telegram.bot_messages(alice.id)]
    assert answer in shown, f"the answer in flight was not delivered in full: {shown[-1]!r}"
    assert shown.count(answer) == 1


def test_after_a_clean_stop_every_answered_update_is_confirmed_and_not_answered_again(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply("the one answer", delay=1.0)
    update_id = telegram.send_text(alice, "answer me once")
    bot.deepseek.wait_for_requests(1)

    assert bot.stop() == 0
    assert telegram.confirmed_offset > update_id
    assert telegram.pending_updates() == []

    bot.start()
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")
    assert len(bot.deepseek.generate_requests) == 1
    assert [m.text for m in telegram.bot_messages(alice.id)].count("the one answer") == 1


def test_sigterm_with_an_answer_slower_than_the_grace_period_still_exits_0_promptly(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("shutdown", grace_seconds=1.0).start()
    approve(telegram, alice, admin)
    bot.deepseek.hang(30.0)
    telegram.send_text(alice, "this will take ages")
    bot.deepseek.wait_for_requests(1)

    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 1.0 + 4.0, "gave up after the grace period"
    assert "grace period over" in bot.log()


def test_sigterm_still_answers_messages_queued_behind_the_answer_in_flight(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply("first answer", delay=1.0)
    bot.deepseek.reply("second answer", delay=0.5)
    bot.deepseek.reply("third answer", delay=0.5)
    telegram.send_text(alice, "one")
    telegram.send_text(alice, "two")
    telegram.send_text(alice, "three")
    bot.deepseek.wait_for_requests(1)
    # "two" and "three" were handed to her session before polling stops: they are answered.
    telegram.wait_for(lambda: telegram.confirmed_offset > 0 and not telegram.pending_updates())

    assert bot.stop() == 0
    shown = [m.text for m in telegram.bot_messages(alice.id)]
    for answer in ("first answer", "second answer", "third answer"):
        assert shown.count(answer) == 1, f"{answer!r} missing or doubled in {shown}"
