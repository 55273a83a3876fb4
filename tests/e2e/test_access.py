"""Who may talk to the bot: access requests, admin decisions, refusals."""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_an_unknown_user_is_told_to_send_start_and_nothing_reaches_the_llm(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser
) -> None:
    telegram.send_text(alice, "tell me a secret")
    telegram.wait_for_message(alice.id, containing="/start")
    assert bot.deepseek.generate_requests == ()


def test_start_makes_the_request_pending_and_each_admin_gets_approve_and_reject_buttons(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    telegram.wait_for_message(alice.id, containing="pending")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]
    assert "2001" in request.text
    labels = [button.text for row in request.buttons for button in row]
    assert labels == ["Approve", "Reject"]


def test_a_pending_user_cannot_chat_until_approved_then_is_told_and_can(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]
    telegram.send_text(alice, "hello?")
    telegram.wait_for_message(alice.id, containing="still pending")
    assert bot.deepseek.generate_requests == ()

    telegram.press_button(admin, request, "a:approve:2001")
    telegram.wait_for_message(alice.id, containing="approved")
    assert "Approved Alice" in telegram.wait_for_message(admin.id, containing="Approved")[-1].text

    telegram.send_text(alice, "hello now")
    telegram.wait_for_message(alice.id, containing="Echo: hello now")


def test_admin_approve_and_reject_commands_work_by_text(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    telegram.send_text(alice, "/start")
    telegram.send_text(bob, "/start")
    telegram.wait_for_message(admin.id, containing="Bob")
    telegram.send_text(admin, "/admin approve 2001")
    telegram.wait_for_message(admin.id, containing="Approved Alice")
    telegram.wait_for_message(alice.id, containing="approved")
    telegram.send_text(admin, "/admin reject 2002")
    telegram.wait_for_message(admin.id, containing="Declined Bob")
    telegram.wait_for_message(bob.id, containing="declined")

    telegram.send_text(bob, "let me in")
    telegram.send_text(alice, "hi")
    telegram.wait_for_message(alice.id, containing="Echo: hi")
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["hi"]


def test_non_admins_are_refused_admin_commands_and_buttons(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    telegram.send_text(alice, "/start")
    request = telegram.wait_for_message(admin.id, containing="Alice")[-1]
    telegram.press_button(admin, request, "a:approve:2001")
    telegram.wait_for_message(alice.id, containing="approved")

    telegram.send_text(bob, "/start")
    telegram.send_text(alice, "/admin approve 2002")
    telegram.wait_for_message(alice.id, containing="admins only")
    telegram.send_text(bob, "hello")
    telegram.wait_for_message(bob.id, containing="still pending")


def test_admins_are_always_approved(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    telegram.send_text(admin, "hello from the admin")
    telegram.wait_for_message(admin.id, containing="Echo: hello from the admin")
