"""Files users send (issue #5): documents, photos and voice, end to end through the real bot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.actors.files.pdfs import make_pdf
from tests.e2e.harness import BotProcess, approve
from tests.e2e.test_model_menu import choose, open_menu
from tests.emulators.llm_script import SeenAttachment
from tests.emulators.telegram import SimUser, TelegramEmulator

PDF = make_pdf("Revenue grew by 12 percent")
PHOTO = b"\xff\xd8\xff\xe0 a red car"
REMEMBERED_PHOTO = "[Image sent to the model: photo.jpg]"


def stored_files(bot: BotProcess) -> list[Path]:
    root = bot.workdir / "data" / "files"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def file_rows(bot: BotProcess) -> list[tuple[str, str, int, str]]:
    with sqlite3.connect(bot.workdir / "data" / "bot.sqlite3") as db:
        return list(db.execute("SELECT original_name, mime_type, size, path FROM files"))


def test_a_pdf_reaches_gemini_as_itself_and_is_stored_under_a_generated_name(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)

    telegram.send_document(
        alice, PDF, file_name="report.pdf", mime_type="application/pdf", caption="What grew?"
    )

    telegram.wait_for_message(alice.id, containing="Echo: What grew?")
    request = bot.gemini.generate_requests[-1]
    assert request.attachments == (
        SeenAttachment(role="user", mime_type="application/pdf", data=PDF),
    )
    [(name, mime, size, path)] = file_rows(bot)
    assert (name, mime, size) == ("report.pdf", "application/pdf", len(PDF))
    assert "report" not in path
    assert [p.read_bytes() for p in stored_files(bot)] == [PDF]


def test_a_pdf_and_a_text_file_reach_deepseek_as_extracted_text(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    telegram.send_document(alice, PDF, file_name="report.pdf", mime_type="application/pdf")
    telegram.wait_for_message(alice.id, containing="Revenue grew by 12 percent")
    telegram.send_document(
        alice,
        b"name,total\nAda,42\n",
        file_name="totals.csv",
        mime_type="text/csv",
        caption="Who has the most?",
    )
    telegram.wait_for_message(alice.id, containing="Ada,42")

    first, second = bot.deepseek.generate_requests[-2:]
    assert first.attachments == second.attachments == ()
    assert first.last_user_text.startswith(
        'Summarise this.\n\n<file name="report.pdf" type="application/pdf">'
    )
    assert "Revenue grew by 12 percent" in first.last_user_text
    assert second.last_user_text.startswith("Who has the most?")
    assert "name,total\nAda,42" in second.last_user_text


def test_a_follow_up_question_carries_the_files_content(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.send_document(alice, PDF, file_name="report.pdf", mime_type="application/pdf")
    telegram.wait_for_message(alice.id, containing="Revenue grew by 12 percent")

    telegram.send_text(alice, "and by how much?")
    telegram.wait_for_message(alice.id, containing="Echo: and by how much?")

    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "Revenue grew by 12 percent" in sent[1]["content"]


def test_an_oversize_file_is_refused_before_download_and_nothing_is_stored(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("files", max_bytes=1024).start()
    approve(telegram, alice, admin)

    telegram.send_document(alice, b"x" * 2048, file_name="big.txt", mime_type="text/plain")

    telegram.wait_for_message(alice.id, containing="This file is 2 KB; the most I take is 1 KB.")
    assert telegram.calls("getFile") == []
    assert stored_files(bot) == []
    assert file_rows(bot) == []
    assert bot.deepseek.generate_requests == ()


def test_a_disallowed_file_is_refused_with_one_clear_line(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    telegram.send_document(
        alice, b"MZ", file_name="setup.exe", mime_type="application/x-msdownload"
    )

    [refusal] = telegram.wait_for_message(alice.id, containing="I can't take .exe")
    assert "I can read: PDF" in refusal.text
    assert telegram.calls("getFile") == []
    assert stored_files(bot) == []


def test_a_photo_to_a_text_only_model_gets_a_reply_naming_a_model_that_can(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    telegram.send_photo(alice, b"\xff\xd8\xff\xe0 a cat", caption="what is this?")

    telegram.wait_for_message(
        alice.id,
        containing="deepseek-chat can't look at images. gemini-2.5-flash (gemini) can",
    )
    assert bot.deepseek.generate_requests == ()
    assert stored_files(bot) == []


def test_a_voice_message_reaches_gemini_as_audio(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)

    telegram.send_voice(alice, b"OggS voice message")

    telegram.wait_for_message(alice.id, containing="Echo: Summarise this.")
    assert bot.gemini.generate_requests[-1].attachments == (
        SeenAttachment(role="user", mime_type="audio/ogg", data=b"OggS voice message"),
    )


def test_files_past_the_daily_quota_are_refused_and_not_fetched(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("files", per_user_per_day=1).start()
    approve(telegram, alice, admin)
    telegram.send_document(alice, b"first", file_name="a.txt", mime_type="text/plain")
    telegram.wait_for_message(alice.id, containing="first")

    telegram.send_document(alice, b"second", file_name="b.txt", mime_type="text/plain")

    telegram.wait_for_message(alice.id, containing="You have sent 1 file in the last 24 hours")
    assert len(telegram.calls("getFile")) == 1
    assert [name for name, *_ in file_rows(bot)] == ["a.txt"]


def test_a_long_text_file_is_cut_to_the_budget_and_the_user_is_told(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("files", max_text_tokens=50).start()
    approve(telegram, alice, admin)
    log = "".join(f"line {n}: all good\n" for n in range(200))

    telegram.send_document(alice, log.encode(), file_name="app.log", mime_type="text/plain")

    telegram.wait_for_message(alice.id, containing="only its beginning goes to the model")
    telegram.wait_for_message(alice.id, containing="[truncated: only the first")
    sent = bot.deepseek.generate_requests[-1].last_user_text
    assert "line 0: all good" in sent
    assert "line 199" not in sent


def gemini_user_texts(bot: BotProcess) -> list[str]:
    """The text parts of the user turns of Gemini's last generation request."""
    contents = bot.gemini.generate_requests[-1].body["contents"]
    return [
        part["text"]
        for content in contents
        if content["role"] == "user"
        for part in content["parts"]
        if "text" in part
    ]


