"""Supervisors: start children in order, restart them by strategy, escalate past intensity.

Semantics follow Erlang/OTP: a child's restart type says whether it is restarted at all
(permanent: always; transient: only after a failure; temporary: never), the strategy
says which siblings restart with it, and more than ``max_restarts`` restarts within
``within_seconds`` makes the supervisor stop its children and fail itself, so that its
own supervisor decides. Siblings restarted with a failed child first handle what is
already in their mailboxes (unlike OTP's brutal kill), so nothing queued is lost.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loguru import logger

from runtime._actor import Actor, ActorContext
from runtime._cell import Cell, ChildEnded, LifecycleState, Stop, StopKind
from runtime._exceptions import ActorStopped, ChildStartFailed, Escalated

if TYPE_CHECKING:
    from runtime._system import ActorSystem


class Restart(enum.StrEnum):
    """When a child is restarted after it ends."""

    PERMANENT = "permanent"  # always
    TRANSIENT = "transient"  # only if it failed
    TEMPORARY = "temporary"  # never


class Strategy(enum.StrEnum):
    """Which children restart when one fails."""

    ONE_FOR_ONE = "one_for_one"  # only the failed child
    ONE_FOR_ALL = "one_for_all"  # every child
    REST_FOR_ONE = "rest_for_one"  # the failed child and those started after it


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Exponential delay before a restart: ``initial * factor ** (n - 1)``, capped.

    ``n`` is the number of restarts inside the current intensity window, so a child that
    has been calm for ``within_seconds`` restarts at once again.
    """

    initial: float = 0.05
    maximum: float = 5.0
    factor: float = 2.0

    def delay(self, restarts_in_window: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, restarts_in_window - 1))


@dataclass(frozen=True, kw_only=True)
class ChildSpec:
    """How to start one child and what to do when it ends.

    ``factory`` builds the actor from its context (``functools.partial(MyActor, dep=...)``
    is the usual form); ``poison_after`` is how many times one message may fail the actor
    before it is dead-lettered instead of retried.
    """

    name: str
    factory: Callable[[ActorContext], Actor]
    restart: Restart = Restart.PERMANENT
    shutdown_timeout: float = 5.0
    start_timeout: float = 10.0
    poison_after: int = 3


@dataclass(frozen=True, kw_only=True)
class SupervisorSpec:
    """A supervisor's children (started in this order) and its restart policy."""

    children: tuple[ChildSpec, ...] = ()
    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 3
    within_seconds: float = 5.0
    backoff: Backoff | None = None

    def __post_init__(self) -> None:
        # Each name is one segment of its child's path: two children with the same name
        # would share one cell (and mailbox), and an empty name would be the parent's path.
        names = [child.name for child in self.children]
        for name in names:
            if not name or "/" in name:
                raise ValueError(f"child name {name!r} must be a non-empty path segment")
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique, got {names}")


def supervisor(
    name: str,
    spec: SupervisorSpec,
    *,
    restart: Restart = Restart.PERMANENT,
    shutdown_timeout: float = 60.0,
    start_timeout: float | None = None,
) -> ChildSpec:
    """A child spec for a nested supervisor.

    It may take as long to start as its children together (plus a margin), since it
    starts them one after the other, unless ``start_timeout`` says otherwise.
    """
    if start_timeout is None:
        start_timeout = sum(child.start_timeout for child in spec.children) + 5.0
    return ChildSpec(
        name=name,
        factory=lambda context: Supervisor(context, spec),
        restart=restart,
        shutdown_timeout=shutdown_timeout,
        start_timeout=start_timeout,
    )


class RestartDue:
    """Control item: a back-off delay is over, restart these children now."""

    __slots__ = ("generation", "paths")

    def __init__(self, paths: tuple[str, ...], generation: int) -> None:
        self.paths = paths
        self.generation = generation


