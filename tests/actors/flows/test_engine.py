"""The flow engine as a plain object: a fake clock, effects checked one by one."""

from __future__ import annotations

import itertools

import pytest

from actors.flows import (
    CAPTURE_GRACE,
    Advance,
    Capture,
    DeleteInput,
    Effect,
    Ended,
    Finish,
    FlowData,
    FlowEngine,
    FlowSpec,
    Reject,
    Release,
    Say,
    StartTimer,
    Step,
    StepOutcome,
    StopTimer,
)

CHAT, USER = 1000, 1000
T0 = 1_700_000_000.0


def check_word(text: str, _data: FlowData) -> StepOutcome:
    return Finish(text="Welcome.") if text == "open sesame" else Reject(text="Wrong word.")


def remember_name(text: str, _data: FlowData) -> StepOutcome:
    return Advance(data={"name": text})


def greet(text: str, data: FlowData) -> StepOutcome:
    return Finish(text=f"Hello {data['name']}, aged {text}.", data={"age": text})


LOGIN = FlowSpec(
    name="login",
    steps=(
        Step(
            name="word",
            prompt="Say the word.",
            handle=check_word,
            timeout=60.0,
            remind_after=45.0,
            reminder="Still there?",
            max_attempts=3,
            secret=True,
        ),
    ),
    timed_out="Too slow.",
    cancelled="Stopped.",
    exhausted="Locked.",
)
SURVEY = FlowSpec(
    name="survey",
    steps=(
        Step(name="name", prompt="Your name?", handle=remember_name, timeout=30.0),
        Step(name="age", prompt="Your age?", handle=greet, timeout=30.0),
    ),
)


@pytest.fixture
def engine() -> FlowEngine:
    counter = itertools.count(1)
    return FlowEngine({"login": LOGIN, "survey": SURVEY}, new_id=lambda: str(next(counter)))


def said(effects: tuple[Effect, ...]) -> list[str]:
    return [effect.text for effect in effects if isinstance(effect, Say)]


def ended(effects: tuple[Effect, ...]) -> Ended:
    [end] = [effect for effect in effects if isinstance(effect, Ended)]
    return end


def answer(engine: FlowEngine, text: str, *, at: float, message_id: int = 7) -> tuple[Effect, ...]:
    flow_id = engine.running(CHAT, USER)
    assert flow_id is not None
    return engine.on_input(
        flow_id=flow_id, chat_id=CHAT, user_id=USER, message_id=message_id, text=text, now=at
    )


def test_starting_captures_input_before_asking_and_sets_reminder_and_timeout(
    engine: FlowEngine,
) -> None:
    effects = engine.start("login", chat_id=CHAT, user_id=USER, now=T0)

    flow_id = "login:1000:1000:1"
    assert effects == (
        Capture(chat_id=CHAT, user_id=USER, flow_id=flow_id, until=T0 + 60.0 + CAPTURE_GRACE),
        StartTimer(job_id=f"flow:{flow_id}:word:remind", at=T0 + 45.0),
        StartTimer(job_id=f"flow:{flow_id}:word:timeout", at=T0 + 60.0),
        Say(chat_id=CHAT, text="Say the word."),
    )
    assert engine.running(CHAT, USER) == flow_id


def test_a_right_answer_deletes_the_secret_stops_timers_releases_and_ends_done(
    engine: FlowEngine,
) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)
    flow_id = "login:1000:1000:1"

    effects = answer(engine, "open sesame", at=T0 + 5, message_id=42)

    assert effects[0] == DeleteInput(chat_id=CHAT, message_id=42)
    assert StopTimer(job_id=f"flow:{flow_id}:word:remind") in effects
    assert StopTimer(job_id=f"flow:{flow_id}:word:timeout") in effects
    assert Release(chat_id=CHAT, user_id=USER, flow_id=flow_id) in effects
    assert said(effects) == ["Welcome."]
    assert ended(effects).ending == "done"
    assert engine.running(CHAT, USER) is None


def test_wrong_answers_show_attempts_left_then_exhaust_the_flow(engine: FlowEngine) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)

    first = answer(engine, "abracadabra", at=T0 + 1)
    second = answer(engine, "please", at=T0 + 2)
    third = answer(engine, "open barley", at=T0 + 3)

    assert said(first) == ["Wrong word. 2 attempts left."]
    assert said(second) == ["Wrong word. 1 attempt left."]
    assert said(third) == ["Locked."]
    assert ended(third).ending == "exhausted"
    assert all(isinstance(effects[0], DeleteInput) for effects in (first, second, third))
    assert engine.running(CHAT, USER) is None


