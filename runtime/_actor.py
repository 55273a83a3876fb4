"""The actor base class: typed dispatch, live figures and a loop that reports failures.

pykka's own loop stops an actor for good on the first exception in a ``tell`` handler and
drops what was queued behind it. This loop instead ends only the current incarnation,
keeps the mailbox in the cell, puts the failing message up for a retry (or dead letters
it once it has failed ``poison_after`` times) and tells the supervisor, which decides.
"""

from __future__ import annotations

import asyncio
import threading
import time
import typing
from collections.abc import Callable, Mapping
from types import UnionType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pykka
from loguru import logger

from runtime._cell import Cell, ChildEnded, ExpressFailed, LifecycleState, Stop, StopKind
from runtime._exceptions import Escalated, UnhandledMessage
from runtime._message import DeliveryFailed, Envelope, Message, _current
from runtime._scheduling import as_batch_thread

if TYPE_CHECKING:
    from runtime._address import Address
    from runtime._asyncio import AsyncLoop
    from runtime._system import ActorSystem
    from runtime._timers import TimerHandle

F = TypeVar("F", bound=Callable[..., Any])

_RECEIVES = "__runtime_receives__"


def receive(method: F) -> F:
    """Mark a method as the handler for the message type(s) its parameter is annotated with.

    ``def on_greet(self, message: Greet) -> str`` handles ``Greet``; a union annotation
    handles each member. What the handler returns is the reply to an ``ask``.
    """
    setattr(method, _RECEIVES, True)
    return method


def _message_types(annotation: Any) -> tuple[type, ...]:
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(t for arg in typing.get_args(annotation) for t in _message_types(arg))
    if isinstance(annotation, type):
        return (annotation,)
    raise TypeError(f"cannot dispatch on annotation {annotation!r}")


def _dispatch_names(cls: type) -> dict[type, str]:
    table: dict[type, str] = {}
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if not getattr(attr, _RECEIVES, False):
                continue
            hints = typing.get_type_hints(attr)
            hints.pop("return", None)
            if len(hints) != 1:
                raise TypeError(f"{cls.__name__}.{name} must annotate exactly one message param")
            for message_type in _message_types(next(iter(hints.values()))):
                table[message_type] = name
    return table


class ActorContext:
    """What an actor gets from the runtime: its own address, its parent's, and timers.

    Handed to the actor's constructor by its supervisor's factory.
    """

    __slots__ = ("_cell", "_restore", "_save", "_system", "address", "key", "parent")

    def __init__(
        self,
        system: ActorSystem,
        cell: Cell,
        *,
        save: Callable[[str, Any], None] | None = None,
        restore: Callable[[str], Any] | None = None,
    ) -> None:
        self._system = system
        self._cell = cell
        self._save = save
        self._restore = restore
        self.key = cell.key
        self.address: Address = system.address(cell.path)
        self.parent: Address | None = (
            None if cell.parent is None else system.address(cell.parent.path)
        )

    @property
    def path(self) -> str:
        return self._cell.path

    def tell_later(
        self, delay: float, message: Message, *, to: Address | None = None
    ) -> TimerHandle:
        """Send ``message`` to ``to`` (default: this actor) after ``delay`` seconds.

        The timer keeps the target's path, not its address: an address caches the cell of
        the incarnation it last reached, and a long timer would keep a passivated actor's
        cell (its mailbox and figures) in memory until it falls due. Cancel the handle when
        the message is no longer wanted, so the timer keeps nothing at all.
        """
        system = self._system
        path = (to or self.address).path
        correlation = _current.get()
        cid = correlation[0] if correlation else None
        return system.timers.call_later(
            delay, lambda: system.address(path).tell(message, correlation_id=cid)
        )

    def set_busy(self, busy: bool) -> None:
        """Tell a keyed pool whether this actor has work in flight (an answer being made,
        messages queued of its own): while busy, the pool neither passivates it when idle
        nor evicts it to make room; a waiting key then waits for a free slot instead."""
        self._cell.pinned = busy

    def stop_self(self) -> None:
        """End this actor once what is already queued is handled."""
        self._cell.post(Stop(StopKind.STOP, voluntary=True))


