"""Multi-step flows: short conversations with prompts, reminders, time-outs and attempts.

A :class:`FlowSpec` lists the steps; a :class:`FlowEngine` (plain logic, owned by one
actor) runs them and returns effects (:data:`Effect`) for its actor to carry out; the chat
session lends the user's next messages to the owner (:mod:`actors.flows.messages`);
:class:`actors.flows.runner.FlowRunner` carries the effects out inside the owning actor.
``/admin login`` is the first flow; docs/operations.md describes it.
"""

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
from actors.flows.engine import CAPTURE_GRACE, FlowEngine, attempts_left
from actors.flows.steps import (
    Advance,
    Ending,
    Finish,
    FlowData,
    FlowSpec,
    Reject,
    Step,
    StepHandler,
    StepOutcome,
)

__all__ = [
    "CAPTURE_GRACE",
    "Advance",
    "Capture",
    "DeleteInput",
    "Effect",
    "Ended",
    "Ending",
    "Finish",
    "FlowData",
    "FlowEngine",
    "FlowSpec",
    "Reject",
    "Release",
    "Say",
    "StartTimer",
    "Step",
    "StepHandler",
    "StepOutcome",
    "StopTimer",
    "attempts_left",
]
