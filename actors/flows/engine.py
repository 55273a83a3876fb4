"""The flow engine: which flows are running, and what each event does to them.

At most one flow runs per (chat, user); starting another ends the first as ``replaced``.
Time comes from the caller (``now``, epoch seconds) and timers are only asked for (as
:class:`~actors.flows.effects.StartTimer` effects), so the owner decides what drives the
clock (the scheduler, in the bot) and tests use a fake one.

Timer job ids are derived from the flow (``flow:<flow id>:<step>:remind|timeout``), so a
timer that comes back after its flow moved on, or after the owner restarted and forgot the
flow, is recognised as stale and ignored. An answer that arrives after its step's deadline
(the time-out job may run late) counts as a time-out, never as an answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from actors.flows.effects import (
    Capture,
    DeleteInput,
    Effect,
    Ended,
    Release,
    Say,
    StartTimer,
    StopTimer,
)
from actors.flows.steps import Advance, Ending, Finish, FlowSpec, Reject, Step

CAPTURE_GRACE: Final = 60.0
"""Seconds a capture outlives its step's deadline: a late answer (the time-out job may run
late) still reaches the owner, which treats it as timed out, instead of the LLM."""

Key = tuple[int, int]  # (chat id, user id)


@dataclass(kw_only=True)
class _Running:
    flow_id: str
    spec: FlowSpec
    chat_id: int
    user_id: int
    step: int = 0
    attempts: int = 0
    deadline: float = 0.0
    data: dict[str, str] = field(default_factory=dict)
    timers: tuple[str, ...] = ()

    @property
    def current(self) -> Step:
        return self.spec.steps[self.step]


def attempts_left(left: int) -> str:
    """``"1 attempt left."``, ``"2 attempts left."``."""
    return f"{left} attempt{'' if left == 1 else 's'} left."


class FlowEngine:
    """Runs the flows of one owner; see the module docstring. Not thread-safe: one actor's.

    Args:
        specs: the flows this owner can run, by name.
        new_id: makes the random part of a flow id (tests pass a counter).
    """

    def __init__(
        self,
        specs: Mapping[str, FlowSpec],
        *,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:10],
    ) -> None:
        self._specs = dict(specs)
        self._new_id = new_id
        self._by_key: dict[Key, _Running] = {}
        self._by_timer: dict[str, _Running] = {}

    # -- looking -----------------------------------------------------------------------------

    def running(self, chat_id: int, user_id: int) -> str | None:
        """The id of the flow running for this user in this chat, if any."""
        flow = self._by_key.get((chat_id, user_id))
        return None if flow is None else flow.flow_id

    def __len__(self) -> int:
        return len(self._by_key)

    # -- events ------------------------------------------------------------------------------

    def start(self, name: str, *, chat_id: int, user_id: int, now: float) -> tuple[Effect, ...]:
        """Start flow ``name`` for the user in the chat: capture their input, ask step one.

        Raises:
            KeyError: no flow is called ``name`` (a bug in the owner).
        """
        spec = self._specs[name]
        effects: list[Effect] = []
        previous = self._by_key.get((chat_id, user_id))
        if previous is not None:
            effects.extend(self._end(previous, "replaced", None))
        flow = _Running(
            flow_id=f"{name}:{chat_id}:{user_id}:{self._new_id()}",
            spec=spec,
            chat_id=chat_id,
            user_id=user_id,
        )
        self._by_key[chat_id, user_id] = flow
        effects.extend(self._ask(flow, now))
        return tuple(effects)

    def on_input(
        self, *, flow_id: str, chat_id: int, user_id: int, message_id: int, text: str, now: float
    ) -> tuple[Effect, ...]:
        """The user answered (their text was captured for ``flow_id``)."""
        flow = self._by_key.get((chat_id, user_id))
        if flow is None or flow.flow_id != flow_id:
            return self._stray(flow_id, chat_id, user_id, message_id)
        step = flow.current
        effects: list[Effect] = []
        if step.secret:
            effects.append(DeleteInput(chat_id=chat_id, message_id=message_id))
        if now >= flow.deadline:
            effects.extend(self._end(flow, "timed_out", flow.spec.timed_out))
            return tuple(effects)
        outcome = step.handle(text, dict(flow.data))
        match outcome:
            case Reject():
                flow.attempts += 1
                left = step.max_attempts - flow.attempts
                if left <= 0:
                    effects.extend(self._end(flow, "exhausted", flow.spec.exhausted))
                else:
                    effects.append(
                        Say(chat_id=chat_id, text=f"{outcome.text} {attempts_left(left)}")
                    )
            case Finish():
                flow.data.update(outcome.data)
                effects.extend(self._end(flow, "done", outcome.text))
            case Advance():
                flow.data.update(outcome.data)
                effects.extend(self._stop_timers(flow))
                if flow.step + 1 < len(flow.spec.steps):
                    flow.step += 1
                    flow.attempts = 0
                    effects.extend(self._ask(flow, now))
                else:
                    effects.extend(self._end(flow, "done", None))
        return tuple(effects)

    def on_timer(self, job_id: str) -> tuple[Effect, ...]:
        """A timer this engine asked for is due; a stale one does nothing.

        A time-out job is trusted as is: it is only ever scheduled for the deadline.
        """
        flow = self._by_timer.get(job_id)
        if flow is None:
            return ()
        if job_id.endswith(":remind"):
            self._by_timer.pop(job_id, None)
            return (Say(chat_id=flow.chat_id, text=flow.current.reminder),)
        return tuple(self._end(flow, "timed_out", flow.spec.timed_out))

    def cancel(
        self, *, chat_id: int, user_id: int, flow_id: str | None = None
    ) -> tuple[Effect, ...]:
        """End the user's flow in the chat as cancelled (only ``flow_id``, if given)."""
        flow = self._by_key.get((chat_id, user_id))
        if flow is None or (flow_id is not None and flow.flow_id != flow_id):
            if flow_id is None:
                return ()
            return (Release(chat_id=chat_id, user_id=user_id, flow_id=flow_id),)
        return tuple(self._end(flow, "cancelled", flow.spec.cancelled))

    # -- the steps -----------------------------------------------------------------------------

    def _ask(self, flow: _Running, now: float) -> list[Effect]:
        step = flow.current
        flow.deadline = now + step.timeout
        base = f"flow:{flow.flow_id}:{step.name}"
        timers: list[StartTimer] = []
        if step.reminder and step.remind_after is not None and step.remind_after < step.timeout:
            timers.append(StartTimer(job_id=f"{base}:remind", at=now + step.remind_after))
        timers.append(StartTimer(job_id=f"{base}:timeout", at=flow.deadline))
        flow.timers = tuple(timer.job_id for timer in timers)
        for timer in timers:
            self._by_timer[timer.job_id] = flow
        return [
            # Captured before the prompt goes out, so the answer cannot overtake it.
            Capture(
                chat_id=flow.chat_id,
                user_id=flow.user_id,
                flow_id=flow.flow_id,
                until=flow.deadline + CAPTURE_GRACE,
            ),
            *timers,
            Say(chat_id=flow.chat_id, text=step.prompt),
        ]

    def _stop_timers(self, flow: _Running) -> list[Effect]:
        for job_id in flow.timers:
            self._by_timer.pop(job_id, None)
        stopped: list[Effect] = [StopTimer(job_id=job_id) for job_id in flow.timers]
        flow.timers = ()
        return stopped

    def _end(self, flow: _Running, ending: Ending, text: str | None) -> list[Effect]:
        self._by_key.pop((flow.chat_id, flow.user_id), None)
        effects = self._stop_timers(flow)
        if ending != "replaced":  # the next flow's capture replaces this one's
            effects.append(
                Release(chat_id=flow.chat_id, user_id=flow.user_id, flow_id=flow.flow_id)
            )
        if text:
            effects.append(Say(chat_id=flow.chat_id, text=text))
        effects.append(
            Ended(
                flow_id=flow.flow_id,
                name=flow.spec.name,
                chat_id=flow.chat_id,
                user_id=flow.user_id,
                ending=ending,
                data=dict(flow.data),
            )
        )
        return effects

    def _stray(
        self, flow_id: str, chat_id: int, user_id: int, message_id: int
    ) -> tuple[Effect, ...]:
        """Input for a flow this engine does not know (it ended, or the owner restarted)."""
        spec = self._specs.get(flow_id.split(":", 1)[0])
        effects: list[Effect] = []
        if spec is not None and spec.secret:
            effects.append(DeleteInput(chat_id=chat_id, message_id=message_id))
        effects.append(Release(chat_id=chat_id, user_id=user_id, flow_id=flow_id))
        if spec is not None:
            effects.append(Say(chat_id=chat_id, text=spec.lost))
        return tuple(effects)
