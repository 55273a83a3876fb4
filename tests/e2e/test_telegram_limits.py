"""Telegram's flood limits and flaky connections: answers wait or retry, never vanish or double."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve, calls_to
from tests.emulators.telegram import RateLimits, SimUser, TelegramEmulator


def texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text for m in telegram.bot_messages(chat_id) if not m.deleted]


def test_a_429_in_one_chat_delays_only_that_chat_and_its_message_arrives_once_after_the_wait(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    telegram.fail_next("sendMessage", status=429, retry_after=2, chat_id=alice.id)
    # Streamed: the drafts that pile up during the pause must not become extra messages.
    bot.deepseek.reply("Alice's answer, in many small pieces", chunks=12, chunk_delay=0.05)

    telegram.send_text(alice, "first in line")
    [limited] = telegram.wait_for(
        lambda: [c for c in calls_to(telegram, "sendMessage", alice.id) if c.status == 429]
    )
    telegram.send_text(bob, "meanwhile")
    [bobs] = telegram.wait_for_message(bob.id, containing="Echo: meanwhile")

    assert not [t for t in texts(telegram, alice.id) if "Alice's" in t], "bob did not wait"
    final = "Alice's answer, in many small pieces"
    [alices] = telegram.wait_for_message(alice.id, containing=final, timeout=10)
    assert bobs.sent_at < alices.sent_at
    assert alices.sent_at - limited.at >= 1.9, "the chat waited for retry_after"
    assert len([t for t in texts(telegram, alice.id) if "Alice's" in t]) == 1
    sends = calls_to(telegram, "sendMessage", alice.id)
    retried = sends[sends.index(limited) + 1 :]
    assert [c.status for c in retried] == [200], "the same call retried once, nothing else sent"


def test_a_502_on_sending_is_retried_and_the_message_arrives_exactly_once(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.fail_next("sendMessage", status=502, chat_id=alice.id)
    bot.deepseek.reply("Through the bad gateway", chunk_delay=0.05)
    telegram.send_text(alice, "hello?")

    telegram.wait_for_message(alice.id, containing="Through the bad gateway")
    statuses = [c.status for c in calls_to(telegram, "sendMessage", alice.id)]
    assert statuses[-2:] == [502, 200]
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")
    assert texts(telegram, alice.id).count("Through the bad gateway") == 1


def test_a_dropped_connection_on_sending_is_retried_and_the_message_arrives_exactly_once(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.drop_next("sendMessage")
    bot.deepseek.reply("Despite the dropped line", chunk_delay=0.05)
    telegram.send_text(alice, "hello?")

    telegram.wait_for_message(alice.id, containing="Despite the dropped line")
    dropped = [c for c in calls_to(telegram, "sendMessage", alice.id) if c.status == 0]
    assert len(dropped) == 1
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")
    assert texts(telegram, alice.id).count("Despite the dropped line") == 1


def test_with_telegrams_flood_limits_on_a_burst_of_answers_to_one_chat_all_arrive_in_order(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.set_rate_limits(RateLimits(private_per_second=2.0, private_burst=2))
    answers = [f"Answer number {n}" for n in range(1, 7)]
    for answer in answers:
        bot.deepseek.reply(answer, chunks=1)
    for n in range(1, 7):
        telegram.send_text(alice, f"question {n}")

    telegram.wait_for_message(alice.id, containing=answers[-1], timeout=20)
    telegram.set_rate_limits(None)
    shown = [t for t in texts(telegram, alice.id) if t.startswith("Answer number")]
    assert shown == answers, "each answer exactly once, in order"
    limited = [c for c in telegram.calls() if c.status == 429]
    assert limited, "the burst did run into the flood limit"


def test_with_flood_limits_on_a_streamed_long_answer_still_ends_whole(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.set_rate_limits(RateLimits(private_per_second=3.0, private_burst=2))
    paragraphs = [f"Paragraph {n:02d} " + "streams in slowly. " * 20 for n in range(20)]
    answer = "\n\n".join(p.strip() for p in paragraphs)
    bot.deepseek.reply(answer, chunks=30, chunk_delay=0.05)
    telegram.send_text(alice, "stream a long one")

    telegram.wait_for_message(alice.id, containing="Paragraph 19", timeout=20)
    telegram.set_rate_limits(None)
    shown = [m.text for m in telegram.bot_messages(alice.id) if "streams in slowly" in m.text]
    assert "\n\n".join(shown) == answer
    assert [c for c in telegram.calls() if c.status == 429], "the limit was hit"
