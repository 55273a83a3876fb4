"""Small fake actors for the runtime's tests: they record what happened, nothing is mocked.

Every fake writes to a shared :class:`Journal` (a thread-safe list of tuples) which tests
read and wait on, so a test synchronises on "the actor did X" instead of on sleeps.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    AsyncLoop,
    ChildSpec,
    DeliveryFailed,
    Message,
    Restart,
    current_correlation_id,
    receive,
)

if TYPE_CHECKING:
    from loguru import Message as LogMessage

Entry = tuple[Any, ...]

# -- messages ----------------------------------------------------------------------------


class Ping(Message, frozen=True, kw_only=True):
    """Answered with the path of the actor that handled it."""


class Note(Message, frozen=True, kw_only=True):
    """A numbered message whose handling is recorded with its origin and correlation id."""

    n: int
    origin: str = "test"


class Secret(Message, frozen=True, kw_only=True):
    """Holds text that must never show up in figures, snapshots or dead letters."""

    text: str


class Crash(Message, frozen=True, kw_only=True):
    """Makes the handler raise :class:`Boom` every time."""

    reason: str = "boom"


class Flaky(Message, frozen=True, kw_only=True):
    """Makes the handler raise on the first ``failures`` attempts, then succeed."""

    failures: int


class Sleep(Message, frozen=True, kw_only=True):
    """Keeps the actor busy for ``seconds``."""

    seconds: float


class Wait(Message, frozen=True, kw_only=True):
    """Blocks the actor until its gate opens (so that messages pile up behind it)."""


class StopNow(Message, frozen=True, kw_only=True):
    """Makes the actor stop itself (a voluntary, non-failing exit)."""


class Unknown(Message, frozen=True, kw_only=True):
    """No fake has a handler for this."""


class WhoAmI(Message, frozen=True, kw_only=True):
    """Answered with (path, correlation id seen by the handler)."""


class Left(Message, frozen=True, kw_only=True):
    text: str


class Right(Message, frozen=True, kw_only=True):
    number: int


class Forward(Message, frozen=True, kw_only=True):
    """Asks a relay to tell ``Note(n)`` (or a ``Crash`` or an ``Unknown``) to a peer."""

    to: str
    n: int = 0
    kind: str = "note"


class Increment(Message, frozen=True, kw_only=True):
    by: int = 1


class Hold(Message, frozen=True, kw_only=True):
    """Mark the pool member busy (work in flight) or free again."""

    busy: bool


class GetCount(Message, frozen=True, kw_only=True):
    """Answered with the counter's value."""


class RunCoroutine(Message, frozen=True, kw_only=True):
    """Asks a piper to hand a coroutine to the async loop and pipe its outcome back."""

    value: str
    fail: bool = False
    delay: float = 0.0


class Piped(Message, frozen=True, kw_only=True):
    value: str


class PipeFailed(Message, frozen=True, kw_only=True):
    error: str


class Boom(Exception):
    """What the fakes raise when told to fail."""


# -- the journal -------------------------------------------------------------------------


class Journal:
    """A thread-safe record of what the fakes did, which tests can wait on."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._cond = threading.Condition()

    def record(self, *entry: Any) -> None:
        with self._cond:
            self._entries.append(entry)
            self._cond.notify_all()

    @property
    def entries(self) -> list[Entry]:
        with self._cond:
            return list(self._entries)

    def of(self, kind: str, path: str | None = None) -> list[Entry]:
        """Entries of one kind (their first item), optionally for one path (the second)."""
        return [e for e in self.entries if e[0] == kind and (path is None or e[1] == path)]

    def paths(self, kind: str) -> list[str]:
        return [str(e[1]) for e in self.of(kind)]

    def count(self, kind: str, path: str | None = None) -> int:
        return len(self.of(kind, path))

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate`` holds; fail the test if it does not within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting; journal: {self._entries[-30:]}")
                self._cond.wait(min(left, 0.05))

    def wait_count(
        self, kind: str, count: int, path: str | None = None, timeout: float = 10.0
    ) -> None:
        self.wait_for(lambda: self.count(kind, path) >= count, timeout)


def eventually(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` (for state no fake records, such as snapshot figures)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.005)


class LogCapture:
    """A loguru sink keeping ``LEVEL message`` lines."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._cond = threading.Condition()

    def sink(self, message: LogMessage) -> None:
        record = message.record
        with self._cond:
            self._lines.append(f"{record['level'].name} {record['message']}")
            self._cond.notify_all()

    @property
    def lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def matching(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self._lines if text in line]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no log line with {text!r}; got {self._lines[-20:]}")
                self._cond.wait(min(left, 0.05))


