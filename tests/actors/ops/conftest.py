"""A small real actor system shaped like the bot's tree, with fake storage and gateway.

``/storage`` answers :class:`GetLlmStats` with canned figures, ``/sessions`` is a real keyed
pool of tiny chat actors, ``/io/gateway`` answers :class:`CountTraffic`. Every system is
shut down after its test, which must leave no thread behind.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from loguru import logger

from actors.storage import GetLlmStats
from actors.telegram.gateway import CountTraffic, Traffic
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    ChildSpec,
    Message,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
    supervisor,
)
from storage import LlmRequestStats, ProviderStats
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import LogCapture, eventually

TOTALS = LlmRequestStats(
    since=0.0,
    ok=5,
    failed=1,
    tokens_in=120,
    tokens_out=340,
    providers=(
        ProviderStats(
            provider="deepseek", ok=4, failed=1, latency_p50_ms=800.0, latency_p95_ms=2500.0
        ),
        ProviderStats(
            provider="gemini", ok=1, failed=0, latency_p50_ms=1200.0, latency_p95_ms=1200.0
        ),
    ),
)
RECENT = LlmRequestStats(
    since=1.0,
    ok=2,
    failed=0,
    tokens_in=20,
    tokens_out=40,
    providers=(
        ProviderStats(
            provider="deepseek", ok=2, failed=0, latency_p50_ms=500.0, latency_p95_ms=1500.0
        ),
    ),
)
TRAFFIC = Traffic(updates_received=7, sent=11, dropped=1)


class Hello(Message, frozen=True, kw_only=True):
    """For a chat actor: handled and forgotten."""


class Chat(Actor):
    @receive
    def hello(self, _message: Hello) -> None:
        pass


class FakeStorage(Actor):
    """Answers GetLlmStats: all-time figures for ``since=0``, recent ones otherwise."""

    def __init__(self, context: ActorContext, *, delay: float = 0.0) -> None:
        super().__init__(context)
        self._delay = delay

    @receive
    def llm_stats(self, message: GetLlmStats) -> LlmRequestStats:
        time.sleep(self._delay)
        return TOTALS if message.since == 0.0 else RECENT


class FakeGateway(Actor):
    @receive
    def count_traffic(self, _message: CountTraffic) -> Traffic:
        return TRAFFIC


@dataclass(frozen=True, kw_only=True)
class Bot:
    """The running fake bot's addresses."""

    system: ActorSystem
    storage: Address
    sessions: Address
    gateway: Address

    def chat(self, *chat_ids: int) -> None:
        """Make the sessions of ``chat_ids`` handle one message each, and wait for it."""
        paths = [f"/sessions/{chat_id}" for chat_id in chat_ids]
        before = {path: _processed(self.system, path) for path in paths}
        for path in paths:
            self.system.address(path).tell(Hello())
        for path in paths:

            def handled(path: str = path) -> bool:
                return _processed(self.system, path) > before[path]

            eventually(handled, what=f"{path} handled")


def _processed(system: ActorSystem, path: str) -> int:
    node = system.snapshot().find(path)
    return 0 if node is None else node.processed


def bot_spec(*, storage_delay: float = 0.0, with_gateway: bool = True) -> SupervisorSpec:
    io_children = (ChildSpec(name="gateway", factory=FakeGateway),) if with_gateway else ()
    return SupervisorSpec(
        children=(
            ChildSpec(name="storage", factory=functools.partial(FakeStorage, delay=storage_delay)),
            pool("sessions", PoolSpec(factory=Chat, idle_after=None)),
            supervisor("io", SupervisorSpec(children=io_children)),
        )
    )


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    """An unstarted system; shut down after the test, which must leave no thread behind."""
    before = set(threading.enumerate())
    actor_system = ActorSystem()
    try:
        yield actor_system
    finally:
        actor_system.shutdown()
    assert leftover_threads(before) == []


@pytest.fixture
def bot(system: ActorSystem) -> Bot:
    system.start(bot_spec())
    return Bot(
        system=system,
        storage=system.address("/storage"),
        sessions=system.address("/sessions"),
        gateway=system.address("/io/gateway"),
    )


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = logger.add(capture.sink, level="DEBUG", format="{message}")
    try:
        yield capture
    finally:
        logger.remove(handler)


def free_port() -> int:
    """A port nothing listens on right now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
