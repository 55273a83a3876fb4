"""TypingIndicators: "typing…" only for answers not shown within the delay."""

from __future__ import annotations

import asyncio

from actors.telegram.indicators import TypingIndicators
from actors.telegram.messages import (
    EditText,
    FinishAnswer,
    GatewayCommand,
    SendText,
    ShowDraft,
    ShowTyping,
)

ALICE, BOB = 1, 2
DELAY = 0.05


def run(scenario: list[tuple[float, GatewayCommand]], *, delay: float = DELAY) -> list[object]:
    """Submit each command after its pause; return what was passed on, once all is due."""
    passed: list[object] = []

    async def main() -> None:
        indicators = TypingIndicators(passed.append, delay=delay)
        for pause, command in scenario:
            await asyncio.sleep(pause)
            indicators.submit(command)
        await asyncio.sleep(delay * 3)
        assert indicators.held == 0

    asyncio.run(main())
    return passed


def test_typing_is_shown_once_the_delay_passes_with_nothing_shown() -> None:
    assert run([(0.0, ShowTyping(chat_id=ALICE))]) == [ShowTyping(chat_id=ALICE)]


def test_an_answer_shown_within_the_delay_drops_the_typing_before_it() -> None:
    for shown in (
        ShowDraft(chat_id=ALICE, draft_id="d", markdown="hi"),
        FinishAnswer(chat_id=ALICE, draft_id="d", markdown="hi"),
        SendText(chat_id=ALICE, text="hi"),
    ):
        assert run([(0.0, ShowTyping(chat_id=ALICE)), (0.0, shown)]) == [shown]


def test_an_answer_in_another_chat_leaves_the_typing_held() -> None:
    answer = SendText(chat_id=BOB, text="hi")
    assert run([(0.0, ShowTyping(chat_id=ALICE)), (0.0, answer)]) == [
        answer,
        ShowTyping(chat_id=ALICE),
    ]


def test_an_edit_passes_at_once_and_does_not_drop_the_typing() -> None:
    edit = EditText(chat_id=ALICE, message_id=5, text="menu")
    assert run([(0.0, ShowTyping(chat_id=ALICE)), (0.0, edit)]) == [edit, ShowTyping(chat_id=ALICE)]


def test_a_second_typing_while_one_is_held_adds_nothing() -> None:
    typing = ShowTyping(chat_id=ALICE)
    assert run([(0.0, typing), (0.0, typing)]) == [typing]


def test_typing_after_an_answer_shown_is_held_anew() -> None:
    shown = SendText(chat_id=ALICE, text="first")
    typing = ShowTyping(chat_id=ALICE)
    assert run([(0.0, typing), (0.0, shown), (0.0, typing)]) == [shown, typing]


def test_no_delay_passes_typing_on_at_once() -> None:
    typing = ShowTyping(chat_id=ALICE)
    shown = SendText(chat_id=ALICE, text="hi")
    assert run([(0.0, typing), (0.0, shown)], delay=0.0) == [typing, shown]


def test_close_forgets_held_typing() -> None:
    passed: list[object] = []

    async def main() -> None:
        indicators = TypingIndicators(passed.append, delay=DELAY)
        indicators.submit(ShowTyping(chat_id=ALICE))
        indicators.close()
        await asyncio.sleep(DELAY * 3)

    asyncio.run(main())
    assert passed == []
