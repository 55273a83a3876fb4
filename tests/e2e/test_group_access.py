"""Group access: a group is let in like a user, by whoever added the bot or by an admin.

An admin or an approved user adding the bot makes the group active (everyone in it is
answered); anyone else makes it pending (admins get Approve / Reject buttons, and people
who address the bot hear now and then that it waits). Admins decide with the same
commands as for users, on the group's negative id.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimChat, SimUser, TelegramEmulator

BOT = "@test_llm_bot"  # the emulator's default bot username
TEAM = -100777


@pytest.fixture
def bot(bot_process: BotProcess) -> BotProcess:
    # Several messages to one group within seconds: faster than Telegram's 20 a minute.
    return bot_process.configure("telegram", group_rate_per_minute=600).start()


@pytest.fixture
def bob(telegram: TelegramEmulator) -> SimUser:
    return telegram.user(2002, "Bob", "bob")


def _team(telegram: TelegramEmulator) -> SimChat:
    """The group "Team", which the bot is not in yet."""
    return telegram.group(TEAM, "Team", with_bot=False)


def _texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text for m in telegram.bot_messages(chat_id)]


def _say(telegram: TelegramEmulator, admin: SimUser, text: str, expect: str) -> None:
    before = sum(expect in t for t in _texts(telegram, admin.id))
    telegram.send_text(admin, text)
    telegram.wait_for_message(admin.id, containing=expect, count=before + 1)


def test_an_approved_user_adds_the_bot_and_a_stranger_in_the_group_is_answered(
    bot: BotProcess,
    telegram: TelegramEmulator,
    alice: SimUser,
    bob: SimUser,
    admin: SimUser,
) -> None:
    team = _team(telegram)
    approve(telegram, alice, admin)
    added = telegram.add_bot_to_group(team, by=alice)
    telegram.wait_for_message(TEAM, containing="Hi everyone")
    telegram.wait_for_message(admin.id, containing="Alice (2001) added the bot to Team (-100777).")
    assert bot.update_done(added)

    telegram.send_text(bob, f"{BOT} what is 2+2?", chat=team)
    telegram.wait_for_message(TEAM, containing="Echo: what is 2+2?")
    assert not [t for t in _texts(telegram, bob.id) if "pending" in t], "Bob asked for nothing"


def test_a_group_a_stranger_added_waits_for_an_admin_without_flooding_and_is_approved(
    bot: BotProcess,
    telegram: TelegramEmulator,
    bob: SimUser,
    admin: SimUser,
) -> None:
    team = _team(telegram)
    added = telegram.add_bot_to_group(team, by=bob)
    telegram.wait_for_message(TEAM, containing="An admin must approve this group")
    [request] = telegram.wait_for_message(admin.id, containing="Let the group in?")
    assert request.text == "Bob (2002) added the bot to Team (-100777). Let the group in?"
    assert [b.callback_data for row in request.buttons for b in row] == [
        "a:approve:-100777",
        "a:reject:-100777",
    ]
    assert bot.update_done(added)

    asked = [telegram.send_text(bob, f"{BOT} hello {n}", chat=team) for n in range(3)]
    telegram.wait_for_message(TEAM, containing="waiting for an admin's approval")
    assert all(bot.update_done(update_id) for update_id in asked)
    waiting = [t for t in _texts(telegram, TEAM) if "waiting for an admin" in t]
    assert len(waiting) == 1, "one reply for the whole group, not one per message"
    assert bot.deepseek.generate_requests == ()

    telegram.press_button(admin, request, "a:approve:-100777")
    telegram.wait_for_message(TEAM, containing="An admin approved this group")
    telegram.wait_for(
        lambda: "Approved Team" in telegram.message(admin.id, request.message_id).text
    )
    telegram.send_text(bob, f"{BOT} now?", chat=team)
    telegram.wait_for_message(TEAM, containing="Echo: now?")


def test_a_rejected_group_is_silent_even_for_approved_users_and_is_listed_as_blocked(
    bot: BotProcess,
    telegram: TelegramEmulator,
    alice: SimUser,
    bob: SimUser,
    admin: SimUser,
) -> None:
    team = _team(telegram)
    approve(telegram, alice, admin)
    telegram.add_bot_to_group(team, by=alice)
    telegram.send_text(bob, f"{BOT} first", chat=team)
    telegram.wait_for_message(TEAM, containing="Echo: first")

    _say(telegram, admin, f"/admin reject {TEAM}", "Declined Team (-100777).")
    telegram.wait_for_message(TEAM, containing="an admin declined this group")
    sent = len(telegram.bot_messages(TEAM))
    asked = [
        telegram.send_text(bob, f"{BOT} second", chat=team),
        telegram.send_text(alice, f"{BOT} third", chat=team),
        telegram.send_text(bob, "/help", chat=team),
    ]
    assert all(bot.update_done(update_id) for update_id in asked)
    assert len(telegram.bot_messages(TEAM)) == sent
    assert [r.last_user_text for r in bot.deepseek.generate_requests] == ["first"]

    _say(telegram, admin, "/admin groups blocked", "Groups (blocked): 1")
    assert "-100777 · Team · blocked · added by 2001" in _texts(telegram, admin.id)[-1]


def test_removal_is_told_to_admins_and_a_groups_access_survives_a_restart(
    bot: BotProcess,
    telegram: TelegramEmulator,
    alice: SimUser,
    bob: SimUser,
    admin: SimUser,
) -> None:
    team = _team(telegram)
    approve(telegram, alice, admin)
    telegram.add_bot_to_group(team, by=alice)
    telegram.wait_for_message(TEAM, containing="Hi everyone")

    bot.restart()
    telegram.send_text(bob, f"{BOT} still there?", chat=team)
    telegram.wait_for_message(TEAM, containing="Echo: still there?")

    removed = telegram.remove_bot_from_group(team, by=bob)
    telegram.wait_for_message(admin.id, containing="Bob (2002) removed the bot from Team")
    assert bot.update_done(removed)
    _say(telegram, admin, "/admin groups left", "Groups (left): 1")
