"""Usage accounting, tiers and budgets, through the real process and the emulators.

Budgets here are small and the LLM emulator reports fixed token counts, so every figure a
test reads back is known: a request reserves its prompt's estimate plus
``reserve_output_tokens`` (400 here) and settles at what the emulator reported.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimChat, SimUser, TelegramEmulator

BOT = "@test_llm_bot"
TIERS = """
[usage]
default_tier = "free"
reserve_output_tokens = 400

[tiers.free]
title = "Free"
daily_tokens = 1000
monthly_tokens = 5000
models = ["deepseek/deepseek-chat", "gemini/*"]

[tiers.vip]
title = "VIP"

[prices]
"deepseek/*" = { input = 1.0, output = 2.0 }
"""
USAGE_IN, USAGE_OUT = 30, 20  # what the emulators report for every answer


@pytest.fixture
def tiered(bot_process: BotProcess) -> BotProcess:
    """The bot with a free tier of 1,000 tokens a day (two requests' reservations at once)."""
    bot_process.extra_config = TIERS
    bot_process.deepseek.set_usage(USAGE_IN, USAGE_OUT)
    bot_process.gemini.set_usage(USAGE_IN, USAGE_OUT)
    return bot_process.start()


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text`` in private; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def today_tokens(text: str) -> int:
    """The tokens used today, from a /usage or /admin usage reply."""
    match = re.search(r"Today: ([\d,]+)", text)
    assert match is not None, text
    return int(match.group(1).replace(",", ""))


def groups(telegram: TelegramEmulator, n: int) -> list[SimChat]:
    return [telegram.group(-100500 - i, f"Room {i}") for i in range(n)]


def test_usage_shows_the_tokens_the_provider_reported_against_the_tier_budget(
    tiered: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    say(telegram, alice, "one", "Echo: one")
    say(telegram, alice, "two", "Echo: two")

    usage = say(telegram, alice, "/usage", "Today").text

    assert today_tokens(usage) == 2 * (USAGE_IN + USAGE_OUT)
    assert "Free" in usage
    assert "1,000" in usage  # the daily budget
    assert "5,000" in usage  # the monthly one
    assert "resets" in usage


def test_a_budget_holds_under_concurrent_requests_from_one_user(
    tiered: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    rooms = groups(telegram, 5)
    tiered.deepseek.set_latency(2.0)  # every reservation is made before any is settled

    for room in rooms:
        telegram.send_text(alice, f"{BOT} question", chat=room)

    def outcome(room: SimChat) -> str | None:
        said = [m.text for m in telegram.bot_messages(room.id)]
        return next((t for t in said if "Echo: question" in t or "budget" in t), None)

    telegram.wait_for(lambda: all(outcome(room) for room in rooms), timeout=15.0)
    outcomes = [outcome(room) or "" for room in rooms]
    answered = [t for t in outcomes if "Echo: question" in t]
    refused = [t for t in outcomes if "budget" in t]
    # Each reservation is 400 tokens plus the prompt's estimate: two fit in 1,000, three do not.
    assert (len(answered), len(refused)) == (2, 3), outcomes
    assert len(tiered.deepseek.generate_requests) == 2  # the refused never reached the LLM
    assert "resets" in refused[0]

    tiered.deepseek.set_latency(0.0)
    # Settled at 50 tokens each, the two answers leave room for more.
    say(telegram, alice, "and now?", "Echo: and now?")


def test_a_failed_call_releases_its_reservation(
    tiered: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    tiered.deepseek.error(400, message="bad request")
    say(telegram, alice, "fails", "try again")

    rooms = groups(telegram, 2)
    tiered.deepseek.set_latency(1.0)
    for room in rooms:
        telegram.send_text(alice, f"{BOT} after the failure", chat=room)
    for room in rooms:  # both fit only if the failed call's reservation was given back
        telegram.wait_for_message(room.id, containing="Echo: after the failure")

    assert today_tokens(say(telegram, alice, "/usage", "Today").text) == 2 * (USAGE_IN + USAGE_OUT)


def test_over_budget_the_user_is_told_when_it_resets_and_the_llm_is_not_called(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.extra_config = TIERS.replace("daily_tokens = 1000", "daily_tokens = 10")
    bot_process.start()
    approve(telegram, alice, admin)
    calls = len(bot_process.deepseek.generate_requests)

    refusal = say(telegram, alice, "hello", "budget").text

    assert "resets" in refusal
    assert "UTC" in refusal
    assert len(bot_process.deepseek.generate_requests) == calls


def test_a_tier_change_takes_effect_at_once(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.extra_config = TIERS.replace("daily_tokens = 1000", "daily_tokens = 10")
    bot_process.start()
    approve(telegram, alice, admin)
    say(telegram, alice, "hello", "budget")

    verdict = say(telegram, admin, f"/admin tier {alice.id} vip", "tier").text
    assert "VIP" in verdict

    say(telegram, alice, "hello again", "Echo: hello again")
    assert "VIP" in say(telegram, alice, "/usage", "Today").text


def test_model_offers_only_the_models_of_the_users_tier(
    tiered: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)

    menu = say(telegram, alice, "/model", "Choose a model")
    offered = [b.text for row in menu.buttons for b in row]
    assert any("deepseek-chat" in text for text in offered)
    assert not any("deepseek-reasoner" in text for text in offered)
    assert any("gemini" in text for text in offered)

    say(telegram, admin, f"/admin tier {alice.id} vip", "tier")
    menu = say(telegram, alice, "/model", "Choose a model")
    assert any("deepseek-reasoner" in b.text for row in menu.buttons for b in row)


def test_ledger_and_tiers_survive_a_restart_and_admins_see_them(
    tiered: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    say(telegram, alice, "one", "Echo: one")
    say(telegram, admin, f"/admin tier {alice.id} vip", "tier")

    tiered.restart()

    usage = say(telegram, alice, "/usage", "Today").text
    assert today_tokens(usage) == USAGE_IN + USAGE_OUT
    assert "VIP" in usage
    one = say(telegram, admin, f"/admin usage {alice.id}", "Today").text
    assert "Alice" in one
    assert today_tokens(one) == USAGE_IN + USAGE_OUT
    stats = say(telegram, admin, "/admin stats", "Bot stats").text
    assert "Alice" in stats  # among the top users
    assert "free" in stats.lower()  # the tier the tokens were spent on