class Actor(pykka.ThreadingActor):
    """Base of every actor: subclass it, add ``@receive`` handlers, open resources in
    ``on_start`` and close them in ``on_stop``.

    ``on_stop`` runs at the end of every incarnation, a crash included, so a resource
    opened in ``on_start`` is always closed. Actors of a keyed pool may also override
    ``on_passivate`` (return the state to keep) and ``on_restore`` (take it back).

    ``answered_errors`` lists exceptions that are the asker's business, not a sign that
    this actor is broken (a bad argument, a row that does not exist): raised while
    answering an ``ask``, they go to the asker and the actor carries on. Anything else,
    and any exception in a ``tell`` handler, fails the actor and its supervisor decides.

    ``served_first`` lists message types handled before whatever else is queued (in the
    order they came): for a message someone waits on that must not queue behind a
    backlog of work nobody waits for. Only where their order against other messages
    does not matter.
    """

    answered_errors: ClassVar[tuple[type[Exception], ...]] = ()
    served_first: ClassVar[tuple[type, ...]] = ()
    _dispatch_tables: ClassVar[dict[type, dict[type, str]]] = {}

    def __init__(self, context: ActorContext) -> None:
        super().__init__()
        self.context = context
        self._cell = context._cell  # noqa: SLF001 - the runtime's own context
        self._cell.first = frozenset(self.served_first)
        # The mailbox belongs to the cell so that it survives this incarnation.
        self.actor_inbox = self._cell.mailbox
        self._actor_ref = pykka.ActorRef(self)
        cls = type(self)
        names = Actor._dispatch_tables.get(cls)
        if names is None:
            names = Actor._dispatch_tables.setdefault(cls, _dispatch_names(cls))
        self._handlers: dict[type, Callable[[Any], Any]] = {
            message_type: getattr(self, name) for message_type, name in names.items()
        }
        self.incarnation = 0
        self.ready = threading.Event()
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self._express_loop: asyncio.AbstractEventLoop | None = None
        self._express_handlers: dict[type, Callable[[Any], Any]] = {}
        self._express_waiting = False  # serve_on_loop was called; the lane opens when idle
        self._express = self._take_express  # one bound method: the cell's mark of this incarnation
        self._idle_loop: AsyncLoop | None = None
        self._idle_handlers: dict[type, tuple[Callable[[Any], Any], Callable[[Any], bool]]] = {}
        self._idle = self._take_idle  # likewise, for the idle lane

    def __str__(self) -> str:
        return f"{type(self).__name__}({self._cell.path})"

    # -- hooks ---------------------------------------------------------------------------

    def on_passivate(self) -> Any:
        """Return the state a keyed pool should save when it passivates this actor."""
        return None

    def on_restore(self, state: Any) -> None:
        """Take back the state saved at the last passivation (None if there was none)."""

    @receive
    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        """The runtime gave up on a message this actor sent; override to tell the user."""
        logger.warning(
            "{}: {} to {} failed: {}", self, message.message_type, message.target, message.reason
        )

    def stop(self) -> None:
        """Ask this actor to end once what is already queued is handled."""
        self.context.stop_self()

    def serve_on_loop(self, loop: asyncio.AbstractEventLoop, *message_types: type) -> None:
        """Handle told messages of ``message_types`` on ``loop``, past this actor's thread.

        For an actor whose handlers only hand work to the event loop (a call to make, a
        coroutine to run): a sender's message then reaches the loop in one thread hop
        instead of two, each hop a wake-up and a wait for the GIL. Call it in ``on_start``;
        it lasts for this incarnation. Such a handler runs on the loop's thread while this
        actor's thread may run another, so it may only read what ``on_start`` set and use
        what belongs to the loop. If it raises, this incarnation fails like any other
        (the supervisor decides) and the message is retried on the next one's thread.
        Asks stay on the thread, and so does everything while the incarnation ends.

        The loop takes over only once the mailbox is empty: what was queued meanwhile (while
        this incarnation started, say) is handled here first, so that no message overtakes
        one its sender sent before.
        """
        self._express_loop = loop
        self._express_handlers = {t: self._handlers[t] for t in message_types}
        self._express_waiting = True

    def serve_idle_on_loop(
        self, loop: AsyncLoop, when: Mapping[type, Callable[[Any], bool]]
    ) -> None:
        """Let a message told from ``loop``'s thread be handled right there while this
        actor's thread waits for work, if ``when[type(message)](message)`` says so.

        For an actor whose messages mostly come from the event loop and whose common
        handling never waits (a chat session answering from what it holds in memory): the
        handler then runs in its sender's call, and the message never crosses to this
        actor's thread and back, two hand-overs of the GIL. Unlike :meth:`serve_on_loop`,
        such a handler owns the actor's state: it runs only in the actor's turn, taken
        while the thread is parked with nothing queued (so nothing sent before is
        overtaken), and the thread waits for it before its next message.

        ``when`` maps a message type to a predicate, called in that turn: True if the
        handler can do it now without blocking the loop (no ``ask``, no file or database
        I/O), False to leave the message to the thread as usual. It must not change the
        actor's state. A handler that raises fails this incarnation, as on the thread.
        Call it in ``on_start``; it lasts for this incarnation.
        """
        self._idle_loop = loop
        self._idle_handlers = {t: (self._handlers[t], check) for t, check in when.items()}
        self._cell.idle_lane = self._idle

    def _take_idle(self, envelope: Envelope) -> bool:
        """The cell's idle lane: handle ``envelope`` now, in this actor's turn; False to queue."""
        entry = self._idle_handlers.get(type(envelope.message))
        loop = self._idle_loop
        if entry is None or loop is None or envelope.reply_to is not None:
            return False
        if not loop.on_loop_thread():
            return False
        cell = self._cell
        if not cell.claim_idle_turn():
            return False
        try:
            if cell.idle_lane is not self._idle or cell.state is not LifecycleState.RUNNING:
                return False  # this incarnation is ending
            return self._handle_idle(entry, envelope)
        finally:
            cell.release_idle_turn()

    def _handle_idle(
        self, entry: tuple[Callable[[Any], Any], Callable[[Any], bool]], envelope: Envelope
    ) -> bool:
        handler, check = entry
        cell = self._cell
        message = envelope.message
        token = _current.set((envelope.correlation_id, cell.path))
        cell.busy = True
        started = time.perf_counter()
        try:
            if not check(message):
                return False
            handler(message)
        except Exception as exc:  # noqa: BLE001 - boundary: the supervisor decides
            cell.idle_lane = None
            cell.post(ExpressFailed(envelope, exc))
            return True
        finally:
            cell.busy = False
            _current.reset(token)
        elapsed = time.perf_counter() - started
        cell.stats.record_message(type(message).__name__, elapsed, time.time())
        return True

    def _open_express(self) -> None:
        """Let the loop take served messages, unless some are still queued (then later)."""
        cell = self._cell
        with cell.lock:  # deliver() queues under it: nothing slips in between
            if cell.depth() == 0:
                cell.express = self._express
                self._express_waiting = False

    def _take_express(self, envelope: Envelope) -> bool:
        """The cell's express lane: schedule ``envelope`` on the loop; False to queue it."""
        handler = self._express_handlers.get(type(envelope.message))
        loop = self._express_loop
        if handler is None or loop is None or envelope.reply_to is not None:
            return False
        if not self._cell.accepting:
            return False
        try:
            loop.call_soon_threadsafe(self._handle_express, handler, envelope)
        except RuntimeError:  # the loop is closed: the mailbox will do
            return False
        return True

    def _handle_express(self, handler: Callable[[Any], Any], envelope: Envelope) -> None:
        cell = self._cell
        if cell.express is not self._express:  # this incarnation ended since: the next one
            if not cell.deliver(envelope):
                self.context._system.route(cell.path, envelope)  # noqa: SLF001
            return
        message = envelope.message
        token = _current.set((envelope.correlation_id, cell.path))
        started = time.perf_counter()
        try:
            handler(message)
        except Exception as exc:  # noqa: BLE001 - boundary: the supervisor decides
            cell.express = None
            cell.post(ExpressFailed(envelope, exc))
            return
        finally:
            _current.reset(token)
        elapsed = time.perf_counter() - started
        cell.stats.record_message(type(message).__name__, elapsed, time.time())

    # -- the loop ------------------------------------------------------------------------

    def _start_actor_loop(self) -> None:
        # pykka's hook for actor implementations; we keep the thread to join it later.
        self.thread = threading.Thread(
            target=self._actor_loop, name=f"actor:{self._cell.path}", daemon=False
        )
        self.thread.start()

    def _actor_loop(self) -> None:
        as_batch_thread()  # woken by the loop's tells, it must not preempt the loop
        try:
            if self._boot():
                self._serve()
        finally:
            self.done.set()

    def _boot(self) -> bool:
        cell = self._cell
        cell.state = LifecycleState.STARTING
        try:
            restore = self.context._restore  # noqa: SLF001
            if restore is not None and cell.key is not None:
                self.on_restore(restore(cell.key))
            self.on_start()
        except Exception as exc:  # noqa: BLE001 - boundary: the supervisor decides
            self._die(None, exc)
            return False
        cell.state = LifecycleState.RUNNING
        self.ready.set()
        return True

    def _serve(self) -> None:
        cell = self._cell
        turn = cell.turn if self._idle_handlers else None  # see serve_idle_on_loop
        handle = self._handle
        while True:
            if self._express_waiting:
                self._open_express()
            if turn is None:
                if handle(cell.take()):
                    return
                continue
            cell.park()
            item = cell.take()
            with turn:  # the loop may be handling one in this actor's turn: wait for it
                if handle(item):
                    return

    def _handle(self, item: object) -> bool:
        """Handle one item from the mailbox; True when this incarnation is over."""
        if type(item) is not Envelope:
            return self._control(item)
        cell = self._cell
        message = item.message
        handler = self._handlers.get(type(message))
        if handler is None:
            self._unhandled(item)
            return False
        token = _current.set((item.correlation_id, cell.path))
        cell.busy = True
        started = time.perf_counter()
        try:
            result = handler(message)
        except Exception as exc:  # noqa: BLE001 - boundary: the supervisor decides
            _current.reset(token)
            cell.busy = False
            if self._answered(item, exc, time.perf_counter() - started):
                return False
            self._die(item, exc)
            return True
        elapsed = time.perf_counter() - started
        _current.reset(token)
        cell.busy = False
        cell.stats.record_message(type(message).__name__, elapsed, time.time())
        if item.reply_to is not None:
            item.reply_to.set(result)
        if cell.abort:
            self._end(StopKind.STOP, voluntary=False)
            return True
        return False

    def _control(self, item: object) -> bool:
        """Handle a control item; True when this incarnation is over (it may have died)."""
        try:
            return self._on_control(item)
        except Exception as exc:  # noqa: BLE001 - boundary: the supervisor decides
            self._die(None, exc)
            return True

    def _answered(self, envelope: Envelope, exc: Exception, elapsed: float) -> bool:
        """Give an answered error to its asker (True), or leave it to fail the actor."""
        reply_to = envelope.reply_to
        if reply_to is None or not isinstance(exc, self.answered_errors):
            return False
        name = type(envelope.message).__name__
        self._cell.stats.record_message(name, elapsed, time.time())
        logger.info("{} answered {} with {}: {}", self, name, type(exc).__name__, exc)
        reply_to.set_exception(exc)
        return True

    def _on_control(self, item: object) -> bool:
        """Handle a runtime control item; return True when this incarnation is over."""
        if isinstance(item, Stop):
            self._end(item.kind, voluntary=item.voluntary)
            return True
        if isinstance(item, ExpressFailed):
            self._die(item.envelope, item.error)
            return True
        logger.warning("{} ignored control item {!r}", self, item)
        return False

    def _unhandled(self, envelope: Envelope) -> None:
        system = self.context._system  # noqa: SLF001
        system.give_up(self._cell.path, envelope, "no handler", UnhandledMessage)

    def _close(self) -> None:
        try:
            self.on_stop()
        except Exception:  # noqa: BLE001 - boundary: a failing on_stop must not hide the exit
            logger.exception("{}: on_stop failed", self)

    def _end(self, kind: StopKind, *, voluntary: bool) -> None:
        cell = self._cell
        cell.express = None
        cell.idle_lane = None
        cell.state = LifecycleState.STOPPING
        save = self.context._save  # noqa: SLF001 - the runtime's own context
        if kind is StopKind.PASSIVATE and save is not None and cell.key is not None:
            try:
                save(cell.key, self.on_passivate())
            except Exception:  # noqa: BLE001 - boundary: log, the actor still stops
                logger.exception("{}: saving state at passivation failed", self)
        self._close()
        cell.state = LifecycleState.STOPPED
        if cell.parent is not None:
            cell.parent.post(
                ChildEnded(cell.path, self.incarnation, None, kind, voluntary=voluntary)
            )

    def _die(self, envelope: Envelope | None, exc: Exception) -> None:
        cell = self._cell
        cell.express = None
        cell.idle_lane = None
        cell.stats.record_failure(exc)
        system = self.context._system  # noqa: SLF001
        if envelope is not None:
            cid = envelope.correlation_id
            logger.opt(exception=exc).error(
                "{} failed handling {} cid={}", self, type(envelope.message).__name__, cid
            )
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception(exc)
            else:
                envelope.attempts += 1
                if envelope.attempts >= cell.poison_after:
                    system.give_up(cell.path, envelope, f"poison: failed {envelope.attempts} times")
                else:
                    cell.redeliver = envelope
        elif not isinstance(exc, Escalated):
            logger.opt(exception=exc).error("{} failed outside a handler", self)
        self._close()
        cell.state = LifecycleState.FAILED
        if cell.parent is not None:
            cell.parent.post(ChildEnded(cell.path, self.incarnation, exc))
        else:
            system.root_failed(exc)
