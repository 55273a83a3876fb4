"""Actors that crash, from causes a user or Telegram can produce: restarts lose and repeat nothing.

The runtime's own rules (restart intensity, escalation, poison messages, per-key retirement
in the sessions pool) are tested in tests/runtime/ with fake actors. Here the real process
meets crashes that come from outside: Telegram refusing the token for a moment (the gateway
crashes and is restarted by the ``io`` supervisor) or for good (``io`` escalates, the root
gives up, the process exits 1 saying why), and an admin command no actor expected.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.e2e.faults import assert_answered_once, assert_still_serving, mark, replies_since
from tests.e2e.harness import TOKEN, BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_a_gateway_crash_right_after_taking_updates_neither_loses_nor_repeats_them(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)
    # The poll waiting now hands out alice's message; the next one, which would confirm it,
    # is refused: PTB raises InvalidToken, polling ends and the gateway is restarted.
    telegram.fail_next("getUpdates", status=401, description="Unauthorized")
    telegram.send_text(alice, "just before the crash")
    telegram.wait_for(lambda: [c for c in telegram.calls("getUpdates") if c.status == 401])
    telegram.send_text(bob, "during the restart")

    telegram.wait_for_message(alice.id, containing="Echo: just before the crash")
    telegram.wait_for_message(bob.id, containing="Echo: during the restart")
    assert bot.log_lines("restarting /io/gateway"), "the gateway did crash and restart"
    assert_answered_once(bot, telegram, alice, alice_mark, ["Echo: just before the crash"])
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: during the restart"])
    asked = [r.last_user_text for r in bot.deepseek.generate_requests]
    assert asked.count("just before the crash") == 1
    assert asked.count("during the restart") == 1


def test_an_admin_command_naming_an_id_beyond_64_bits_is_answered_and_the_bot_stays_up(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    since = mark(telegram, admin.id)
    try:
        telegram.send_text(admin, "/admin approve 9999999999999999999")
        time.sleep(1.0)  # a crash storm takes milliseconds: nothing to wait on but the clock
        assert bot.process is not None
        assert bot.process.poll() is None, "the bot exited"
        # Crash reports to admins (actors/admin/crashes.py) are notices, not the answer.
        replies = [t for t in replies_since(telegram, admin.id, since) if not t.startswith("💥")]
        assert len(replies) == 1, f"the admin got {replies}"
        assert_still_serving(bot, telegram, admin)
        telegram.send_text(alice, "still there?")
        telegram.wait_for_message(alice.id, containing="Echo: still there?")
    finally:
        status = bot.stop()  # here, not in the fixture: exiting 1 is this test's failure
    assert status == 0


def test_a_token_revoked_for_good_escalates_to_the_root_and_the_bot_exits_1_saying_why(
    bot: BotProcess, telegram: TelegramEmulator
) -> None:
    # Every restart of the gateway meets the refusal again: /io restarts it with back-off
    # (0.5 s to 8 s) until its intensity is spent, then escalates; the root's restarts of /io
    # fail at once, so the root gives up too.
    telegram.fail_next("getUpdates", status=401, description="Unauthorized", count=10_000)
    telegram.fail_next("getMe", status=401, description="Unauthorized", count=10_000)
    assert bot.process is not None
    try:
        bot.process.wait(timeout=40)
    finally:
        status = bot.stop()  # here, not in the fixture, which expects a clean stop

    assert status == 1
    [reason] = bot.log_lines("CRITICAL")
    assert "root supervisor gave up" in reason
    assert "Telegram rejected the bot token" in reason
    assert bot.log_lines("escalating: /io")
    assert TOKEN.partition(":")[2] not in bot.log(), "the token stays out of the log"


INJECT = Path(__file__).with_name("inject")  # its sitecustomize.py wraps the session
POISON = "\N{BOMB}"


def test_a_poison_update_ends_in_dead_letters_with_the_user_told_and_other_chats_carry_on(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    paths = [str(INJECT), *filter(None, [os.environ.get("PYTHONPATH")])]
    bot_process.env.update(PYTHONPATH=os.pathsep.join(paths), BOT_TEST_POISON=POISON)
    bot = bot_process.start()
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)

    telegram.send_text(alice, f"{POISON} this crashes my session every time")
    telegram.send_text(bob, "meanwhile, in another chat")

    telegram.wait_for_message(alice.id, containing="couldn't handle it")
    telegram.wait_for_message(bob.id, containing="Echo: meanwhile, in another chat")
    telegram.send_text(alice, "and now?")
    telegram.wait_for_message(alice.id, containing="Echo: and now?")
    assert len(bot.log_lines("injected fault: a poison update")) >= 3, "retried, then given up"
    telegram.send_text(admin, "/debug deadletters")
    [dead] = telegram.wait_for_message(admin.id, containing="poison")
    assert "IncomingText" in dead.text

    bot.restart()  # the failure line was its answer: it is not replayed
    assert_still_serving(bot, telegram, admin)
    alice_replies = replies_since(telegram, alice.id, alice_mark)
    assert sum("couldn't handle it" in text for text in alice_replies) == 1, alice_replies
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: meanwhile, in another chat"])
    asked = [r.last_user_text for r in bot.deepseek.generate_requests]
    assert not [text for text in asked if POISON in text], "the poison never reached the model"
