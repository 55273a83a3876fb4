"""Carrying out a flow engine's effects from inside the actor that owns it.

:class:`FlowRunner` wraps a :class:`~actors.flows.engine.FlowEngine` for its owner: the
owner's handlers pass events in (the session's :class:`FlowInput` and :class:`CancelFlow`,
the scheduler's :class:`JobDue` with topic :data:`FLOW_TOPIC`), and the runner turns the
effects into messages: texts and deletions to the gateway, captures to the chat's session,
timers to the scheduler as ``At`` jobs aimed back at the owner. Without a scheduler (tests,
or a tree without one) timers fall back to the runtime's ``tell_later``, which delivers
the same :class:`JobDue`; a cancelled one then simply finds its flow gone.

Call it only from the owner's handlers (its thread): it is not thread-safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
from actors.flows.engine import FlowEngine
from actors.flows.messages import CancelFlow, CaptureInput, FlowInput, ReleaseInput
from actors.scheduler.messages import At, CancelJob, JobDue, Schedule
from actors.telegram.messages import DeleteMessage, SendText
from runtime import ActorContext, Address

FLOW_TOPIC: Final = "flow"


class FlowRunner:
    """Runs ``engine`` for the actor whose ``context`` it is given; see the module docstring.

    Args:
        on_ended: called with every :class:`Ended` effect, after the ones before it were
            carried out (the owner grants what a done flow earned, logs, notifies).
        clock: epoch seconds (the scheduler's ``At`` is in epoch seconds too).
    """

    def __init__(
        self,
        engine: FlowEngine,
        *,
        context: ActorContext,
        gateway: Address,
        sessions: Address,
        scheduler: Address | None,
        on_ended: Callable[[Ended], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self._context = context
        self._gateway = gateway
        self._sessions = sessions
        self._scheduler = scheduler
        self._on_ended = on_ended
        self._clock = clock

    def start(self, name: str, *, chat_id: int, user_id: int) -> None:
        self._carry_out(
            self.engine.start(name, chat_id=chat_id, user_id=user_id, now=self._clock())
        )

    def on_input(self, message: FlowInput) -> None:
        self._carry_out(
            self.engine.on_input(
                flow_id=message.flow_id,
                chat_id=message.chat_id,
                user_id=message.user.id,
                message_id=message.message_id,
                text=message.text,
                now=self._clock(),
            )
        )

    def on_cancel(self, message: CancelFlow) -> None:
        self._carry_out(
            self.engine.cancel(
                chat_id=message.chat_id, user_id=message.user.id, flow_id=message.flow_id
            )
        )

    def on_job_due(self, message: JobDue) -> None:
        """A flow timer is due (the owner checked ``topic == FLOW_TOPIC``)."""
        self._carry_out(self.engine.on_timer(message.job_id))

    def _carry_out(self, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            match effect:
                case Say():
                    self._gateway.tell(
                        SendText(chat_id=effect.chat_id, text=effect.text, format="plain")
                    )
                case DeleteInput():
                    self._gateway.tell(
                        DeleteMessage(chat_id=effect.chat_id, message_id=effect.message_id)
                    )
                case Capture():
                    self._sessions.child(effect.chat_id).tell(
                        CaptureInput(
                            user_id=effect.user_id,
                            owner=self._context.path,
                            flow_id=effect.flow_id,
                            until=effect.until,
                        )
                    )
                case Release():
                    self._sessions.child(effect.chat_id).tell(
                        ReleaseInput(user_id=effect.user_id, flow_id=effect.flow_id)
                    )
                case StartTimer():
                    self._start_timer(effect)
                case StopTimer():
                    if self._scheduler is not None:
                        self._scheduler.tell(CancelJob(job_id=effect.job_id))
                case Ended():
                    self._on_ended(effect)

    def _start_timer(self, timer: StartTimer) -> None:
        if self._scheduler is not None:
            self._scheduler.tell(
                Schedule(
                    job_id=timer.job_id,
                    trigger=At(epoch=timer.at),
                    target=self._context.path,
                    topic=FLOW_TOPIC,
                )
            )
            return
        self._context.tell_later(
            max(0.0, timer.at - self._clock()),
            JobDue(job_id=timer.job_id, topic=FLOW_TOPIC, payload="", scheduled_for=timer.at),
        )
