"""A model's reasoning stays out of the chat, whichever way the provider sends it.

Every version of every message counts: a reasoning fragment shown in a draft and edited away
later was still seen.
"""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve, shown_texts
from tests.emulators.telegram import SimUser, TelegramEmulator

SECRET = "SECRET-REASONING"


def test_deepseek_reasoner_reasoning_content_never_appears_in_the_chat(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("providers.deepseek", default_model="deepseek-reasoner").start()
    approve(telegram, alice, admin)
    reasoning = f"{SECRET} the user asks for a sum, " * 5
    bot.deepseek.reply("The sum is 4.", reasoning=reasoning, chunk_delay=0.02)
    telegram.send_text(alice, "what is 2 + 2?")
    telegram.wait_for_message(alice.id, containing="The sum is 4.")
    telegram.send_text(alice, "and the default echo?")
    telegram.wait_for_message(alice.id, containing="Echo: and the default echo?")

    assert bot.deepseek.generate_requests[0].model == "deepseek-reasoner"
    shown = shown_texts(telegram, alice.id)
    assert not [text for text in shown if SECRET in text]
    assert not [text for text in shown if "Thinking about" in text]
    context = bot.deepseek.generate_requests[-1].body["messages"]
    assert {"role": "assistant", "content": "The sum is 4."} in context
    assert SECRET not in str(context), "reasoning is not sent back as context either"


def test_think_blocks_in_the_content_never_appear_in_the_chat_even_split_across_chunks(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    chunks = ("<th", f"ink>{SECRET} let me", " think</th", "ink>\n\nThe visible", " answer.")
    bot.deepseek.reply("".join(chunks), chunks=chunks, chunk_delay=0.25)
    telegram.send_text(alice, "think first")

    [message] = telegram.wait_for_message(alice.id, containing="The visible answer.")
    assert message.text == "The visible answer."
    shown = shown_texts(telegram, alice.id)
    assert not [text for text in shown if SECRET in text or "think" in text]
    telegram.send_text(alice, "and next?")
    telegram.wait_for_message(alice.id, containing="Echo: and next?")
    assert SECRET not in str(bot.deepseek.generate_requests[-1].body["messages"])


def test_gemini_thought_parts_never_appear_in_the_chat(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)
    thought = f"{SECRET}: the user wants a greeting. " * 4
    bot.gemini.reply("Hello from Gemini.", reasoning=thought, chunk_delay=0.02)
    telegram.send_text(alice, "greet me")
    [message] = telegram.wait_for_message(alice.id, containing="Hello from Gemini.")

    [request] = bot.gemini.generate_requests
    thinking = request.body["generationConfig"]["thinkingConfig"]
    assert thinking["includeThoughts"] is True, "thoughts were asked for, so they were sent"
    assert message.text == "Hello from Gemini."
    assert not [text for text in shown_texts(telegram, alice.id) if SECRET in text]


def test_an_answer_that_is_all_reasoning_shows_a_short_note_instead_of_nothing(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    bot.deepseek.reply(f"<think>{SECRET} and nothing else</think>")
    telegram.send_text(alice, "think only")

    [message] = telegram.wait_for_message(alice.id, containing="empty answer")
    assert SECRET not in message.text
    assert not [text for text in shown_texts(telegram, alice.id) if SECRET in text]
