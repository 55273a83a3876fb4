"""What the bot remembers across a restart: the conversation and who was let in."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_the_conversation_context_survives_a_restart(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    telegram.send_text(alice, "my name is Alice")
    telegram.wait_for_message(alice.id, containing="Echo: my name is Alice")

    bot.restart()

    telegram.send_text(alice, "what is my name?")
    telegram.wait_for_message(alice.id, containing="Echo: what is my name?")
    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "my name is Alice"),
        ("assistant", "Echo: my name is Alice"),
        ("user", "what is my name?"),
    ]


def test_an_approved_user_is_still_approved_after_a_restart(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    bot.restart()

    telegram.send_text(alice, "still in?")
    telegram.wait_for_message(alice.id, containing="Echo: still in?")
    assert not [m for m in telegram.bot_messages(alice.id) if "/start" in m.text]


def test_a_pending_request_is_still_pending_after_a_restart_and_can_be_approved(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]

    bot.restart()

    telegram.send_text(alice, "may I?")
    telegram.wait_for_message(alice.id, containing="still pending")
    telegram.press_button(admin, request, "a:approve:2001")
    telegram.wait_for_message(alice.id, containing="approved")
    telegram.send_text(alice, "now?")
    telegram.wait_for_message(alice.id, containing="Echo: now?")


def test_the_context_survives_the_session_being_passivated_for_another_chat(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    # One live session at most: bob's message makes alice's session give way.
    bot = bot_process.configure("sessions", max_alive=1).start()
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    telegram.send_text(alice, "my name is Alice")
    telegram.wait_for_message(alice.id, containing="Echo: my name is Alice")
    telegram.send_text(bob, "my name is Bob")
    telegram.wait_for_message(bob.id, containing="Echo: my name is Bob")

    telegram.send_text(alice, "what is my name?")
    telegram.wait_for_message(alice.id, containing="Echo: what is my name?")
    sent = bot.deepseek.generate_requests[-1].body["messages"]
    assert [m["content"] for m in sent[1:]] == [
        "my name is Alice",
        "Echo: my name is Alice",
        "what is my name?",
    ]


def test_a_session_with_messages_queued_is_not_evicted_to_make_room_for_another_chat(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("sessions", max_alive=1).start()
    approve(telegram, alice, admin)
    bob = telegram.user(2002, "Bob", "bob")
    bot.deepseek.reply("answer one", delay=1.5)
    telegram.send_text(alice, "A1")
    bot.deepseek.wait_for_requests(1)
    telegram.send_text(alice, "A2")
    telegram.send_text(bob, "/ping")  # needs a slot while Alice's session is busy
    telegram.wait_for_message(alice.id, containing="Echo: A2", timeout=15)
    telegram.wait_for_message(bob.id, containing="Bot ready", timeout=15)
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["A1", "A2"]
