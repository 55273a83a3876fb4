"""Fixtures for the runtime's tests: every system they start is shut down and leaves no thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from loguru import logger

from runtime import ActorSystem, AsyncLoop
from tests.runtime.fakes import Journal, LogCapture


def leftover_threads(before: set[threading.Thread]) -> list[str]:
    """Names of the threads alive now that were not alive in ``before``."""
    return sorted(t.name for t in threading.enumerate() if t not in before and t.is_alive())


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = logger.add(capture.sink, level="DEBUG", format="{message}")
    try:
        yield capture
    finally:
        logger.remove(handler)


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    """An unstarted system; shut down after the test, which must leave no thread behind."""
    before = set(threading.enumerate())
    actor_system = ActorSystem(dead_letter_capacity=10_000)
    try:
        yield actor_system
    finally:
        actor_system.shutdown()
    assert leftover_threads(before) == []


@pytest.fixture
def async_loop(system: ActorSystem) -> Iterator[AsyncLoop]:
    """A running shared loop, closed before ``system`` checks for leftover threads."""
    loop = AsyncLoop(name="test-loop")
    loop.start()
    try:
        yield loop
    finally:
        loop.close()