def test_the_reminder_is_said_once_and_the_timeout_ends_the_flow(engine: FlowEngine) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)
    flow_id = "login:1000:1000:1"

    reminded = engine.on_timer(f"flow:{flow_id}:word:remind")
    again = engine.on_timer(f"flow:{flow_id}:word:remind")
    timed_out = engine.on_timer(f"flow:{flow_id}:word:timeout")

    assert reminded == (Say(chat_id=CHAT, text="Still there?"),)
    assert again == ()
    assert said(timed_out) == ["Too slow."]
    assert Release(chat_id=CHAT, user_id=USER, flow_id=flow_id) in timed_out
    assert ended(timed_out).ending == "timed_out"
    assert engine.on_timer(f"flow:{flow_id}:word:timeout") == ()


def test_an_answer_after_the_deadline_counts_as_a_timeout_not_an_answer(
    engine: FlowEngine,
) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)

    effects = answer(engine, "open sesame", at=T0 + 60.0, message_id=9)

    assert effects[0] == DeleteInput(chat_id=CHAT, message_id=9)
    assert said(effects) == ["Too slow."]
    assert ended(effects).ending == "timed_out"


def test_cancel_ends_the_flow_and_releases_the_input(engine: FlowEngine) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)

    effects = engine.cancel(chat_id=CHAT, user_id=USER)

    assert said(effects) == ["Stopped."]
    assert ended(effects).ending == "cancelled"
    assert engine.cancel(chat_id=CHAT, user_id=USER) == ()


def test_steps_advance_in_order_carrying_data_with_fresh_timers(engine: FlowEngine) -> None:
    engine.start("survey", chat_id=CHAT, user_id=USER, now=T0)
    flow_id = "survey:1000:1000:1"

    named = answer(engine, "Ada", at=T0 + 10)
    done = answer(engine, "36", at=T0 + 35)  # past step one's deadline, within step two's

    assert StopTimer(job_id=f"flow:{flow_id}:name:timeout") in named
    assert StartTimer(job_id=f"flow:{flow_id}:age:timeout", at=T0 + 40) in named
    assert said(named) == ["Your age?"]
    assert not any(isinstance(effect, DeleteInput) for effect in named)
    assert said(done) == ["Hello Ada, aged 36."]
    assert ended(done).data == {"name": "Ada", "age": "36"}


def test_starting_again_replaces_the_running_flow_without_releasing_the_capture(
    engine: FlowEngine,
) -> None:
    engine.start("login", chat_id=CHAT, user_id=USER, now=T0)

    effects = engine.start("login", chat_id=CHAT, user_id=USER, now=T0 + 1)

    assert ended(effects).ending == "replaced"
    assert not any(isinstance(effect, Release) for effect in effects)
    assert engine.running(CHAT, USER) == "login:1000:1000:2"
    assert engine.on_timer("flow:login:1000:1000:1:word:timeout") == ()


def test_input_for_a_forgotten_secret_flow_is_deleted_released_and_explained(
    engine: FlowEngine,
) -> None:
    effects = engine.on_input(
        flow_id="login:1000:1000:old",
        chat_id=CHAT,
        user_id=USER,
        message_id=5,
        text="open sesame",
        now=T0,
    )

    assert effects == (
        DeleteInput(chat_id=CHAT, message_id=5),
        Release(chat_id=CHAT, user_id=USER, flow_id="login:1000:1000:old"),
        Say(chat_id=CHAT, text=LOGIN.lost),
    )


def test_flows_of_different_users_in_one_chat_are_independent(engine: FlowEngine) -> None:
    engine.start("survey", chat_id=-5, user_id=1, now=T0)
    engine.start("survey", chat_id=-5, user_id=2, now=T0)

    engine.cancel(chat_id=-5, user_id=1)

    assert engine.running(-5, 1) is None
    assert engine.running(-5, 2) == "survey:-5:2:2"
    assert len(engine) == 1


def test_a_flow_name_with_a_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        FlowSpec(name="a:b", steps=SURVEY.steps)
