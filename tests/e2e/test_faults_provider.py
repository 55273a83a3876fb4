"""LLM provider faults, while another chat talks: one answer or one friendly line, never more.

test_provider_errors.py checks what each failure looks like to the user who met it; this file
checks the three properties of issue #6 for every provider fault: the user gets exactly one
reply (the answer after a retry, or one friendly line), a second chat is answered meanwhile as
if nothing happened, and the process stays up (and exits 0 on SIGTERM, checked by the fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from actors.chat import texts
from tests.e2e.faults import assert_answered_once, mark
from tests.e2e.harness import BotProcess, approve
from tests.emulators.llm_script import Disconnect, Fail

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.emulators._llm_server import LLMEmulator
    from tests.emulators.telegram import SimUser, TelegramEmulator

QUESTION = "alice asks despite the fault"
ECHO = f"Echo: {QUESTION}"
UNAVAILABLE = texts.PROVIDER_FAILURE["ProviderUnavailable"]
BUSY = texts.PROVIDER_FAILURE["RateLimited"]
CUT_OFF = texts.PROVIDER_FAILURE["StreamInterrupted"]


@dataclass(frozen=True, kw_only=True)
class Fault:
    """A provider fault met by alice's question, and what she must see because of it."""

    arm: Callable[[LLMEmulator], None]
    reply: str
    requests: int  # generation requests her question costs (max_retries is 2: at most 3)


DEEPSEEK_FAULTS = {
    "a_500_once_is_retried": Fault(arm=lambda api: api.error(500), reply=ECHO, requests=2),
    "a_503_with_retry_after_once_is_retried": Fault(
        arm=lambda api: api.error(503, retry_after=0.5), reply=ECHO, requests=2
    ),
    "a_connection_dropped_before_any_byte_once_is_retried": Fault(
        arm=lambda api: api.disconnect(), reply=ECHO, requests=2
    ),
    "a_503_every_time_gives_one_friendly_line": Fault(
        arm=lambda api: api.when(QUESTION, Fail(status=503)), reply=UNAVAILABLE, requests=3
    ),
    "a_429_every_time_gives_one_friendly_line": Fault(
        arm=lambda api: api.when(QUESTION, Fail(status=429, retry_after=0.5)),
        reply=BUSY,
        requests=3,
    ),
    "a_dropped_connection_every_time_gives_one_friendly_line": Fault(
        arm=lambda api: api.when(QUESTION, Disconnect()), reply=UNAVAILABLE, requests=3
    ),
    "a_malformed_body_gives_one_friendly_line_without_retrying": Fault(
        arm=lambda api: api.malformed(), reply=texts.PROVIDER_FAILURE_DEFAULT, requests=1
    ),
    "a_stream_cut_mid_answer_keeps_the_partial_answer_with_one_line": Fault(
        arm=lambda api: api.cut_stream(after_chunks=3),
        reply=f"Echo: alice asks\n\n{CUT_OFF}",
        requests=1,
    ),
}

GEMINI_FAULTS = {
    "a_429_with_retry_delay_once_is_retried": Fault(
        arm=lambda api: api.error(429, retry_after=0.5), reply=ECHO, requests=2
    ),
    "a_malformed_body_gives_one_friendly_line_without_retrying": Fault(
        arm=lambda api: api.malformed(), reply=texts.PROVIDER_FAILURE_DEFAULT, requests=1
    ),
    "a_stream_cut_mid_answer_keeps_the_partial_answer_with_one_line": Fault(
        # Seven chunks of thoughts come first ("Thinking about: ..."); users are not shown them.
        arm=lambda api: api.cut_stream(after_chunks=9),
        reply=f"Echo: alice\n\n{CUT_OFF}",
        requests=1,
    ),
}


def meet_fault_while_bob_talks(
    bot: BotProcess,
    telegram: TelegramEmulator,
    api: LLMEmulator,
    *,
    fault: Fault,
    alice: SimUser,
    admin: SimUser,
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    fault.arm(api)
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)

    telegram.send_text(alice, QUESTION)
    api.wait_for_requests(len(api.requests) + 1)  # her first attempt is under way
    telegram.send_text(bob, "bob talks meanwhile")
    telegram.wait_for_message(bob.id, containing="Echo: bob talks meanwhile")
    telegram.wait_for_message(alice.id, containing=fault.reply, timeout=15)

    assert_answered_once(bot, telegram, alice, alice_mark, [fault.reply])
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: bob talks meanwhile"])
    asked = [r for r in api.generate_requests if r.last_user_text == QUESTION]
    assert len(asked) == fault.requests


@pytest.mark.parametrize("fault", DEEPSEEK_FAULTS.values(), ids=DEEPSEEK_FAULTS.keys())
def test_after_an_openai_compatible_provider_fault_the_user_gets_one_reply_and_others_carry_on(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser, fault: Fault
) -> None:
    meet_fault_while_bob_talks(bot, telegram, bot.deepseek, fault=fault, alice=alice, admin=admin)


@pytest.mark.parametrize("fault", GEMINI_FAULTS.values(), ids=GEMINI_FAULTS.keys())
def test_after_a_gemini_fault_the_user_gets_one_reply_and_others_carry_on(
    bot_process: BotProcess,
    telegram: TelegramEmulator,
    alice: SimUser,
    admin: SimUser,
    fault: Fault,
) -> None:
    bot = bot_process.configure("llm", default_provider="gemini").start()
    meet_fault_while_bob_talks(bot, telegram, bot.gemini, fault=fault, alice=alice, admin=admin)


def test_a_provider_that_hangs_for_one_chat_does_not_hold_up_another(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot = bot_process.configure("providers.deepseek", timeout=2.0, max_retries=0).start()
    fault = Fault(
        arm=lambda api: api.hang(10.0),
        reply=texts.PROVIDER_FAILURE["ProviderTimeout"],
        requests=1,
    )
    meet_fault_while_bob_talks(bot, telegram, bot.deepseek, fault=fault, alice=alice, admin=admin)