@dataclass(kw_only=True)
class _Child:
    spec: ChildSpec
    cell: Cell
    actor: Actor | None = None
    stopped_incarnation: int = -1
    generation: int = 0
    removed: bool = False


def join_path(parent: str, name: str) -> str:
    return f"/{name}" if parent == "/" else f"{parent}/{name}"


def wait_booted(actor: Actor, timeout: float) -> bool:
    """Wait until ``actor`` finished ``on_start``: True if it is running."""
    deadline = time.monotonic() + timeout
    while not actor.ready.wait(0.002):
        if actor.done.is_set() or time.monotonic() > deadline:
            return actor.ready.is_set()
    return True


def stop_actor(system: ActorSystem, cell: Cell, actor: Actor | None, timeout: float) -> None:
    """Ask ``actor`` to end after what is queued before the request, and wait for it."""
    if actor is None or actor.done.is_set():
        if actor is not None and actor.thread is not None:
            actor.thread.join(1.0)
        return
    timeout = system.stop_budget(timeout)
    cell.post(Stop(StopKind.STOP))
    if not actor.done.wait(timeout):
        # Out of time: end it after its current message (an idle actor just takes the
        # stop request), and say so only if that cut anything short.
        cell.abort = True
        if not actor.done.wait(2.0):
            logger.error("{} is stuck in a handler; its thread is left behind", cell.path)
            return
        left = cell.depth()
        if timeout > 0 or left:  # an exhausted shutdown deadline alone is not news
            logger.warning(
                "{} did not stop within {:g}s; ended after its current message"
                " ({} message(s) left unhandled)",
                cell.path,
                timeout,
                left,
            )
    if actor.thread is not None:
        actor.thread.join(1.0)


def retire(system: ActorSystem, cell: Cell, reason: str) -> None:
    """Close ``cell`` for good: refuse new messages, dead-letter what is left."""
    cell.close_intake()
    cell.state = LifecycleState.STOPPED
    for envelope in cell.drain():
        system.give_up(cell.path, envelope, reason, ActorStopped)