def test_a_follow_up_to_a_photo_sends_the_photo_again_even_after_a_restart(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)
    telegram.send_photo(alice, PHOTO, caption="What is this?")
    telegram.wait_for_message(alice.id, containing="Echo: What is this?")

    telegram.send_text(alice, "and what colour is it?")

    telegram.wait_for_message(alice.id, containing="Echo: and what colour is it?")
    again = (SeenAttachment(role="user", mime_type="image/jpeg", data=PHOTO),)
    assert bot.gemini.generate_requests[-1].attachments == again
    assert any(REMEMBERED_PHOTO in text for text in gemini_user_texts(bot))

    bot.restart()
    telegram.send_text(alice, "is it new?")

    telegram.wait_for_message(alice.id, containing="Echo: is it new?")
    assert bot.gemini.generate_requests[-1].attachments == again


def test_a_follow_up_to_a_text_only_model_carries_the_remembered_line_not_the_photo(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)
    telegram.send_photo(alice, PHOTO, caption="What is this?")
    telegram.wait_for_message(alice.id, containing="Echo: What is this?")
    choose(telegram, alice, open_menu(telegram, alice), "deepseek · deepseek-chat")

    telegram.send_text(alice, "and what colour is it?")

    telegram.wait_for_message(alice.id, containing="Echo: and what colour is it?")
    request = bot.deepseek.generate_requests[-1]
    assert request.attachments == ()
    sent = request.body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == f"What is this?\n\n{REMEMBERED_PHOTO}"


def test_a_follow_up_after_the_photo_is_gone_from_disk_carries_the_remembered_line(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    approve(telegram, alice, admin)
    telegram.send_photo(alice, PHOTO, caption="What is this?")
    telegram.wait_for_message(alice.id, containing="Echo: What is this?")
    for path in stored_files(bot):
        path.unlink()  # as retention would

    telegram.send_text(alice, "and what colour is it?")

    telegram.wait_for_message(alice.id, containing="Echo: and what colour is it?")
    assert bot.gemini.generate_requests[-1].attachments == ()
    assert any(REMEMBERED_PHOTO in text for text in gemini_user_texts(bot))
