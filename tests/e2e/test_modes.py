"""/mode: a keyboard of the configured modes; the choice becomes the chat's system prompt."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator

MENU = "Choose how I answer"

MODES = """
[modes.pirate]
label = "Pirate"
system_prompt = "Talk like a pirate."

[modes.poet]
system_prompt = "Answer in verse."
"""


def open_modes(telegram: TelegramEmulator, user: SimUser) -> ChatMessage:
    before = sum(MENU in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, "/mode")
    return telegram.wait_for_message(user.id, containing=MENU, count=before + 1)[-1]


def labels(menu: ChatMessage) -> list[str]:
    return [button.text for row in menu.buttons for button in row]


def choose(telegram: TelegramEmulator, user: SimUser, menu: ChatMessage, label: str) -> None:
    """Press the mode's button and wait until the menu says it is set."""
    [data] = [b.callback_data for row in menu.buttons for b in row if b.text.endswith(label)]
    assert data is not None
    assert len(data.encode()) <= 64  # Telegram's limit on callback_data
    telegram.press_button(user, menu, data)
    telegram.wait_for(
        lambda: telegram.message(user.id, menu.message_id).text == f"Mode set: {label}"
    )


def system_prompt_of_next_answer(bot: BotProcess, telegram: TelegramEmulator, user: SimUser) -> str:
    asked = len(bot.deepseek.generate_requests)
    telegram.send_text(user, f"question {asked}")
    telegram.wait_for_message(user.id, containing=f"Echo: question {asked}")
    [system, *_] = bot.deepseek.generate_requests[-1].body["messages"]
    assert system["role"] == "system"
    return str(system["content"])


def test_mode_offers_the_built_in_modes_and_the_choice_is_the_system_prompt(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    assert system_prompt_of_next_answer(bot, telegram, alice).startswith("You are a helpful")

    menu = open_modes(telegram, alice)
    assert labels(menu) == ["✓ Assistant", "Translator", "Coder"]
    choose(telegram, alice, menu, "Translator")

    assert system_prompt_of_next_answer(bot, telegram, alice).startswith("You are a translator")
    telegram.send_text(alice, "/help")
    telegram.wait_for_message(
        alice.id, containing="/mode — choose how I answer in this chat (now: Translator)"
    )
    assert labels(open_modes(telegram, alice))[1] == "✓ Translator"


def test_modes_from_the_config_replace_the_built_in_ones_and_the_choice_survives_a_restart(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.extra_config = MODES
    bot = bot_process.configure("llm", default_mode="poet").start()
    approve(telegram, alice, admin)
    assert system_prompt_of_next_answer(bot, telegram, alice) == "Answer in verse."

    menu = open_modes(telegram, alice)
    assert labels(menu) == ["Pirate", "✓ Poet"]
    choose(telegram, alice, menu, "Pirate")
    bot.restart()

    assert system_prompt_of_next_answer(bot, telegram, alice) == "Talk like a pirate."
