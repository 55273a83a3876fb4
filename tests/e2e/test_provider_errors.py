"""LLM provider failures: retried when worth it, else one friendly line; the chat goes on.

In every case the log names the failure under the update's correlation id (``u<update_id>``),
and what the user reads holds no exception name, status code or traceback.
"""

from __future__ import annotations

import re
import time

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator

TECHNICAL = re.compile(
    r"Traceback|Error|Exception|Interrupted|Timeout|RateLimited|Failed|HTTP|\b[45]\d\d\b|deepseek"
)


def assert_friendly(line: str, *, advice: str = "try again") -> None:
    assert not TECHNICAL.search(line), f"technical detail shown to the user: {line!r}"
    assert advice in line


def assert_logged(bot: BotProcess, update_id: int, *words: str) -> None:
    """The log has a line about the failure carrying the update's correlation id."""
    lines = bot.log_lines(f" u{update_id} ")
    assert [line for line in lines if all(word in line for word in words)], (
        f"no log line with u{update_id} and {words}: {lines}"
    )


def assert_next_message_works(bot: BotProcess, telegram: TelegramEmulator, user: SimUser) -> None:
    telegram.send_text(user, "are you back?")
    telegram.wait_for_message(user.id, containing="Echo: are you back?")


def test_a_429_with_retry_after_is_retried_after_the_wait_and_the_user_gets_the_answer(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.error(429, retry_after=1)
    update_id = telegram.send_text(alice, "busy?")

    telegram.wait_for_message(alice.id, containing="Echo: busy?")
    first, second = bot.deepseek.generate_requests
    assert second.at - first.at >= 0.9, "Retry-After was respected"
    assert not [m for m in telegram.bot_messages(alice.id) if "try again" in m.text]
    assert_logged(bot, update_id, "retrying")


def test_a_401_says_an_admin_must_check_the_model_without_retrying(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.error(401)
    update_id = telegram.send_text(alice, "who am I to you?")

    # Retrying would not help the user here: the key itself is refused.
    [line] = telegram.wait_for_message(alice.id, containing="an admin needs to check it")
    assert_friendly(line.text, advice="an admin needs to check it")
    assert len(bot.deepseek.generate_requests) == 1, "a refused key is not retried"
    assert_logged(bot, update_id, "failed", "401")
    assert_next_message_works(bot, telegram, alice)


def test_a_stream_cut_mid_answer_keeps_the_partial_answer_and_adds_a_friendly_line(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.cut_stream(after_chunks=3)
    update_id = telegram.send_text(alice, "please tell me a long story")

    [message] = telegram.wait_for_message(alice.id, containing="try again")
    partial, _, notice = message.text.partition("\n\n")
    assert partial == "Echo: please tell"
    assert_friendly(notice)
    assert len(bot.deepseek.generate_requests) == 1, "what the user saw is not asked again"
    assert_logged(bot, update_id, "failed")
    assert_next_message_works(bot, telegram, alice)


def test_a_malformed_answer_gives_one_friendly_line(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.malformed()
    update_id = telegram.send_text(alice, "say something odd")

    [line] = telegram.wait_for_message(alice.id, containing="try again")
    assert_friendly(line.text)
    assert len(bot.deepseek.generate_requests) == 1, "an unreadable answer is not asked again"
    assert_logged(bot, update_id, "failed")
    assert_next_message_works(bot, telegram, alice)


def test_a_provider_that_hangs_past_the_timeout_gives_one_friendly_line(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("providers.deepseek", timeout=1.0, max_retries=0).start()
    approve(telegram, alice, admin)
    bot.deepseek.hang(4.0)
    started = time.monotonic()
    update_id = telegram.send_text(alice, "hello, anyone?")

    [line] = telegram.wait_for_message(alice.id, containing="try again", timeout=5)
    assert time.monotonic() - started < 3.0, "gave up after the timeout, not the hang"
    assert "too long" in line.text
    assert_friendly(line.text)
    assert len(bot.deepseek.generate_requests) == 1
    assert_logged(bot, update_id, "failed")
    assert_next_message_works(bot, telegram, alice)


def test_a_stream_that_stalls_mid_answer_past_the_timeout_keeps_the_partial_answer(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("providers.deepseek", timeout=1.0).start()
    approve(telegram, alice, admin)
    bot.deepseek.reply("Started well, then", chunks=("Started well, ", "then"), chunk_delay=3.0)
    update_id = telegram.send_text(alice, "go on")

    [message] = telegram.wait_for_message(alice.id, containing="try again", timeout=5)
    partial, _, notice = message.text.partition("\n\n")
    assert partial == "Started well,"
    assert_friendly(notice)
    assert len(bot.deepseek.generate_requests) == 1, "what the user saw is not asked again"
    assert_logged(bot, update_id, "failed")
    assert_next_message_works(bot, telegram, alice)


def test_after_repeated_failures_the_circuit_opens_and_users_hear_so_without_a_request(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure(
        "providers.deepseek", max_retries=0, circuit_failure_threshold=1, circuit_reset_seconds=1.0
    ).start()
    approve(telegram, alice, admin)
    bot.deepseek.error(503)
    telegram.send_text(alice, "first try")
    telegram.wait_for_message(alice.id, containing="unavailable")
    update_id = telegram.send_text(alice, "second try")

    [_, line] = telegram.wait_for_message(alice.id, containing="unavailable", count=2)
    assert_friendly(line.text)
    assert len(bot.deepseek.generate_requests) == 1, "an open circuit does not call"
    assert_logged(bot, update_id, "failed", "CircuitOpen")
    time.sleep(1.0)  # the circuit's reset time: nothing to wait on but the clock
    assert_next_message_works(bot, telegram, alice)
