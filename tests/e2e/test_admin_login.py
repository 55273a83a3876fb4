"""/admin login end to end: ADMIN_PASSWORD guards block/unblock; the password is deleted,
never answered by the LLM and never written to the log."""

from __future__ import annotations

import json

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator

PASSWORD = "e2e-Adm1n-passw0rd"
PROMPT = "Send the admin password"
GUARDED = "guarded by the admin password"


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text``; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def with_password(bot_process: BotProcess) -> BotProcess:
    bot_process.env["ADMIN_PASSWORD"] = PASSWORD
    return bot_process.start()


def deleted_texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    """The texts of the user messages the bot deleted in a chat."""
    return [
        telegram.message(chat_id, int(call.params["message_id"])).text
        for call in telegram.calls("deleteMessage")
        if str(call.params.get("chat_id")) == str(chat_id)
    ]


def everything_the_llm_saw(bot: BotProcess) -> str:
    return json.dumps([request.body for request in bot.deepseek.requests])


def test_login_deletes_the_password_and_then_a_guarded_block_works(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser, alice: SimUser
) -> None:
    bot = with_password(bot_process)
    approve(telegram, alice, admin)  # approve is not guarded
    say(telegram, admin, f"/admin block {alice.id}", GUARDED)

    say(telegram, admin, "/admin login", PROMPT)
    say(telegram, admin, PASSWORD, "Logged in for 15 minutes")

    telegram.wait_for(lambda: deleted_texts(telegram, admin.id) == [PASSWORD])
    say(telegram, admin, f"/admin block {alice.id}", "Blocked Alice")
    say(telegram, admin, "back to chatting", "Echo: back to chatting")
    assert PASSWORD not in everything_the_llm_saw(bot)
    assert PASSWORD not in bot.log()


def test_wrong_passwords_are_counted_then_login_is_locked(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser, alice: SimUser
) -> None:
    bot = with_password(bot_process.configure("logging", level="DEBUG"))  # the chattiest log
    say(telegram, admin, "/admin login", PROMPT)

    say(telegram, admin, "not-the-password-1", "2 attempts left")
    say(telegram, admin, "not-the-password-2", "1 attempt left")
    say(telegram, admin, "not-the-password-3", "Too many wrong passwords")
    say(telegram, admin, "/admin login", "Login is locked")
    say(telegram, admin, PASSWORD, f"Echo: {PASSWORD}")  # no prompt open: a plain question

    guesses = [f"not-the-password-{n}" for n in (1, 2, 3)]
    telegram.wait_for(lambda: deleted_texts(telegram, admin.id) == guesses)
    log = bot.log()
    assert "login locked" in log
    for guess in guesses:
        assert guess not in log
        assert guess not in everything_the_llm_saw(bot)
    assert PASSWORD not in log


def test_an_unanswered_login_prompt_times_out_and_text_reaches_the_llm_again(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    bot_process.configure("admin", login_timeout_seconds=1.5)
    with_password(bot_process)

    say(telegram, admin, "/admin login", PROMPT)
    telegram.wait_for_message(admin.id, containing="Login timed out", timeout=15.0)

    say(telegram, admin, "hello again", "Echo: hello again")
    say(telegram, admin, f"/admin unblock {admin.id}", GUARDED)


def test_cancel_ends_the_prompt_and_logout_ends_the_elevation(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser, alice: SimUser
) -> None:
    with_password(bot_process)
    approve(telegram, alice, admin)

    say(telegram, admin, "/admin login", PROMPT)
    say(telegram, admin, "/cancel", "Login cancelled.")
    say(telegram, admin, "/cancel", "nothing to cancel")
    say(telegram, admin, "/admin login", PROMPT)
    say(telegram, admin, PASSWORD, "Logged in")
    say(telegram, admin, "/admin logout", "Logged out")

    say(telegram, admin, f"/admin block {alice.id}", GUARDED)


def test_without_a_password_nothing_is_guarded(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser, alice: SimUser
) -> None:
    approve(telegram, alice, admin)

    say(telegram, admin, "/admin login", "No admin password is set")
    say(telegram, admin, f"/admin block {alice.id}", "Blocked Alice")


def test_login_is_refused_in_a_group(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    with_password(bot_process)
    group = telegram.group(-100500, "Team")

    telegram.send_text(admin, "/admin login", chat=group)

    telegram.wait_for_message(group.id, containing="Log in in your private chat")