class Supervisor(Actor):
    """An actor whose job is its children; see the module docstring for semantics."""

    def __init__(self, context: ActorContext, spec: SupervisorSpec) -> None:
        super().__init__(context)
        self.spec = spec
        self._system = context._system  # noqa: SLF001 - the runtime's own context
        self._children: list[_Child] = []
        self._restarts: deque[float] = deque()

    # -- start and stop --------------------------------------------------------------------

    def on_start(self) -> None:
        self._cell.role = "supervisor"
        for child_spec in self.spec.children:
            cell = self._system.cell_for(
                join_path(self._cell.path, child_spec.name),
                self._cell,
                poison_after=child_spec.poison_after,
            )
            child = _Child(spec=child_spec, cell=cell)
            self._children.append(child)
            if not self._launch(child):
                failure = cell.stats.last_failure
                detail = f"{failure.type}: {failure.message}" if failure else "timed out"
                msg = f"{cell.path} failed to start ({detail})"
                raise ChildStartFailed(msg)

    def on_stop(self) -> None:
        # Stopped for good (intake closed by our parent) or failed/restarting: in the
        # second case the children's cells stay open so their mailboxes wait for the
        # next incarnation of this supervisor.
        for_good = not self._cell.accepting
        for child in reversed(self._children):
            if not child.removed:
                self._stop_child(child, for_good=for_good)

    def _launch(self, child: _Child) -> bool:
        cell = child.cell
        context = ActorContext(self._system, cell)
        actor = child.spec.factory(context)
        cell.incarnation += 1
        actor.incarnation = cell.incarnation
        cell.actor = actor
        child.actor = actor
        cell.abort = False
        cell.state = LifecycleState.STARTING
        cell.reopen_intake()
        actor._start_actor_loop()  # noqa: SLF001 - pykka's hook for actor implementations
        return wait_booted(actor, child.spec.start_timeout)

    def _stop_child(self, child: _Child, *, for_good: bool) -> None:
        child.stopped_incarnation = child.cell.incarnation
        if for_good:
            child.cell.close_intake()
        stop_actor(self._system, child.cell, child.actor, child.spec.shutdown_timeout)
        if for_good:
            retire(self._system, child.cell, "actor stopped")
        else:
            child.cell.state = LifecycleState.RESTARTING

    # -- reacting to children ----------------------------------------------------------------

    def _on_control(self, item: object) -> bool:
        if isinstance(item, ChildEnded):
            self._child_ended(item)
            return False
        if isinstance(item, RestartDue):
            self._restart_due(item)
            return False
        return super()._on_control(item)

    def _find(self, path: str) -> _Child | None:
        for child in self._children:
            if child.cell.path == path:
                return child
        return None

    def _child_ended(self, event: ChildEnded) -> None:
        child = self._find(event.path)
        if (
            child is None
            or child.removed
            or event.incarnation != child.cell.incarnation
            or event.incarnation == child.stopped_incarnation
        ):
            return  # stale, or an exit we asked for ourselves
        restart = child.spec.restart
        if event.error is None and restart is not Restart.PERMANENT:
            self._remove(child, "actor stopped")
            return
        if event.error is not None and restart is Restart.TEMPORARY:
            self._remove(child, "temporary actor failed")
            return
        self._on_restartable_exit(child, event.error)

    def _remove(self, child: _Child, reason: str) -> None:
        child.removed = True
        retire(self._system, child.cell, reason)
        # A removed supervisor left its children's cells open for a restart that will not
        # come: close them too, so what is sent to them is dead-lettered, not kept forever.
        for cell in self._system.cells_under(child.cell.path):
            retire(self._system, cell, reason)

    def _on_restartable_exit(self, child: _Child, error: BaseException | None) -> None:
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > self.spec.within_seconds:
            self._restarts.popleft()
        if len(self._restarts) > self.spec.max_restarts:
            why = f"{type(error).__name__}: {error}" if error else "stopped"
            self._escalate(
                f"{self._cell.path}: more than {self.spec.max_restarts} restarts in "
                f"{self.spec.within_seconds:g}s (last: {child.cell.path}, {why})"
            )
        victims = self._victims(child)
        for sibling in reversed(victims):
            if sibling is not child:
                self._stop_child(sibling, for_good=False)
        for victim in victims:
            victim.cell.state = LifecycleState.RESTARTING
            victim.generation += 1
        delay = self.spec.backoff.delay(len(self._restarts)) if self.spec.backoff else 0.0
        if delay <= 0:
            self._restart(victims)
            return
        logger.info("restarting {} in {:.3f}s", [v.cell.path for v in victims], delay)
        due = RestartDue(tuple(v.cell.path for v in victims), child.generation)
        self._system.timers.call_later(delay, lambda: self._cell.post(due))

    def _victims(self, child: _Child) -> list[_Child]:
        live = [c for c in self._children if not c.removed]
        if self.spec.strategy is Strategy.ONE_FOR_ALL:
            return live
        if self.spec.strategy is Strategy.REST_FOR_ONE:
            return live[live.index(child) :]
        return [child]

    def _restart_due(self, due: RestartDue) -> None:
        victims = [c for c in (self._find(p) for p in due.paths) if c and not c.removed]
        if victims and victims[0].generation == due.generation:
            self._restart(victims)

    def _restart(self, victims: list[_Child]) -> None:
        for victim in victims:
            victim.cell.stats.record_restart()
            logger.info("restarting {}", victim.cell.path)
            self._launch(victim)  # a failure to start arrives as ChildEnded and is counted

    def _escalate(self, reason: str) -> None:
        logger.error("escalating: {}", reason)
        for child in reversed(self._children):
            if not child.removed:
                self._stop_child(child, for_good=False)
        raise Escalated(reason)
