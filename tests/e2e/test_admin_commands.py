"""/admin stats, users (paged), models, the usage text and /help for admins."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text``; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def buttons(message: ChatMessage) -> list[tuple[str, str | None]]:
    return [(b.text, b.callback_data) for row in message.buttons for b in row]


def test_stats_show_users_chats_requests_tokens_latency_uptime_and_restarts(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.send_text(telegram.user(2002, "Bob"), "/start")
    telegram.wait_for_message(admin.id, containing="Bob")
    say(telegram, alice, "hi", "Echo: hi")
    bot.deepseek.error(400, message="bad request")
    say(telegram, alice, "and this?", "try again")

    stats = say(telegram, admin, "/admin stats", "Bot stats").text.splitlines()

    assert "Users: 2 active · 1 pending · 0 blocked (3 in all)" in stats
    assert "Active chats: 1 today · 1 in 7 days" in stats
    assert "LLM requests today: 1 ok · 1 failed" in stats
    [tokens] = [line for line in stats if line.startswith("Tokens today: ")]
    assert tokens != "Tokens today: 0 in · 0 out"
    [deepseek] = [line for line in stats if line.startswith("  deepseek: ")]
    assert deepseek.endswith(" ms (1 ok, 1 failed)")
    assert any(line.startswith("Uptime: ") for line in stats)
    assert "Restarts in the last hour: 0" in stats


def test_users_are_listed_twenty_a_page_with_next_and_prev_buttons(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    for n in range(25):
        telegram.send_text(telegram.user(3000 + n, f"User{n:02d}"), "/start")
    telegram.wait_for_message(admin.id, containing="Access request", count=25)

    first = say(telegram, admin, "/admin users pending", "Users (pending)")
    assert first.text.splitlines()[0] == "Users (pending): 25 · page 1/2"
    assert len(first.text.splitlines()) == 21
    assert "3000 · User00 · pending" in first.text
    assert buttons(first) == [("Next ›", "a:users:pending:2")]  # noqa: RUF001

    telegram.press_button(admin, first, "a:users:pending:2")
    telegram.wait_for(lambda: "page 2/2" in telegram.message(admin.id, first.message_id).text)
    second = telegram.message(admin.id, first.message_id)
    assert len(second.text.splitlines()) == 6
    assert "3024 · User24 · pending" in second.text
    assert buttons(second) == [("‹ Prev", "a:users:pending:1")]  # noqa: RUF001

    telegram.press_button(admin, second, "a:users:pending:1")
    telegram.wait_for(lambda: "page 1/2" in telegram.message(admin.id, first.message_id).text)

    assert "page 2/2" in say(telegram, admin, "/admin users pending 2", "Users (pending)").text
    assert say(telegram, admin, "/admin users blocked", "blocked users").text == (
        "No blocked users."
    )
    everyone = say(telegram, admin, "/admin users", "Users (all)")
    assert everyone.text.startswith("Users (all): 26 · page 1/2")  # the admin too


def test_models_show_the_defaults_until_listed_then_every_cached_model(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    before = say(telegram, admin, "/admin models", "Models").text.splitlines()
    assert before.count("  not listed yet — open /model once") == 2
    assert "deepseek — default provider" in before
    assert "  ✓ deepseek-chat" in before
    assert "  ✓ gemini-2.5-flash" in before

    say(telegram, admin, "/model", "Choose a model")
    after = say(telegram, admin, "/admin models", "Models").text.splitlines()

    assert "  not listed yet — open /model once" not in after
    for line in ("  ✓ deepseek-chat", "  · deepseek-reasoner", "  · gemini-2.5-pro"):
        assert line in after


def test_an_unknown_subcommand_gets_the_usage(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    for command in ("/admin", "/admin frobnicate", "/admin approve someone", "/debug nothing"):
        usage = say(telegram, admin, command, "/admin stats").text
        assert "/admin users [pending|active|blocked] [page]" in usage
        assert "/debug deadletters" in usage


def test_help_lists_admin_and_debug_commands_for_admins_only(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    admin_help = say(telegram, admin, "/help", "/clear").text
    user_help = say(telegram, alice, "/help", "/clear").text

    for command in ("/admin stats", "/admin block <id>", "/admin models", "/debug tree"):
        assert command in admin_help
    assert "/admin" not in user_help
    assert "/debug" not in user_help
