"""Answers longer than one Telegram message: split in order, at boundaries, nothing lost."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator

LIMIT = 4096


def paragraphs(count: int, width: int) -> list[str]:
    """Distinct paragraphs of about ``width`` characters, numbered so order can be checked."""
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex"
    out = []
    for number in range(1, count + 1):
        text = f"Paragraph {number:02d}:"
        while len(text) < width:
            text += " " + words.split()[len(text) % 13]
        out.append(text + ".")
    return out


def answer_messages(
    telegram: TelegramEmulator, chat_id: int, first: str, last: str
) -> list[ChatMessage]:
    """The run of bot messages from the one starting with ``first`` to the one ending ``last``."""
    messages = [m for m in telegram.bot_messages(chat_id) if not m.deleted]
    start = next(i for i, m in enumerate(messages) if m.text.startswith(first))
    stop = next(i for i, m in enumerate(messages) if m.text.endswith(last))
    return messages[start : stop + 1]


def test_a_10000_character_answer_arrives_as_several_messages_split_between_paragraphs(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    parts = paragraphs(40, 250)
    text = "\n\n".join(parts)
    assert len(text) >= 10_000
    bot.deepseek.reply(text, chunks=25, chunk_delay=0.01)
    telegram.send_text(alice, "tell me a long story")

    telegram.wait_for_message(alice.id, containing=parts[-1], timeout=15)
    messages = answer_messages(telegram, alice.id, parts[0], parts[-1])

    assert len(messages) >= 3
    assert all(len(m.text) <= LIMIT for m in messages)
    for message in messages:
        pieces = message.text.split("\n\n")
        assert all(piece in parts for piece in pieces), "a message ends mid-paragraph"
    assert "\n\n".join(m.text for m in messages) == text
    assert [m.message_id for m in messages] == sorted(m.message_id for m in messages)


def test_a_huge_code_block_arrives_as_several_messages_each_a_valid_code_block(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    lines = [f"    total = total + {n}  # line {n:04d} of the generated code" for n in range(220)]
    code = "def generated():\n    total = 0\n" + "\n".join(lines) + "\n    return total"
    assert len(code) > 2 * LIMIT
    bot.deepseek.reply(f"Here it is:\n\n```python\n{code}\n```", chunks=10, chunk_delay=0.01)
    telegram.send_text(alice, "write a lot of code")

    telegram.wait_for_message(alice.id, containing="return total", timeout=15)
    messages = answer_messages(telegram, alice.id, "Here it is", "return total")

    code_messages = [m for m in messages if "line " in m.text]
    assert len(code_messages) >= 3
    code_lines = code.splitlines()
    shown: list[str] = []
    for message in code_messages:
        assert len(message.text) <= LIMIT
        assert message.parse_mode == "HTML"
        blocks = [e for e in message.entities if e.type == "pre"]
        assert len(blocks) == 1, "each part is one code block"
        assert blocks[0].language == "python"
        lines = message.entity_texts("pre")[0].splitlines()
        # Lines after the first keep their indentation exactly. The first line of a part may
        # lose it: the emulator trims a message's leading spaces even inside a <pre> (tdlib
        # keeps spaces that belong to an entity), so only its content is compared.
        assert all(line in code_lines for line in lines[1:]), "a part cuts a line in two"
        assert lines[0].strip() in {line.strip() for line in code_lines}
        shown += lines
    assert [line.strip() for line in shown] == [line.strip() for line in code_lines]


def test_a_long_answer_of_emoji_and_markup_characters_is_split_by_what_telegram_counts(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    # Each emoji is two UTF-16 units, and "<" and "&" grow when escaped as HTML: a split
    # counting characters of the source, or of the HTML, would overflow or cut short.
    parts = [f"Line {n:03d}: 1 < 2 & 3 > 2 " + "🙂" * 40 for n in range(120)]
    text = "\n\n".join(parts)
    bot.deepseek.reply(text, chunks=5, chunk_delay=0.01)
    telegram.send_text(alice, "emoji please")

    telegram.wait_for_message(alice.id, containing=parts[-1], timeout=15)
    messages = answer_messages(telegram, alice.id, parts[0], parts[-1])
    assert len(messages) >= 3
    assert all(len(m.text.encode("utf-16-le")) // 2 <= LIMIT for m in messages)
    assert "\n\n".join(m.text for m in messages) == text


def test_a_long_answer_without_any_space_is_cut_hard_but_whole_and_never_inside_an_emoji(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one glyph, 11 units
    blob = "QmFzZTY0" * 700 + family * 700
    bot.deepseek.reply(blob, chunks=4, chunk_delay=0.01)
    telegram.send_text(alice, "one enormous word")

    telegram.wait_for(
        lambda: "".join(m.text for m in blob_messages(telegram, alice.id)) == blob, timeout=15
    )
    messages = blob_messages(telegram, alice.id)
    assert len(messages) >= 3
    assert all(len(m.text.encode("utf-16-le")) // 2 <= LIMIT for m in messages)
    for message in messages:
        _, first_emoji, rest = message.text.partition(family[0])
        assert (first_emoji + rest).replace(family, "") == "", "an emoji was cut in two"


def blob_messages(telegram: TelegramEmulator, chat_id: int) -> list[ChatMessage]:
    return [m for m in telegram.bot_messages(chat_id) if "QmFz" in m.text or "\u200d" in m.text]
