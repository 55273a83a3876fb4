"""What the health supervisor is asked, and the view of health it answers with.

The protocol is :data:`HealthRequest`; the probes' answers (``StorageProbed``,
``TelegramProbed``, ``ProviderProbed``) are declared beside the actors that send them.
:class:`HealthView` holds only plain data, so it encodes to JSON and crosses threads safely.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from runtime import Message

Overall = Literal["healthy", "degraded", "unhealthy"]
Status = Literal["unknown", "ok", "failing"]
Kind = Literal["storage", "telegram", "provider", "tree", "process"]


class RunChecks(Message, frozen=True, kw_only=True):
    """Internal timer tick: start the checks that are due; ``token`` names the incarnation."""

    token: str


class GetHealth(Message, frozen=True, kw_only=True):
    """Ask: reply with the current :class:`HealthView` (the ops endpoint's metrics)."""


class ReportHealth(Message, frozen=True, kw_only=True):
    """Command: send the health view, as text, to chat ``chat_id`` (``/admin health``)."""

    chat_id: int
    reply_to_message_id: int | None = None


class ComponentView(msgspec.Struct, frozen=True, kw_only=True):
    """One checked component; times are epoch seconds, None for never.

    ``status`` is "failing" only after ``failures_in_a_row`` reached the check's threshold;
    one failure below it still shows "ok", with the failure in ``last_failure``.
    """

    name: str
    kind: Kind
    status: Status
    detail: str
    failures_in_a_row: int
    threshold: int
    checked_at: float | None
    last_failure: str
    last_failure_at: float | None
    last_action: str
    last_action_at: float | None


class HealthView(msgspec.Struct, frozen=True, kw_only=True):
    """The health supervisor's view: the overall state and each component's detail.

    ``announced`` is the state admins were last told about (it lags ``overall`` by the
    debounce time); ``since`` is when ``overall`` last changed, epoch seconds.
    """

    overall: Overall
    announced: Overall
    since: float
    components: tuple[ComponentView, ...]
    checked_at: float | None


HealthRequest = RunChecks | GetHealth | ReportHealth
