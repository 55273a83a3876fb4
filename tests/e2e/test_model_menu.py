"""/model: a keyboard of every provider's models; the choice sticks, across restarts too."""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import AnsweredCallback, ChatMessage, SimUser, TelegramEmulator

MENU = "Choose a model"
EXPIRED = "This menu has expired. Send /model again."


def open_menu(telegram: TelegramEmulator, user: SimUser) -> ChatMessage:
    before = sum(MENU in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, "/model")
    return telegram.wait_for_message(user.id, containing=MENU, count=before + 1)[-1]


def labels(menu: ChatMessage) -> list[str]:
    return [button.text for row in menu.buttons for button in row]


def button_data(menu: ChatMessage, label: str) -> str:
    """callback_data of the button whose label ends with ``label``."""
    [data] = [b.callback_data for row in menu.buttons for b in row if b.text.endswith(label)]
    assert data is not None
    return data


def answers_to(telegram: TelegramEmulator, user: SimUser) -> list[AnsweredCallback]:
    """The answers the bot gave to ``user``'s button presses, oldest first."""
    return [a for a in telegram.answered_callbacks if a.user_id == user.id]


def choose(telegram: TelegramEmulator, user: SimUser, menu: ChatMessage, label: str) -> None:
    """Press a model's button and wait until the choice is confirmed."""
    answered = len(answers_to(telegram, user))
    telegram.press_button(user, menu, button_data(menu, label))
    telegram.wait_for(lambda: len(answers_to(telegram, user)) > answered)
    telegram.wait_for(
        lambda: telegram.message(user.id, menu.message_id).text.startswith("Model set")
    )


def test_model_shows_every_providers_listed_models_with_the_current_one_marked(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot.deepseek.set_models(["deepseek-chat", "deepseek-reasoner", "deepseek-coder-v9"])
    bot.gemini.set_models(["gemini-2.5-flash", "gemini-2.5-pro", "gemini-exp-1"])
    approve(telegram, alice, admin)

    menu = open_menu(telegram, alice)

    assert labels(menu) == [
        "✓ deepseek · deepseek-chat",
        "deepseek · deepseek-reasoner",
        "deepseek · deepseek-coder-v9",
        "gemini · gemini-2.5-flash",
        "gemini · gemini-2.5-pro",
        "gemini · gemini-exp-1",
    ]
    assert "deepseek · deepseek-chat" in menu.text
    assert [r.kind for r in bot.deepseek.requests] == ["models"]
    assert [r.kind for r in bot.gemini.requests] == ["models"]


def test_choosing_a_model_is_confirmed_and_the_next_answer_comes_from_that_provider_and_model(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    menu = open_menu(telegram, alice)

    telegram.press_button(alice, menu, button_data(menu, "gemini · gemini-2.5-pro"))

    [toast] = telegram.wait_for(lambda: answers_to(telegram, alice))
    assert toast.text is not None
    assert "gemini-2.5-pro" in toast.text
    telegram.wait_for(
        lambda: (
            telegram.message(alice.id, menu.message_id).text == "Model set: gemini · gemini-2.5-pro"
        )
    )
    telegram.send_text(alice, "who answers now?")
    telegram.wait_for_message(alice.id, containing="Echo: who answers now?")
    [request] = bot.gemini.generate_requests
    assert request.model == "gemini-2.5-pro"
    assert bot.deepseek.generate_requests == ()

    marked = [label for label in labels(open_menu(telegram, alice)) if label.startswith("✓")]
    assert marked == ["✓ gemini · gemini-2.5-pro"]


def test_a_model_with_a_120_character_name_fits_in_callback_data_and_works(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    long_name = "deepseek-" + "very-long-fine-tune-" * 5 + "x" * 11
    long_name += "y" * (120 - len(long_name))
    assert len(long_name) == 120
    bot.deepseek.set_models(["deepseek-chat", long_name])
    approve(telegram, alice, admin)
    menu = open_menu(telegram, alice)

    data = [b.callback_data or "" for row in menu.buttons for b in row]
    assert all(0 < len(d.encode()) <= 64 for d in data)
    assert len(set(data)) == len(data), "every button is told apart"
    choose(telegram, alice, menu, long_name)

    telegram.send_text(alice, "hello from the long model")
    telegram.wait_for_message(alice.id, containing="Echo: hello from the long model")
    assert bot.deepseek.generate_requests[-1].model == long_name


def test_the_chosen_model_survives_a_restart(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    choose(telegram, alice, open_menu(telegram, alice), "gemini · gemini-2.5-pro")

    bot.restart()

    telegram.send_text(alice, "still gemini?")
    telegram.wait_for_message(alice.id, containing="Echo: still gemini?")
    [request] = bot.gemini.generate_requests
    assert request.model == "gemini-2.5-pro"
    assert bot.deepseek.generate_requests == ()


def test_a_button_from_a_menu_shown_before_a_restart_is_answered_as_expired(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    menu = open_menu(telegram, alice)

    bot.restart()
    telegram.press_button(alice, menu, button_data(menu, "gemini · gemini-2.5-pro"))

    [answer] = telegram.wait_for(lambda: answers_to(telegram, alice))
    assert answer.text == EXPIRED
    telegram.send_text(alice, "which model?")
    telegram.wait_for_message(alice.id, containing="Echo: which model?")
    assert bot.deepseek.generate_requests[-1].model == "deepseek-chat"
    assert bot.gemini.generate_requests == ()


def test_a_provider_whose_model_list_fails_is_still_offered_with_its_default_model(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    for _ in range(3):  # the first try and both retries
        bot.gemini.error(500, on="models")

    menu = open_menu(telegram, alice)

    assert labels(menu) == [
        "✓ deepseek · deepseek-chat",
        "deepseek · deepseek-reasoner",
        "gemini · gemini-2.5-flash",
    ]
    choose(telegram, alice, menu, "gemini · gemini-2.5-flash")
    telegram.send_text(alice, "gemini after all?")
    telegram.wait_for_message(alice.id, containing="Echo: gemini after all?")
    assert [r.model for r in bot.gemini.generate_requests] == ["gemini-2.5-flash"]


def test_a_chosen_model_whose_provider_is_gone_after_a_restart_falls_back_to_the_default(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    choose(telegram, alice, open_menu(telegram, alice), "gemini · gemini-2.5-pro")

    bot.env["GEMINI_API_KEY"] = ""
    bot.restart()

    telegram.send_text(alice, "who is left?")
    telegram.wait_for_message(alice.id, containing="Echo: who is left?")
    assert [r.model for r in bot.deepseek.generate_requests] == ["deepseek-chat"]
    assert bot.gemini.generate_requests == ()
