"""What the flow engine decides and the owning actor carries out.

:class:`~actors.flows.engine.FlowEngine` never sends anything itself (so it can be tested
as a plain object with a fake clock): every call returns a tuple of these effects, in the
order they must be carried out. The owner turns them into messages: ``Say`` and
``DeleteInput`` to the gateway, ``StartTimer``/``StopTimer`` to the scheduler (an ``At``
job whose ``JobDue`` comes back to the owner), ``Capture``/``Release`` to the chat's
session, and reacts to ``Ended`` (``/admin login`` grants elevation on a ``done``).
"""

from __future__ import annotations

import msgspec

from actors.flows.steps import Ending, FlowData


class Say(msgspec.Struct, frozen=True, kw_only=True):
    """Send ``text`` to the chat."""

    chat_id: int
    text: str


class DeleteInput(msgspec.Struct, frozen=True, kw_only=True):
    """Delete the user's message ``message_id`` (it held a secret)."""

    chat_id: int
    message_id: int


class StartTimer(msgspec.Struct, frozen=True, kw_only=True):
    """Have ``job_id`` come back to the engine (``on_timer``) at ``at`` (epoch seconds)."""

    job_id: str
    at: float


class StopTimer(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel ``job_id``; it may already have run."""

    job_id: str


class Capture(msgspec.Struct, frozen=True, kw_only=True):
    """Route the user's next plain text in the chat to the owner, until ``until`` (epoch)."""

    chat_id: int
    user_id: int
    flow_id: str
    until: float


class Release(msgspec.Struct, frozen=True, kw_only=True):
    """Stop routing the user's text to the owner (for this flow only)."""

    chat_id: int
    user_id: int
    flow_id: str


class Ended(msgspec.Struct, frozen=True, kw_only=True):
    """The flow ``flow_id`` of spec ``name`` is over; ``data`` is what it gathered."""

    flow_id: str
    name: str
    chat_id: int
    user_id: int
    ending: Ending
    data: FlowData = msgspec.field(default_factory=dict)


Effect = Say | DeleteInput | StartTimer | StopTimer | Capture | Release | Ended