# -- actors ------------------------------------------------------------------------------


class Recorder(Actor):
    """The all-purpose fake: records its lifecycle and every message it handles.

    Args:
        context: given by the supervisor.
        journal: where to record.
        gate: what ``Wait`` blocks on.
        start_fails: while set, ``on_start`` raises (so restarts fail too).
        fail_on_start: ``on_start`` always raises.
        stop_delay: how long ``on_stop`` takes.
        stop_error: ``on_stop`` raises after recording.
    """

    def __init__(
        self,
        context: ActorContext,
        journal: Journal,
        *,
        gate: threading.Event | None = None,
        start_fails: threading.Event | None = None,
        fail_on_start: bool = False,
        stop_delay: float = 0.0,
        stop_error: bool = False,
    ) -> None:
        super().__init__(context)
        self.journal = journal
        self.gate = gate or threading.Event()
        self.start_fails = start_fails
        self.fail_on_start = fail_on_start
        self.stop_delay = stop_delay
        self.stop_error = stop_error

    @property
    def path(self) -> str:
        return self.context.path

    def on_start(self) -> None:
        self.journal.record("start", self.path, time.monotonic())
        if self.fail_on_start or (self.start_fails is not None and self.start_fails.is_set()):
            raise Boom(f"{self.path} cannot start")

    def on_stop(self) -> None:
        self.journal.record("stop", self.path, time.monotonic())
        time.sleep(self.stop_delay)
        if self.stop_error:
            raise Boom(f"{self.path} failed in on_stop")

    @receive
    def on_ping(self, message: Ping) -> str:
        self.journal.record("ping", self.path)
        return self.path

    @receive
    def on_note(self, message: Note) -> int:
        self.journal.record("note", self.path, message.origin, message.n, current_correlation_id())
        return message.n

    @receive
    def on_secret(self, message: Secret) -> None:
        self.journal.record("secret", self.path)

    @receive
    def on_crash(self, message: Crash) -> None:
        self.journal.record("crash", self.path, time.monotonic(), current_correlation_id())
        raise Boom(message.reason)

    @receive
    def on_flaky(self, message: Flaky) -> int:
        cid = current_correlation_id()
        attempt = 1 + sum(1 for e in self.journal.of("flaky", self.path) if e[2] == cid)
        self.journal.record("flaky", self.path, cid, attempt)
        if attempt <= message.failures:
            raise Boom(f"attempt {attempt}")
        self.journal.record("flaky_ok", self.path, cid)
        return attempt

    @receive
    def on_sleep(self, message: Sleep) -> float:
        time.sleep(message.seconds)
        self.journal.record("slept", self.path)
        return message.seconds

    @receive
    def on_wait(self, message: Wait) -> None:
        self.journal.record("waiting", self.path)
        self.gate.wait(10.0)

    @receive
    def on_stop_now(self, message: StopNow) -> None:
        self.journal.record("stopping", self.path, current_correlation_id())
        self.stop()

    @receive
    def on_who_am_i(self, message: WhoAmI) -> tuple[str, str | None]:
        return (self.path, current_correlation_id())

    @receive
    def on_either(self, message: Left | Right) -> str:
        return type(message).__name__

    @receive
    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        self.journal.record("delivery_failed", self.path, message)


class Relay(Recorder):
    """Tells peers what ``Forward`` asks for, so that the sender is an actor."""

    def __init__(self, context: ActorContext, journal: Journal, peers: dict[str, Address]) -> None:
        super().__init__(context, journal)
        self.peers = peers

    @receive
    def on_forward(self, message: Forward) -> None:
        peer = self.peers[message.to]
        self.journal.record("forwarded", self.path, message.to, message.n, current_correlation_id())
        if message.kind == "crash":
            peer.tell(Crash())
        elif message.kind == "unknown":
            peer.tell(Unknown())
        else:
            peer.tell(Note(n=message.n, origin=self.path))


