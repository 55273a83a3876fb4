"""How a flow's owner borrows a user's next messages from the chat session.

While a flow waits for a user's answer, that user's plain text in that chat must reach the
flow's owner and nothing else (never the LLM: it may be a password). The owner tells the
session :class:`CaptureInput`; the session then forwards the user's text as
:class:`FlowInput`, and ``/cancel`` as :class:`CancelFlow`, until :class:`ReleaseInput` or
``until`` passes (a safety net should the owner forget or restart: afterwards, text is
handled as usual again).

The protocol a session accepts is :data:`CaptureMessage`; an owner receives
:data:`OwnerMessage`.
"""

from __future__ import annotations

from actors.chat.messages import UserRef
from runtime import Message


class CaptureInput(Message, frozen=True, kw_only=True):
    """Send ``user_id``'s plain text in this chat to ``owner`` (an actor path) until ``until``.

    ``until`` is epoch seconds. A capture for the same user replaces the one before.
    """

    user_id: int
    owner: str
    flow_id: str
    until: float


class ReleaseInput(Message, frozen=True, kw_only=True):
    """Stop capturing ``user_id``'s text for flow ``flow_id`` (another flow's capture stays)."""

    user_id: int
    flow_id: str


class FlowInput(Message, frozen=True, kw_only=True):
    """The captured user wrote ``text`` (message ``message_id``) while flow ``flow_id`` waits.

    ``text`` may be a secret: never log it, never put it in an exception's message.
    """

    chat_id: int
    message_id: int
    user: UserRef
    text: str
    flow_id: str

    def __repr__(self) -> str:
        # The default repr would show the text, which may be a password.
        return f"FlowInput(chat_id={self.chat_id}, flow_id={self.flow_id!r}, text=***)"


class CancelFlow(Message, frozen=True, kw_only=True):
    """The captured user sent ``/cancel`` while flow ``flow_id`` waits."""

    chat_id: int
    user: UserRef
    flow_id: str


CaptureMessage = CaptureInput | ReleaseInput
OwnerMessage = FlowInput | CancelFlow
