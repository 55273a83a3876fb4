"""When Telegram refuses the formatting of an answer, the answer still arrives, as plain text."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve, calls_to
from tests.emulators.telegram import SimUser, TelegramEmulator

PARSE_ERROR = 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 4'


def test_an_answer_whose_entities_telegram_rejects_is_sent_again_as_plain_text(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.fail_next("sendMessage", status=400, description=PARSE_ERROR, chat_id=alice.id)
    telegram.fail_next("editMessageText", status=400, description=PARSE_ERROR, chat_id=alice.id)
    bot.deepseek.reply("Use **bold** with care.", chunks=1)
    telegram.send_text(alice, "format this")

    [message] = telegram.wait_for_message(alice.id, containing="Use bold with care.")
    assert message.text == "Use bold with care."
    assert message.entities == ()
    sends = calls_to(telegram, "sendMessage", alice.id)
    rejected = [c for c in sends if c.status == 400]
    assert len(rejected) == 1
    assert rejected[0].params.get("parse_mode") == "HTML"
    resent = sends[sends.index(rejected[0]) + 1]
    assert resent.status == 200
    assert resent.params.get("parse_mode") is None
    assert resent.params.get("text") == "Use bold with care."


def test_a_rejected_first_part_of_a_long_answer_does_not_lose_the_rest(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    first = "**First** part. " * 200
    second = "Second part, *also* formatted. " * 100
    bot.deepseek.reply(f"{first.strip()}\n\n{second.strip()}", chunks=1)
    telegram.fail_next("sendMessage", status=400, description=PARSE_ERROR, chat_id=alice.id)
    telegram.send_text(alice, "a long formatted answer")

    telegram.wait_for_message(alice.id, containing="Second part, also formatted.")
    texts = [m.text for m in telegram.bot_messages(alice.id)]
    starts = [t for t in texts if t.startswith("First part.")]
    assert len(starts) == 1, "the first part is shown exactly once"
    assert starts[0] == first.replace("**", "").strip()
    last = telegram.bot_messages(alice.id)[-1]
    assert last.text == second.replace("*", "").strip()
    assert last.entity_texts("italic"), "the part Telegram accepted keeps its formatting"


def test_an_answer_rejected_even_as_plain_text_still_arrives_once_and_the_chat_carries_on(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.fail_next(
        "sendMessage", status=400, description=PARSE_ERROR, chat_id=alice.id, count=2
    )
    # The draft of the first words takes both refusals; the final text comes after it.
    bot.deepseek.reply("**Hello** there", chunks=["**Hello** ", "there"], chunk_delay=0.5)
    telegram.send_text(alice, "greet me")
    telegram.wait_for_message(alice.id, containing="Hello there")
    telegram.send_text(alice, "/ping")
    telegram.wait_for_message(alice.id, containing="Bot ready")

    rejected = [c for c in calls_to(telegram, "sendMessage", alice.id) if c.status == 400]
    assert len(rejected) == 2
    assert [m.text for m in telegram.bot_messages(alice.id)].count("Hello there") == 1
