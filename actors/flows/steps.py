"""What a multi-step flow is: its steps, and what a step makes of one answer.

A flow (``/admin login`` is one) is a short conversation the bot leads with one user in
one chat: each :class:`Step` asks something (its ``prompt``), may remind once after
``remind_after`` seconds, and gives up after ``timeout`` seconds. The step's ``handle``
reads the answer and returns an :data:`Outcome`:

- :class:`Advance` goes on to the next step (or ends the flow, after the last one),
  keeping what it learned in the flow's ``data``;
- :class:`Reject` says why the answer was not taken and asks again, until the step's
  ``max_attempts`` are spent;
- :class:`Finish` ends the flow now, with the words to say.

These are plain definitions: :class:`~actors.flows.engine.FlowEngine` runs them, and the
actor owning the engine carries out what it decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

FlowData = Mapping[str, str]


class Advance(msgspec.Struct, frozen=True, kw_only=True):
    """The answer is taken: merge ``data`` into the flow's data and go to the next step."""

    data: FlowData = msgspec.field(default_factory=dict)


class Reject(msgspec.Struct, frozen=True, kw_only=True):
    """The answer is not taken; ``text`` says why (the attempts left are added to it)."""

    text: str


class Finish(msgspec.Struct, frozen=True, kw_only=True):
    """End the flow now as done; ``text`` is said, ``data`` merged into the flow's data."""

    text: str
    data: FlowData = msgspec.field(default_factory=dict)


StepOutcome = Advance | Reject | Finish
StepHandler = Callable[[str, FlowData], StepOutcome]
"""``handle(answer, data)``: the user's answer and what the flow has gathered so far."""

Ending = Literal["done", "cancelled", "timed_out", "exhausted", "replaced"]
"""How a flow ended: ``exhausted`` means a step's attempts ran out, ``replaced`` that the
same user started another flow in that chat."""


@dataclass(frozen=True, kw_only=True)
class Step:
    """One question of a flow.

    Attributes:
        name: names the step in job ids and logs.
        prompt: what the bot asks.
        handle: reads the answer (see :data:`StepHandler`).
        timeout: seconds to wait for an answer before the flow ends as ``timed_out``.
        remind_after: seconds after the prompt to say ``reminder``; None for no reminder.
        reminder: the reminder's words.
        max_attempts: answers the step may reject before the flow ends as ``exhausted``.
        secret: the answer is a secret (a password): the message holding it is deleted
            from the chat before it is even read, and it is never repeated.
    """

    name: str
    prompt: str
    handle: StepHandler
    timeout: float
    remind_after: float | None = None
    reminder: str = ""
    max_attempts: int = 3
    secret: bool = False


@dataclass(frozen=True, kw_only=True)
class FlowSpec:
    """A flow: its steps, in order, and what the bot says when it ends other than done.

    ``name`` must not contain ``:`` (it starts every flow id and job id of the flow).
    """

    name: str
    steps: tuple[Step, ...]
    timed_out: str = "No answer in time: cancelled."
    cancelled: str = "Cancelled."
    exhausted: str = "Too many wrong answers: cancelled."
    lost: str = "That question has expired. Please start again."  # the owner forgot the flow

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"flow {self.name!r} has no steps")
        if ":" in self.name:
            raise ValueError(f"flow name {self.name!r} must not contain ':'")

    @property
    def secret(self) -> bool:
        """Whether any step takes a secret (then even a stray answer is deleted)."""
        return any(step.secret for step in self.steps)
