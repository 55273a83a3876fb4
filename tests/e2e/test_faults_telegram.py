"""Telegram faults on the way in (getUpdates) and out (edits, outages): nothing lost or doubled.

test_telegram_limits.py covers a 429, a 502 and a dropped connection on sendMessage. Here:
polling that fails while updates wait (each update is still answered exactly once, even when
Telegram's answer to a getUpdates is lost after it was prepared), edits of a streamed answer
that fail or whose connection drops, an outage longer than one retry (and one longer than all
of them), and a Telegram that takes each message but answers after the request timeout. Each
test ends with the bot still serving; the fixture checks it exits 0 on SIGTERM.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.faults import assert_answered_once, mark, replies_since
from tests.e2e.harness import BotProcess, approve, calls_to
from tests.emulators.telegram import SimUser, TelegramEmulator

PollFault = Callable[[TelegramEmulator], None]

POLL_FAULTS: dict[str, PollFault] = {
    "a_502": lambda telegram: telegram.fail_next("getUpdates", status=502),
    "a_429_with_retry_after": lambda telegram: telegram.fail_next(
        "getUpdates", status=429, retry_after=1
    ),
    "a_connection_dropped_before_the_answer": lambda telegram: telegram.drop_next("getUpdates"),
    "a_connection_dropped_after_the_updates_were_taken": lambda telegram: telegram.drop_next(
        "getUpdates", after_processing=True
    ),
}


@pytest.mark.parametrize("fault", POLL_FAULTS.values(), ids=POLL_FAULTS.keys())
def test_updates_waiting_while_polling_fails_are_each_answered_exactly_once(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser, fault: PollFault
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)
    # A first 502 opens a back-off window in which the messages arrive, so that the fault
    # under test meets a getUpdates call that has them to hand out.
    telegram.fail_next("getUpdates", status=502)
    fault(telegram)
    telegram.wait_for(lambda: [c for c in telegram.calls("getUpdates") if c.status == 502])

    telegram.send_text(alice, "sent while polling fails")
    telegram.send_text(bob, "bob too")

    telegram.wait_for_message(alice.id, containing="Echo: sent while polling fails", timeout=15)
    telegram.wait_for_message(bob.id, containing="Echo: bob too", timeout=15)
    polls = telegram.calls("getUpdates")
    assert len([c for c in polls if c.status != 200]) == 2, "both faults were met"
    assert_answered_once(bot, telegram, alice, alice_mark, ["Echo: sent while polling fails"])
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: bob too"])
    asked = [r.last_user_text for r in bot.deepseek.generate_requests]
    assert asked.count("sent while polling fails") == 1
    assert asked.count("bob too") == 1


EditFault = Callable[[TelegramEmulator, int], None]

EDIT_FAULTS: dict[str, EditFault] = {
    "a_502": lambda telegram, chat_id: telegram.fail_next(
        "editMessageText", status=502, count=2, chat_id=chat_id
    ),
    "a_connection_dropped_before_the_answer": lambda telegram, chat_id: telegram.drop_next(
        "editMessageText", count=2, chat_id=chat_id
    ),
    "a_connection_dropped_after_the_edit_was_made": lambda telegram, chat_id: telegram.drop_next(
        "editMessageText", count=2, after_processing=True, chat_id=chat_id
    ),
}


@pytest.mark.parametrize("fault", EDIT_FAULTS.values(), ids=EDIT_FAULTS.keys())
def test_a_streamed_answer_whose_edits_fail_still_ends_whole_in_one_message(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser, fault: EditFault
) -> None:
    approve(telegram, alice, admin)
    since = mark(telegram, alice.id)
    answer = "A streamed answer that keeps arriving in small pieces until it is whole."
    bot.deepseek.reply(answer, chunks=10, chunk_delay=0.15)
    fault(telegram, alice.id)

    telegram.send_text(alice, "stream it")
    telegram.wait_for_message(alice.id, containing=answer, timeout=15)

    edits = calls_to(telegram, "editMessageText", alice.id)
    assert len([c for c in edits if c.status != 200]) == 2, "the faults were met"
    assert_answered_once(bot, telegram, alice, since, [answer])


def test_an_outage_of_a_few_seconds_delays_an_answer_which_then_arrives_once(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)
    telegram.fail_next("sendMessage", status=502, count=3, chat_id=alice.id)

    telegram.send_text(alice, "are you there?")
    telegram.send_text(bob, "bob is not affected")
    [bobs] = telegram.wait_for_message(bob.id, containing="Echo: bob is not affected")
    [alices] = telegram.wait_for_message(alice.id, containing="Echo: are you there?", timeout=15)

    assert bobs.sent_at < alices.sent_at, "bob's chat did not wait for alice's"
    assert_answered_once(bot, telegram, alice, alice_mark, ["Echo: are you there?"])
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: bob is not affected"])


def test_an_answer_outlives_a_telegram_outage_longer_than_the_retry_budget(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    since = mark(telegram, alice.id)
    # Six failed attempts span about 15.5 s of back-off: more than a short blip.
    telegram.fail_next("sendMessage", status=502, count=6, chat_id=alice.id)
    telegram.send_text(alice, "anyone there?")

    def answered() -> bool:
        return "Echo: anyone there?" in replies_since(telegram, alice.id, since)

    def given_up() -> bool:
        return bool(bot.log_lines("giving up on chat"))

    # The emulator's state changes at least once a poll, so both are looked at often.
    telegram.wait_for(lambda: answered() or given_up(), timeout=60)
    assert not given_up(), "the outbox gave up on the answer"
    assert_answered_once(bot, telegram, alice, since, ["Echo: anyone there?"])


def test_a_telegram_slower_than_the_request_timeout_still_shows_an_answer_once(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("telegram", request_timeout=1.0).start()
    approve(telegram, alice, admin)
    since = mark(telegram, alice.id)
    bot.deepseek.reply("one slow answer", chunks=1)
    telegram.set_delay(1.5, method="sendMessage")  # takes each message, answers too late
    telegram.send_text(alice, "are you slow today?")

    telegram.wait_for_message(alice.id, containing="one slow answer")
    telegram.set_delay(0.0, method="sendMessage")  # Telegram is quick again
    assert_answered_once(bot, telegram, alice, since, ["one slow answer"])
