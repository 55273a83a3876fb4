"""Many chats at once: each waits for its own answer only, never for the other chats'."""

from __future__ import annotations

import time

from tests.e2e.harness import BotProcess
from tests.emulators.telegram import SimUser, TelegramEmulator

CHATS = 20
PROVIDER_DELAY = 1.0


def let_in(telegram: TelegramEmulator, users: list[SimUser], admin: SimUser) -> None:
    """Each user asks with /start and the admin approves them all by command."""
    for user in users:
        telegram.send_text(user, "/start")
    telegram.wait_for_message(admin.id, containing="Access request", count=len(users))
    for user in users:
        telegram.send_text(admin, f"/admin approve {user.id}")
    for user in users:
        telegram.wait_for_message(user.id, containing="approved")


def test_twenty_chats_asking_at_once_are_answered_together_not_one_after_another(
    bot_process: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    bot = bot_process.configure("providers.deepseek", max_concurrency=CHATS).start()
    users = [telegram.user(3001 + n, f"User{n:02d}", f"user{n:02d}") for n in range(CHATS)]
    let_in(telegram, users, admin)
    bot.deepseek.slow_when(contains="at once", delay=PROVIDER_DELAY)

    started = time.monotonic()
    for user in users:
        telegram.send_text(user, f"question from {user.first_name}, at once")
    for user in users:
        telegram.wait_for_message(user.id, containing=f"Echo: question from {user.first_name}")
    elapsed = time.monotonic() - started

    assert elapsed < 4 * PROVIDER_DELAY, f"{CHATS} answers took {elapsed:.1f} s"
    assert bot.deepseek.max_in_flight >= CHATS // 2, "requests overlapped"
    asked = sorted(r.last_user_text for r in bot.deepseek.generate_requests)
    assert asked == sorted(f"question from {u.first_name}, at once" for u in users)
