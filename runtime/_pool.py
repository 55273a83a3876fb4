"""A keyed pool: one child per key, spawned on its first message, passivated when idle.

Made for one actor per chat. Children are addressed as ``{pool path}/{key}``; a message
to a key with no live child reaches the pool, which spawns the child (calling the
``restore`` hook on the child's thread) and hands the message over. Children idle for
``idle_after`` seconds are passivated: their state goes through ``save`` and their thread
ends. At most ``max_alive`` children live at once; a new key past the cap waits while
the least recently active child is passivated, so threads stay bounded whatever the
number of keys.

A failing child is restarted in place (its mailbox kept); past ``max_restarts`` within
``within_seconds`` for the same key, that key's child is stopped and its queued
messages dead-lettered, without disturbing the other keys.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loguru import logger

from runtime._actor import Actor, ActorContext
from runtime._cell import Cell, ChildEnded, LifecycleState, Stop, StopKind
from runtime._exceptions import ActorStopped
from runtime._message import Envelope
from runtime._supervisor import ChildSpec, Restart, join_path

if TYPE_CHECKING:
    from runtime._timers import TimerHandle


@dataclass(frozen=True, kw_only=True)
class PoolSpec:
    """How a keyed pool builds, limits, passivates and restores its children."""

    factory: Callable[[ActorContext], Actor]
    idle_after: float | None = 600.0
    max_alive: int = 1000
    save: Callable[[str, Any], None] | None = None
    restore: Callable[[str], Any] | None = None
    max_restarts: int = 3
    within_seconds: float = 10.0
    poison_after: int = 3
    shutdown_timeout: float = 10.0


def pool(name: str, spec: PoolSpec, *, shutdown_timeout: float | None = None) -> ChildSpec:
    """A child spec for a keyed pool."""
    return ChildSpec(
        name=name,
        factory=lambda context: KeyedPool(context, spec),
        restart=Restart.PERMANENT,
        shutdown_timeout=shutdown_timeout or spec.shutdown_timeout + 5.0,
    )


class Route:
    """Control item: a message for ``key`` whose child was not there to take it."""

    __slots__ = ("envelope", "key")

    def __init__(self, key: str, envelope: Envelope) -> None:
        self.key = key
        self.envelope = envelope


class _Sweep:
    __slots__ = ()


class _Member:
    __slots__ = ("actor", "cell", "failures", "spawned_at", "stopping")

    def __init__(self, cell: Cell, actor: Actor) -> None:
        self.cell = cell
        self.actor = actor
        self.spawned_at = time.time()
        self.stopping = False
        self.failures: deque[float] = deque()

    def last_active(self) -> float:
        return self.cell.stats.last_message_at or self.spawned_at


class KeyedPool(Actor):
    """The pool actor; see the module docstring."""

    def __init__(self, context: ActorContext, spec: PoolSpec) -> None:
        super().__init__(context)
        self.spec = spec
        self._system = context._system  # noqa: SLF001 - the runtime's own context
        self._members: dict[str, _Member] = {}
        self._pending: dict[str, list[Envelope]] = {}
        self._waiting: deque[str] = deque()
        self._sweep_timer: TimerHandle | None = None
        self.peak_alive = 0

    def on_start(self) -> None:
        self._cell.role = "pool"
        self._arm_sweep()

    def _arm_sweep(self) -> None:
        if self.spec.idle_after is None:
            return
        interval = max(0.01, min(self.spec.idle_after / 4, 5.0))
        cell = self._cell
        self._sweep_timer = self._system.timers.call_later(interval, lambda: cell.post(_Sweep()))

    def on_stop(self) -> None:
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        for_good = not self._cell.accepting
        members = list(self._members.values())
        for member in members:
            member.cell.close_intake()
            member.cell.post(Stop(StopKind.PASSIVATE))
        deadline = time.monotonic() + self._system.stop_budget(self.spec.shutdown_timeout)
        for member in members:
            if not member.actor.done.wait(max(0.0, deadline - time.monotonic())):
                member.cell.abort = True
                logger.error(
                    "{} did not stop in time; ending it after its current message", member.cell.path
                )
                member.actor.done.wait(2.0)
            if member.actor.thread is not None:
                member.actor.thread.join(1.0)
            self._forget(member.cell, "pool stopped")
        self._members.clear()
        reason = "pool stopped" if for_good else "pool restarting"
        for key, envelopes in self._pending.items():
            for envelope in envelopes:
                self._system.give_up(
                    join_path(self._cell.path, key), envelope, reason, ActorStopped
                )
        self._pending.clear()
        self._waiting.clear()

    # -- control items ---------------------------------------------------------------------

    def _on_control(self, item: object) -> bool:
        if isinstance(item, Route):
            self._route(item.key, item.envelope)
            return False
        if isinstance(item, ChildEnded):
            self._member_ended(item)
            return False
        if isinstance(item, _Sweep):
            self._sweep()
            self._arm_sweep()
            return False
        return super()._on_control(item)

    def _route(self, key: str, envelope: Envelope) -> None:
        routed = self._cell.routed
        with self._cell.lock:
            if routed.get(key, 0) > 1:
                routed[key] -= 1
            else:
                routed.pop(key, None)
        member = self._members.get(key)
        if member is not None and not member.stopping:
            member.cell.mailbox.put(envelope)  # its cell may still be closed: see _open
            self._open(key, member)
            return
        if member is not None or key in self._pending:
            self._pending.setdefault(key, []).append(envelope)
            return
        if len(self._members) < self.spec.max_alive:
            self._spawn(key, [envelope])
            return
        self._pending[key] = [envelope]
        self._waiting.append(key)
        self._evict_one()

    def _spawn(self, key: str, envelopes: list[Envelope]) -> None:
        path = join_path(self._cell.path, key)
        cell = Cell(path, self._cell, poison_after=self.spec.poison_after, key=key)
        for envelope in envelopes:
            cell.mailbox.put(envelope)
        cell.accepting = False  # until the messages for its key still in our mailbox are in
        self._system.register(cell)
        try:
            member = self._launch(cell)
        except Exception:  # noqa: BLE001 - boundary: one key's factory must not stop the pool
            logger.exception("{}: building its actor failed", path)
            self._forget(cell, "actor failed to start")
            return
        self._members[key] = member
        self.peak_alive = max(self.peak_alive, len(self._members))
        self._open(key, member)

    def _open(self, key: str, member: _Member) -> None:
        """Let senders reach ``member`` directly once no message for it waits in our mailbox.

        Until then they come through us (see ``ActorSystem.route``), which keeps each
        sender's messages in the order it sent them.
        """
        with self._cell.lock:
            if key not in self._cell.routed and not member.stopping:
                member.cell.reopen_intake()

    def _launch(self, cell: Cell) -> _Member:
        context = ActorContext(self._system, cell, save=self.spec.save, restore=self.spec.restore)
        actor = self.spec.factory(context)
        cell.incarnation += 1
        actor.incarnation = cell.incarnation
        cell.actor = actor
        cell.pinned = False  # whatever kept the last incarnation busy died with it
        cell.state = LifecycleState.STARTING
        actor._start_actor_loop()  # noqa: SLF001 - pykka's hook for actor implementations
        return _Member(cell, actor)

    def _evict_one(self) -> None:
        """Passivate the least recently active child if waiting keys still lack a slot."""
        stopping = sum(1 for m in self._members.values() if m.stopping)
        if stopping >= len(self._waiting):
            return
        candidates = sorted(
            (m for m in self._members.values() if not m.stopping and not m.cell.pinned),
            key=_Member.last_active,
        )
        # Prefer a member with nothing queued and nothing running: a stop queued behind
        # messages lets the member take them on as work just before it stops. Only when
        # every member is occupied does the least recently active one go anyway, so that
        # waiting keys are never starved.
        for member in candidates:
            if not member.cell.busy and self._passivate_if_idle(member):
                return
        if candidates:
            member = candidates[0]
            member.stopping = True
            member.cell.close_intake()
            member.cell.post(Stop(StopKind.PASSIVATE))

    @staticmethod
    def _passivate_if_idle(member: _Member) -> bool:
        """Stop ``member`` for passivation if its mailbox is empty; say whether it was."""
        if not member.cell.close_intake_if_empty():
            return False
        member.stopping = True
        member.cell.post(Stop(StopKind.PASSIVATE))
        return True

    def _sweep(self) -> None:
        idle_after = self.spec.idle_after
        if idle_after is None:
            return
        cutoff = time.time() - idle_after
        for member in list(self._members.values()):
            cell = member.cell
            if member.stopping or cell.busy or cell.pinned or member.last_active() > cutoff:
                continue
            self._passivate_if_idle(member)
        if self._waiting:
            self._evict_one()  # a member that was pinned at the last try may be free now

    def _member_ended(self, event: ChildEnded) -> None:
        key = event.path.rsplit("/", 1)[-1]
        member = self._members.get(key)
        if member is None or member.cell.incarnation != event.incarnation:
            return
        if event.error is not None and not member.stopping:
            self._restart_or_retire(key, member)
            return
        if member.actor.thread is not None:
            member.actor.thread.join(1.0)
        del self._members[key]
        leftovers = member.cell.drain()  # only after a voluntary stop can anything be left
        self._system.unregister(member.cell)
        member.cell.state = LifecycleState.STOPPED
        # Addresses held elsewhere (a pending timer's, a sender's) keep the old cell: let it
        # forget the ended actor, or every passivated session stays in memory until they go.
        member.cell.actor = None
        if leftovers:
            self._pending[key] = leftovers + self._pending.get(key, [])
        if key in self._pending and key not in self._waiting:
            self._waiting.appendleft(key)
        self._fill_free_slots()

    def _fill_free_slots(self) -> None:
        while self._waiting and len(self._members) < self.spec.max_alive:
            key = self._waiting.popleft()
            envelopes = self._pending.pop(key, None)
            if envelopes:
                self._spawn(key, envelopes)
        if self._waiting:
            self._evict_one()

    def _restart_or_retire(self, key: str, member: _Member) -> None:
        now = time.monotonic()
        member.failures.append(now)
        while member.failures and now - member.failures[0] > self.spec.within_seconds:
            member.failures.popleft()
        if len(member.failures) > self.spec.max_restarts:
            logger.error(
                "{} failed {} times in {:g}s; stopping it",
                member.cell.path,
                len(member.failures),
                self.spec.within_seconds,
            )
            del self._members[key]
            self._forget(member.cell, "actor failed repeatedly")
            self._fill_free_slots()
            return
        member.cell.stats.record_restart()
        try:
            restarted = self._launch(member.cell)
        except Exception:  # noqa: BLE001 - boundary: one key's factory must not stop the pool
            logger.exception("{}: building its actor failed", member.cell.path)
            del self._members[key]
            self._forget(member.cell, "actor failed to start")
            self._fill_free_slots()
            return
        restarted.failures = member.failures
        restarted.spawned_at = member.spawned_at
        self._members[key] = restarted

    def _forget(self, cell: Cell, reason: str) -> None:
        cell.close_intake()
        for envelope in cell.drain():
            self._system.give_up(cell.path, envelope, reason, ActorStopped)
        cell.state = LifecycleState.STOPPED
        self._system.unregister(cell)

    def alive_count(self) -> int:
        return len(self._members)
