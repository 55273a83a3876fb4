"""The actor system: the registry of addresses, the root supervisor and the lifecycle."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from types import TracebackType
from typing import Self

from loguru import logger

from runtime._actor import ActorContext
from runtime._address import Address
from runtime._cell import Cell, LifecycleState
from runtime._deadletters import DeadLetters
from runtime._exceptions import (
    ActorNotFound,
    ActorStopped,
    ActorSystemError,
    ChildStartFailed,
    PoisonMessage,
)
from runtime._message import DeliveryFailed, Envelope
from runtime._pool import Route
from runtime._snapshot import ActorSnapshot, MessageStamp, SystemSnapshot
from runtime._supervisor import Supervisor, SupervisorSpec, retire, stop_actor, wait_booted
from runtime._timers import Timers


class ActorSystem:
    """Owns every actor thread, the timer thread, the address registry and dead letters.

    Use it as a context manager: leaving the block shuts everything down::

        with ActorSystem() as system:
            system.start(SupervisorSpec(children=(ChildSpec(name="greeter", ...),)))
            system.address("/greeter").tell(Greet(name="Ada"))
            system.wait()  # until request_shutdown() or the root supervisor gives up

    ``exit_code`` is 0 after an ordinary shutdown and 1 once the root supervisor gave up.
    """

    def __init__(self, *, dead_letter_capacity: int = 1000) -> None:
        self._cells: dict[str, Cell] = {}
        self._lock = threading.Lock()
        self.dead_letters = DeadLetters(dead_letter_capacity)
        self.timers = Timers()
        self._cid_counter = itertools.count(1)
        self._cid_prefix = secrets.token_hex(3)
        self._root: Cell | None = None
        self._root_actor: Supervisor | None = None
        self._stop_requested = threading.Event()
        self._started_at = time.time()
        self._state = "new"
        self._shutdown_deadline: float | None = None
        self.exit_code = 0
        self.exit_reason = ""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # -- starting -------------------------------------------------------------------------

    def start(self, spec: SupervisorSpec, *, timeout: float | None = None) -> Address:
        """Start the root supervisor (at ``/``) and its children, in order.

        ``timeout`` defaults to the children's start timeouts added up (plus a margin).

        Raises:
            ChildStartFailed: a child failed in ``on_start``; everything started is stopped.
        """
        if self._state != "new":
            raise ActorSystemError("an ActorSystem can be started once")
        if timeout is None:
            timeout = sum(child.start_timeout for child in spec.children) + 5.0
        self._state = "running"
        self.timers.start()
        cell = self.cell_for("/", None)
        actor = Supervisor(ActorContext(self, cell), spec)
        cell.incarnation = actor.incarnation = 1
        cell.actor = actor
        self._root, self._root_actor = cell, actor
        actor._start_actor_loop()  # noqa: SLF001 - pykka's hook for actor implementations
        if not wait_booted(actor, timeout):
            failure = cell.stats.last_failure
            self.shutdown()
            raise ChildStartFailed(failure.message if failure else "root did not start in time")
        return self.address("/")

    # -- the registry -----------------------------------------------------------------------

    def address(self, path: str) -> Address:
        """The address for ``path``; valid whether or not anything lives there yet."""
        return Address(self, path, self._cells.get(path))

    def cell_for(self, path: str, parent: Cell | None, *, poison_after: int = 3) -> Cell:
        """The cell at ``path``, created if new; an existing one keeps its mailbox."""
        with self._lock:
            cell = self._cells.get(path)
            if cell is None:
                cell = Cell(path, parent, poison_after=poison_after)
                self._cells[path] = cell
            return cell

    def cells_under(self, path: str) -> list[Cell]:
        """Every cell below ``path`` (children, grandchildren, ...)."""
        prefix = path.rstrip("/") + "/"
        with self._lock:
            return [cell for key, cell in self._cells.items() if key.startswith(prefix)]

    def register(self, cell: Cell) -> None:
        with self._lock:
            self._cells[cell.path] = cell

    def unregister(self, cell: Cell) -> None:
        with self._lock:
            if self._cells.get(cell.path) is cell:
                del self._cells[cell.path]

    def new_correlation_id(self) -> str:
        return f"{self._cid_prefix}-{next(self._cid_counter):x}"

    # -- delivery -------------------------------------------------------------------------------

    def route(self, path: str, envelope: Envelope) -> Cell | None:
        """Deliver an envelope its sender could not put in a cached cell.

        Returns the cell that took it, for the sender's address to cache.
        """
        cell = self._cells.get(path)
        if cell is not None and cell.deliver(envelope):
            return cell
        parent_path, _, key = path.rpartition("/")
        parent = self._cells.get(parent_path or "/")
        if parent is not None and parent.role == "pool" and key:
            with parent.lock:
                # A pool opens a member's cell only under this lock and only once no
                # message for its key waits in the pool, so a sender's later messages
                # cannot overtake the ones it handed to the pool.
                cell = self._cells.get(path)
                if cell is not None and cell.deliver(envelope, inline=False):
                    return cell
                if parent.accepting:
                    parent.routed[key] = parent.routed.get(key, 0) + 1
                    parent.mailbox.put(Route(key, envelope))
                    return None
        if cell is None:
            self.give_up(path, envelope, "no such actor", ActorNotFound)
        else:
            self.give_up(path, envelope, "actor stopped", ActorStopped)
        return None

    def give_up(
        self,
        target: str,
        envelope: Envelope,
        reason: str,
        error: type[Exception] = ActorStopped,
    ) -> None:
        """Dead-letter ``envelope`` and let whoever is waiting for it know."""
        message_type = type(envelope.message).__name__
        self.dead_letters.record(
            message_type=message_type,
            target=target,
            reason=reason,
            correlation_id=envelope.correlation_id,
            sender=envelope.sender,
        )
        if reason.startswith("poison"):
            error = PoisonMessage
        if envelope.reply_to is not None:
            envelope.reply_to.set_exception(error(f"{message_type} to {target}: {reason}"))
        elif envelope.sender is not None and not isinstance(envelope.message, DeliveryFailed):
            notice = DeliveryFailed(
                message_type=message_type,
                target=target,
                reason=reason,
                correlation_id=envelope.correlation_id,
            )
            self.address(envelope.sender).tell(notice, correlation_id=envelope.correlation_id)

    # -- ending -----------------------------------------------------------------------------------

    def root_failed(self, error: BaseException) -> None:
        """The root supervisor gave up: shut the whole system down with exit status 1."""
        self.exit_code = 1
        self.exit_reason = f"root supervisor gave up: {error}"
        logger.critical("{}; shutting down", self.exit_reason)
        self._stop_requested.set()

    def request_shutdown(self, reason: str = "requested") -> None:
        """Make :meth:`wait` return; safe from signal handlers and any thread."""
        if not self.exit_reason:
            self.exit_reason = reason
        self._stop_requested.set()

    def stop_budget(self, timeout: float) -> float:
        """How long one actor may take to stop: its own ``timeout``, cut to what is left
        of the deadline once :meth:`shutdown` has begun, so the whole drain fits in it."""
        if self._shutdown_deadline is None:
            return timeout
        return max(0.0, min(timeout, self._shutdown_deadline - time.monotonic()))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until shutdown is requested or the root gives up; False on timeout."""
        return self._stop_requested.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every actor in reverse start order, draining mailboxes up to ``timeout``.

        Idempotent. Afterwards no thread of the runtime is alive (unless a handler is stuck,
        which is logged by path).
        """
        if self._state in ("stopping", "stopped"):
            return
        self._state = "stopping"
        self._shutdown_deadline = time.monotonic() + timeout
        self._stop_requested.set()
        root, actor = self._root, self._root_actor
        if root is not None and actor is not None:
            root.close_intake()
            stop_actor(self, root, actor, timeout)
            root.state = LifecycleState.STOPPED
        # After the root gave up, its children were stopped for a restart that never came
        # and their cells still take messages: close them so that what is sent is
        # dead-lettered instead of lost. Cells whose actor is stuck are left alone.
        for cell in list(self._cells.values()):
            if cell.actor is None or cell.actor.done.is_set():
                retire(self, cell, "actor stopped")
        self.timers.close()
        self._state = "stopped"
        logger.info("actor system stopped ({})", self.exit_reason or "shutdown")

    # -- introspection -----------------------------------------------------------------------------

    def snapshot(self, *, dead_letters: int = 50) -> SystemSnapshot:
        """The live tree as a msgspec Struct, safe to take from any thread at any time."""
        now = time.time()
        cells = list(self._cells.values())
        children: dict[str, list[Cell]] = {}
        for cell in cells:
            if cell.parent is not None:
                children.setdefault(cell.parent.path, []).append(cell)

        def build(cell: Cell) -> ActorSnapshot:
            stats = cell.stats
            p50, p99 = stats.percentiles_ms()
            last = stats.last_message_at
            return ActorSnapshot(
                path=cell.path,
                actor_class=type(cell.actor).__name__ if cell.actor is not None else "-",
                role=cell.role,
                state=str(cell.state),
                mailbox_depth=cell.depth(),
                processed=stats.processed,
                failures=stats.failures,
                restarts=stats.restarts,
                last_failure=stats.last_failure,
                uptime_s=now - stats.created_at,
                since_last_message_s=None if last is None else now - last,
                recent=tuple(MessageStamp(type=t, at=at) for t, at in tuple(stats.recent)),
                p50_ms=p50,
                p99_ms=p99,
                restarts_last_hour=stats.restarts_since(now - 3600.0),
                children=tuple(build(child) for child in children.get(cell.path, ())),
            )

        root = self._cells.get("/")
        return SystemSnapshot(
            taken_at=now,
            uptime_s=now - self._started_at,
            actor_count=len(cells),
            dead_letter_total=self.dead_letters.total,
            root=build(root) if root is not None else None,
            dead_letters=self.dead_letters.recent(dead_letters),
        )
