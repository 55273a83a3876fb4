"""Addresses: the stable way to reach an actor, whatever incarnation is running."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from runtime._exceptions import AskTimeout
from runtime._message import Envelope, Message, _current
from runtime._reply import LoopReply, ThreadReply

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from runtime._cell import Cell
    from runtime._system import ActorSystem


class Address:
    """A path such as ``/sessions/4242`` that stays valid across restarts.

    Sending never blocks and never raises for delivery problems: a message that cannot
    be delivered goes to dead letters (and an ``ask`` gets the reason as an exception).
    Inside a handler, ``tell`` passes on the current correlation id and names the
    handling actor as sender.
    """

    __slots__ = ("_cell", "_system", "path")

    def __init__(self, system: ActorSystem, path: str, cell: Cell | None = None) -> None:
        self._system = system
        self.path = path
        self._cell = cell

    def __repr__(self) -> str:
        return f"Address({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Address) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def child(self, name: str | int) -> Address:
        """The address of a child of this one, e.g. a keyed pool's member."""
        base = "" if self.path == "/" else self.path
        return self._system.address(f"{base}/{name}")

    def _envelope(
        self,
        message: Message,
        correlation_id: str | None,
        reply: Any,
        sender: Address | None = None,
    ) -> Envelope:
        if not isinstance(message, Message):
            raise TypeError(f"messages must be runtime.Message structs, got {type(message)!r}")
        current = _current.get()
        if correlation_id is None:
            correlation_id = current[0] if current else self._system.new_correlation_id()
        if sender is not None:
            return Envelope(message, correlation_id, sender.path, reply)
        return Envelope(message, correlation_id, current[1] if current else None, reply)

    def _send(self, envelope: Envelope) -> None:
        cell = self._cell
        if cell is None or not cell.deliver(envelope):
            self._cell = self._system.route(self.path, envelope)

    def tell(
        self,
        message: Message,
        *,
        correlation_id: str | None = None,
        sender: Address | None = None,
    ) -> None:
        """Queue ``message`` for the actor and return at once.

        ``sender`` names who sent it when that is not the actor whose handler is running
        (e.g. a coroutine on the event loop acting for an actor): it is the one told
        ``DeliveryFailed`` if the runtime gives up on the message.
        """
        self._send(self._envelope(message, correlation_id, None, sender))

    def ask(self, message: Message, *, timeout: float) -> Any:
        """Send ``message`` and block this thread until the handler's return value arrives.

        Never call this from a coroutine (use :meth:`ask_async`) nor upward in the tree.

        Raises:
            AskTimeout: no reply within ``timeout`` seconds.
            ActorNotFound, ActorStopped, PoisonMessage, UnhandledMessage: not handled.
            Exception: whatever the handler raised.
        """
        reply = ThreadReply()
        self._send(self._envelope(message, None, reply))
        return reply.wait(timeout, self.path)

    async def ask_async(self, message: Message, *, timeout: float) -> Any:
        """Like :meth:`ask`, awaited from a coroutine without blocking its event loop."""
        return await self.ask_now(message, timeout=timeout)

    def ask_now(self, message: Message, *, timeout: float) -> Coroutine[Any, Any, Any]:
        """Like :meth:`ask_async`, but ``message`` is sent before this returns; await the
        result for the reply. For a coroutine on the event loop whose message must be
        queued before what it does next (``ask_async`` sends only once awaited).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._send(self._envelope(message, None, LoopReply(loop, future)))
        return self._reply(future, timeout)

    async def _reply(self, future: asyncio.Future[Any], timeout: float) -> Any:
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AskTimeout(f"no reply from {self.path} within {timeout:g}s") from None
