"""The cell: everything about an address that must outlive one incarnation of its actor.

An actor object lives for one incarnation; its cell lives as long as the address. The
mailbox, the figures and the message being retried belong to the cell, so a restart
loses nothing but the actor's in-memory state, and a message sent mid-restart simply
waits in the mailbox for the next incarnation.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any

from runtime._message import Envelope
from runtime._stats import ActorStats

if TYPE_CHECKING:
    from runtime._actor import Actor


class LifecycleState(enum.StrEnum):
    """Where an address is in its life, as the debug view shows it."""

    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class StopKind(enum.Enum):
    """Why an incarnation is asked to end."""

    STOP = "stop"  # for good, or for a restart decided by the supervisor
    PASSIVATE = "passivate"  # idle or evicted from a keyed pool: save state, then stop


class Stop:
    """Control item: end this incarnation once the items queued before it are handled."""

    __slots__ = ("kind", "voluntary")

    def __init__(self, kind: StopKind, *, voluntary: bool = False) -> None:
        self.kind = kind
        self.voluntary = voluntary


class ExpressFailed:
    """Control item: a handler run on the event loop raised; the incarnation must end."""

    __slots__ = ("envelope", "error")

    def __init__(self, envelope: Envelope, error: Exception) -> None:
        self.envelope = envelope
        self.error = error


class ChildEnded:
    """Control item sent to a parent when one incarnation of a child ends."""

    __slots__ = ("error", "incarnation", "kind", "path", "voluntary")

    def __init__(
        self,
        path: str,
        incarnation: int,
        error: BaseException | None,
        kind: StopKind = StopKind.STOP,
        *,
        voluntary: bool = False,
    ) -> None:
        self.path = path
        self.incarnation = incarnation
        self.error = error
        self.kind = kind
        self.voluntary = voluntary


# Queued in the mailbox for each message served first, to wake an actor waiting on it.
_FIRST = object()


class Cell:
    """State of one address shared by all incarnations of its actor.

    Messages of the types in ``first`` (see ``Actor.served_first``) wait in a lane of their
    own and are taken before anything already in the mailbox, in the order they came.
    Each one also puts a marker in the mailbox, so that a waiting actor wakes for it;
    ``stale`` counts the markers of those taken before their marker was reached.
    """

    __slots__ = (
        "abort",
        "accepting",
        "actor",
        "busy",
        "express",
        "first",
        "first_lane",
        "idle_lane",
        "incarnation",
        "key",
        "lock",
        "mailbox",
        "on_loop",
        "parent",
        "parked",
        "path",
        "pinned",
        "poison_after",
        "redeliver",
        "role",
        "routed",
        "stale",
        "state",
        "stats",
        "turn",
    )

    def __init__(
        self, path: str, parent: Cell | None, *, poison_after: int = 3, key: str | None = None
    ) -> None:
        self.path = path
        self.parent = parent
        self.key = key
        self.mailbox: SimpleQueue[Any] = SimpleQueue()
        self.stats = ActorStats()
        self.state = LifecycleState.STARTING
        self.accepting = True
        self.lock = threading.Lock()
        self.actor: Actor | None = None
        self.redeliver: Envelope | None = None
        self.abort = False
        self.busy = False
        self.pinned = False  # the actor has work in flight: a pool must not passivate it
        self.incarnation = 0
        self.poison_after = max(1, poison_after)
        self.role = "actor"
        # For a pool: how many messages per key wait in this mailbox to be handed over.
        # Guarded by ``lock``; a member's cell opens only when its key has none left.
        self.routed: dict[str, int] = {}
        # Set by an incarnation that serves some messages on the event loop (see
        # Actor.serve_on_loop): True if it took the envelope there, past the mailbox.
        self.express: Callable[[Envelope], bool] | None = None
        # Set by an incarnation that lets the event loop handle some messages in its own
        # turn while its thread waits for work (see Actor.serve_idle_on_loop): True if it
        # handled the envelope there. ``parked`` (under ``lock``): the thread found nothing
        # queued and nothing came since; ``on_loop`` (under ``lock``): such a handler runs.
        # ``turn`` is held by whichever runs one of the actor's handlers, thread or loop.
        self.idle_lane: Callable[[Envelope], bool] | None = None
        self.parked = False
        self.on_loop = False
        self.turn = threading.Lock()
        self.first: frozenset[type] = frozenset()
        self.first_lane: deque[Envelope] = deque()
        self.stale = 0  # written by the actor's thread only

    def deliver(self, envelope: Envelope, *, inline: bool = True) -> bool:
        """Queue a user message; False if this address no longer takes messages.

        ``inline=False`` when the caller holds a lock: the message is then never handled
        on the spot by the idle lane (whose handler might need that same lock).
        """
        express = self.express
        if express is not None and express(envelope):
            return True
        idle_lane = self.idle_lane
        if inline and idle_lane is not None and idle_lane(envelope):
            return True
        with self.lock:
            if not self.accepting:
                return False
            self.parked = False
            if self.first and type(envelope.message) in self.first:
                self.first_lane.append(envelope)
                self.mailbox.put(_FIRST)
            else:
                self.mailbox.put(envelope)
            return True

    def post(self, item: object) -> None:
        """Queue a control item; control items are never refused."""
        self.parked = False
        self.mailbox.put(item)

    def park(self) -> None:
        """The actor's thread is about to wait for work: mark it parked if none is queued."""
        with self.lock:
            self.parked = self.depth() == 0

    def claim_idle_turn(self) -> bool:
        """Take the actor's turn for the event loop, if its thread is parked with nothing
        queued (so nothing sent before can be overtaken); ``release_idle_turn`` after."""
        with self.lock:
            if not (self.parked and self.accepting and self.depth() == 0):
                return False
            if not self.turn.acquire(blocking=False):
                return False
            self.on_loop = True
            return True

    def release_idle_turn(self) -> None:
        with self.lock:
            self.on_loop = False
        self.turn.release()

    def take(self) -> Any:
        """Next item for the actor: a message being retried first, then the mailbox."""
        retry = self.redeliver
        if retry is not None:
            self.redeliver = None
            return retry
        lane = self.first_lane
        if lane:
            self.stale += 1  # its marker is still in the mailbox: skip it when reached
            return lane.popleft()
        while True:
            item = self.mailbox.get()
            if item is not _FIRST:
                return item
            if self.stale:
                self.stale -= 1
                continue
            return lane.popleft()

    def close_intake(self) -> bool:
        """Stop taking messages; return True if the mailbox was empty at that moment."""
        with self.lock:
            self.accepting = False
            return self._empty()

    def close_intake_if_empty(self) -> bool:
        """Stop taking messages only if none is waiting; True if intake is now closed.

        Closing and reopening instead would bounce a sender's message to the slow path
        for a moment while its next one goes straight in, out of order.
        """
        with self.lock:
            if not self._empty():
                return False
            self.accepting = False
            return True

    def reopen_intake(self) -> None:
        with self.lock:
            self.accepting = True

    def depth(self) -> int:
        # A marker is queued for each message in the first lane, and for ``stale`` taken.
        return self.mailbox.qsize() - self.stale + (1 if self.redeliver is not None else 0)

    def _empty(self) -> bool:
        # A handler running on the loop in the actor's turn counts: it is work in hand.
        return self.mailbox.qsize() <= self.stale and self.redeliver is None and not self.on_loop

    def drain(self) -> list[Envelope]:
        """Take every queued message out (control items are dropped)."""
        items: list[Envelope] = []
        if self.redeliver is not None:
            items.append(self.redeliver)
            self.redeliver = None
        lane = self.first_lane
        while lane:
            items.append(lane.popleft())
        while not self.mailbox.empty():
            item = self.mailbox.get_nowait()
            if type(item) is Envelope:
                items.append(item)
        self.stale = 0  # their markers are gone too
        return items