class Counter(Actor):
    """A keyed-pool member whose count survives passivation through save and restore."""

    def __init__(
        self, context: ActorContext, journal: Journal, *, gate: threading.Event | None = None
    ) -> None:
        super().__init__(context)
        self.journal = journal
        self.gate = gate or threading.Event()
        self.count = 0

    def on_start(self) -> None:
        self.journal.record("start", self.context.key, threading.active_count())

    def on_stop(self) -> None:
        self.journal.record("stop", self.context.key)

    def on_passivate(self) -> int:
        self.journal.record("passivate", self.context.key, self.count)
        return self.count

    def on_restore(self, state: Any) -> None:
        self.journal.record("restore", self.context.key, state)
        if state is not None:
            self.count = int(state)

    @receive
    def on_increment(self, message: Increment) -> int:
        self.count += message.by
        self.journal.record("increment", self.context.key, self.count)
        return self.count

    @receive
    def on_get_count(self, message: GetCount) -> int:
        return self.count

    @receive
    def on_hold(self, message: Hold) -> None:
        self.context.set_busy(message.busy)

    @receive
    def on_note(self, message: Note) -> None:
        self.journal.record("note", self.context.key, message.origin, message.n)

    @receive
    def on_crash(self, message: Crash) -> None:
        self.journal.record("crash", self.context.key)
        raise Boom(message.reason)

    @receive
    def on_wait(self, message: Wait) -> None:
        self.journal.record("waiting", self.context.key)
        self.gate.wait(10.0)


class StateStore:
    """The save/restore hooks of a keyed pool, backed by a dict."""

    def __init__(self) -> None:
        self._states: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.saves = 0

    def save(self, key: str, state: Any) -> None:
        with self._lock:
            self._states[key] = state
            self.saves += 1

    def restore(self, key: str) -> Any:
        with self._lock:
            return self._states.get(key)

    def get(self, key: str) -> Any:
        return self.restore(key)


class Piper(Actor):
    """Hands coroutines to the shared loop and records the outcome piped back to it."""

    def __init__(self, context: ActorContext, journal: Journal, loop: AsyncLoop) -> None:
        super().__init__(context)
        self.journal = journal
        self.loop = loop

    @receive
    def on_run(self, message: RunCoroutine) -> None:
        self.loop.pipe(
            self._work(message),
            to=self.context.address,
            on_success=lambda value: Piped(value=value),
            on_failure=lambda error: PipeFailed(error=f"{type(error).__name__}: {error}"),
        )

    async def _work(self, message: RunCoroutine) -> str:
        self.journal.record("coroutine", message.value, current_correlation_id())
        await asyncio.sleep(message.delay)
        if message.fail:
            raise Boom(message.value)
        return message.value

    @receive
    def on_piped(self, message: Piped) -> None:
        self.journal.record("piped", message.value, current_correlation_id())

    @receive
    def on_pipe_failed(self, message: PipeFailed) -> None:
        self.journal.record("pipe_failed", message.error, current_correlation_id())


# -- child specs -------------------------------------------------------------------------


def recorder(
    name: str,
    journal: Journal,
    *,
    restart: Restart = Restart.PERMANENT,
    shutdown_timeout: float = 5.0,
    poison_after: int = 3,
    gate: threading.Event | None = None,
    start_fails: threading.Event | None = None,
    fail_on_start: bool = False,
    stop_delay: float = 0.0,
    stop_error: bool = False,
) -> ChildSpec:
    """A child spec for a :class:`Recorder`."""
    return ChildSpec(
        name=name,
        factory=partial(
            Recorder,
            journal=journal,
            gate=gate,
            start_fails=start_fails,
            fail_on_start=fail_on_start,
            stop_delay=stop_delay,
            stop_error=stop_error,
        ),
        restart=restart,
        shutdown_timeout=shutdown_timeout,
        poison_after=poison_after,
    )


def relay(name: str, journal: Journal, system: ActorSystem, peers: tuple[str, ...]) -> ChildSpec:
    """A child spec for a :class:`Relay` reaching ``peers`` (paths) by their last segment."""
    addresses = {path.rsplit("/", 1)[-1]: system.address(path) for path in peers}
    return ChildSpec(name=name, factory=partial(Relay, journal=journal, peers=addresses))


def restarts(system: ActorSystem, path: str) -> int:
    node = system.snapshot().find(path)
    assert node is not None, f"{path} is not in the tree"
    return node.restarts


def state(system: ActorSystem, path: str) -> str:
    node = system.snapshot().find(path)
    assert node is not None, f"{path} is not in the tree"
    return node.state
