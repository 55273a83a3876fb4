"""Messages, the envelope each delivery travels in, and the ambient correlation id.

Messages are frozen msgspec Structs so that nothing an actor sends can be changed under
the receiver's feet, and so dead letters and the debug view can encode them. The envelope
is runtime-private bookkeeping (who sent it, when, which user request it belongs to, where
a reply goes) and is never shown to handlers.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any, Protocol

import msgspec


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every message: immutable, keyword-only, encodable to JSON and msgpack.

    Use tuples, not lists, for sequence fields: a frozen Struct holding a list can still
    be mutated through the list.
    """


class DeliveryFailed(Message, frozen=True, kw_only=True):
    """Event told to a sender when the runtime gave up on one of its messages.

    It names the message type, never its contents: those may hold a user's private text.
    """

    message_type: str
    target: str
    reason: str
    correlation_id: str


class Reply(Protocol):
    """Where the answer to an ``ask`` goes: a thread waiting, or an asyncio future."""

    def set(self, value: Any) -> None: ...

    def set_exception(self, exc: BaseException) -> None: ...


class Envelope:
    """One delivery of a message: the message plus the runtime's bookkeeping."""

    __slots__ = ("attempts", "correlation_id", "enqueued_at", "message", "reply_to", "sender")

    def __init__(
        self,
        message: msgspec.Struct,
        correlation_id: str,
        sender: str | None,
        reply_to: Reply | None = None,
    ) -> None:
        self.message = message
        self.correlation_id = correlation_id
        self.sender = sender
        self.reply_to = reply_to
        self.enqueued_at = time.time()
        self.attempts = 0

    def __repr__(self) -> str:
        return (
            f"Envelope({type(self.message).__name__}, cid={self.correlation_id},"
            f" sender={self.sender}, attempts={self.attempts})"
        )


# The envelope being handled on this thread (or by this asyncio task). It is how a
# ``tell`` made inside a handler inherits the correlation id and sender without the
# handler passing them along by hand, and how log lines find the correlation id.
_current: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "runtime_current_delivery", default=None
)


def current_correlation_id() -> str | None:
    """Return the correlation id of the message being handled here, if any."""
    current = _current.get()
    return None if current is None else current[0]


def enter_delivery(correlation_id: str, path: str | None) -> contextvars.Token[Any]:
    """Mark the start of handling one delivery on this thread or task."""
    return _current.set((correlation_id, path))


def leave_delivery(token: contextvars.Token[Any]) -> None:
    """Undo :func:`enter_delivery`."""
    _current.reset(token)
