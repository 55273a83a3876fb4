"""Chatting: streamed answers, context, /clear, /ping, queueing, failures."""

from __future__ import annotations

import time

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_the_answer_streams_into_one_message_edited_as_tokens_arrive(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    # The model is silent for a second first: long enough for "typing…" (held 0.5 s) to show.
    bot.deepseek.reply("one two three four five six", delay=1.0, chunks=6, chunk_delay=0.15)
    telegram.send_text(alice, "count")
    final = telegram.wait_for(
        lambda: [
            m for m in telegram.bot_messages(alice.id) if m.text == "one two three four five six"
        ]
    )[-1]
    assert final.edited
    assert len(final.history) >= 1
    assert telegram.chat_actions(alice.id), "a typing indicator was shown while it was silent"


def test_markdown_from_the_model_is_rendered_as_telegram_html(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply("Use **bold** and `code`:\n\n```python\nprint(1 < 2)\n```")
    telegram.send_text(alice, "format please")
    message = telegram.wait_for_message(alice.id, containing="print(1 < 2)")[-1]
    assert message.parse_mode == "HTML"
    assert message.entity_texts("bold") == ("bold",)
    assert "code" in message.entity_texts("code")
    assert "**" not in message.text


def test_the_context_carries_earlier_turns_and_clear_empties_it(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.send_text(alice, "my name is Alice")
    telegram.wait_for_message(alice.id, containing="Echo: my name is Alice")
    telegram.send_text(alice, "what is my name?")
    telegram.wait_for_message(alice.id, containing="Echo: what is my name?")
    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "my name is Alice"

    telegram.send_text(alice, "/clear")
    telegram.wait_for_message(alice.id, containing="Context cleared")
    telegram.send_text(alice, "fresh start")
    telegram.wait_for_message(alice.id, containing="Echo: fresh start")
    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]


def test_ping_answers_bot_ready(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser
) -> None:
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")


def test_messages_sent_while_an_answer_is_generated_are_answered_in_order(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply("slow first answer", delay=1.0)
    telegram.send_text(alice, "first")
    bot.deepseek.wait_for_requests(1)
    telegram.send_text(alice, "second")
    telegram.send_text(alice, "third")
    telegram.wait_for_message(alice.id, containing="Echo: third")
    asked = [r.last_user_text for r in bot.deepseek.generate_requests]
    assert asked == ["first", "second", "third"]
    texts = [m.text for m in telegram.bot_messages(alice.id)]
    answers = [t for t in texts if t in ("slow first answer", "Echo: second", "Echo: third")]
    assert answers == ["slow first answer", "Echo: second", "Echo: third"]


def test_a_provider_failure_gives_one_friendly_line_and_the_next_message_works(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    for _ in range(3):
        bot.deepseek.error(500)
    telegram.send_text(alice, "are you there?")
    line = telegram.wait_for_message(alice.id, containing="try again")[-1].text
    assert "500" not in line
    assert "Error" not in line
    assert "Traceback" not in line
    telegram.send_text(alice, "and now?")
    telegram.wait_for_message(alice.id, containing="Echo: and now?")


def test_a_slow_answer_in_one_chat_does_not_delay_another_chat(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, bob, admin)
    bot.deepseek.slow_when(contains="slowly", delay=3.0)
    telegram.send_text(alice, "answer slowly")
    bot.deepseek.wait_for_requests(1)
    started = time.monotonic()
    telegram.send_text(bob, "quick one")
    telegram.wait_for_message(bob.id, containing="Echo: quick one")
    assert time.monotonic() - started < 2.0
    telegram.wait_for_message(alice.id, containing="Echo: answer slowly", timeout=10)


def test_clear_while_an_answer_is_generated_keeps_that_exchange_out_of_the_context(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply("old answer", delay=1.0)
    telegram.send_text(alice, "old question")
    bot.deepseek.wait_for_requests(1)
    telegram.send_text(alice, "/clear")
    telegram.wait_for_message(alice.id, containing="Context cleared")
    telegram.wait_for_message(alice.id, containing="old answer")
    telegram.send_text(alice, "new question")
    telegram.wait_for_message(alice.id, containing="Echo: new question")
    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [m["content"] for m in sent[1:]] == ["new question"]


def test_a_command_addressed_to_another_bot_is_ignored(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.send_text(alice, "/help@some_other_bot")
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")
    texts = [m.text for m in telegram.bot_messages(alice.id)]
    assert not [t for t in texts if "/model" in t or "Echo:" in t]
    assert bot.deepseek.generate_requests == ()
