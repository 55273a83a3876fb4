"""Admins decide who may talk, from Telegram: refusals, block (at once), unblock, reject."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text``; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def test_non_admins_are_refused_every_admin_and_debug_command_and_nothing_changes(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    telegram.send_text(bob, "/start")
    telegram.wait_for_message(admin.id, containing="Bob")

    for command in (
        "/admin approve 2002",
        "/admin block 2002",
        "/admin stats",
        "/admin users",
        "/admin models",
        "/debug tree",
        "/debug actor /storage",
    ):
        say(telegram, alice, command, "admins only")
    welcome = telegram.wait_for_message(alice.id, containing="approved")[-1]
    telegram.press_button(alice, welcome, "a:approve:2002", strict=False)
    telegram.wait_for(
        lambda: [a for a in telegram.answered_callbacks if a.user_id == alice.id and a.text]
    )

    refusals = [a.text for a in telegram.answered_callbacks if a.user_id == alice.id]
    assert refusals == ["That command is for admins only."]
    say(telegram, bob, "hello", "still pending")
    assert not [m for m in telegram.bot_messages(bob.id) if "approved" in m.text]
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == []


def test_a_blocked_user_is_ignored_from_their_very_next_message_until_unblocked(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    say(telegram, alice, "hi", "Echo: hi")  # her session now caches "active"

    say(telegram, admin, "/admin block 2001", "Blocked Alice (2001)")
    telegram.send_text(alice, "are you there?")
    telegram.send_text(alice, "/help")
    # Her session handles her updates in order, and an "a:" press is always answered (with
    # a refusal): once it is, the two messages before it have been handled.
    welcome = telegram.wait_for_message(alice.id, containing="approved")[-1]
    telegram.press_button(alice, welcome, "a:users:all:1", strict=False)
    telegram.wait_for(lambda: [a for a in telegram.answered_callbacks if a.user_id == alice.id])

    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["hi"]
    texts = [m.text for m in telegram.bot_messages(alice.id)]
    assert not [t for t in texts if "are you there" in t or "/model" in t or "lock" in t]

    say(telegram, admin, "/admin unblock 2001", "Unblocked Alice (2001)")
    telegram.wait_for_message(alice.id, containing="restored your access")
    say(telegram, alice, "back again", "Echo: back again")
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["hi", "back again"]


def test_a_block_is_silent_and_repeating_it_changes_nothing(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    sent_to_alice = len(telegram.bot_messages(alice.id))

    say(telegram, admin, "/admin block 2001", "Blocked Alice")
    say(telegram, admin, "/admin block 2001", "Alice (2001) is already blocked.")
    say(telegram, admin, "/admin unblock 2002", "No user with id 2002 has asked for access.")
    say(telegram, admin, "/admin block 1000", "is an admin")

    assert len(telegram.bot_messages(alice.id)) == sent_to_alice
    say(telegram, admin, "hello", "Echo: hello")  # the admin was not shut out


def test_a_declined_user_can_be_unblocked_and_is_told(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]
    telegram.press_button(admin, request, "a:reject:2001")
    telegram.wait_for_message(alice.id, containing="declined")
    telegram.wait_for(lambda: "Declined" in telegram.message(admin.id, request.message_id).text)
    telegram.send_text(alice, "please?")

    say(telegram, admin, "/admin unblock 2001", "Unblocked Alice")
    telegram.wait_for_message(alice.id, containing="restored your access")
    say(telegram, alice, "thanks", "Echo: thanks")
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["thanks"]


def test_approve_and_reject_answer_the_press_and_edit_the_request(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]

    telegram.press_button(admin, request, "a:approve:2001")
    telegram.wait_for(lambda: "Approved" in telegram.message(admin.id, request.message_id).text)
    edited = telegram.message(admin.id, request.message_id)
    assert edited.text == "✅ Approved Alice (2001)."
    assert edited.buttons == ()
    toast = telegram.wait_for(
        lambda: [a for a in telegram.answered_callbacks if a.user_id == admin.id]
    )[-1]
    assert toast.text == "✅ Approved Alice (2001)."
