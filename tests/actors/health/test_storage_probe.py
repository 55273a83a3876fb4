"""The storage probe: a heartbeat written and read back, and a locked database reported."""

from __future__ import annotations

import functools
import queue
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.storage import ProbeStorage, StorageActor, StorageProbed
from runtime import Actor, ActorContext, ActorSystem, ChildSpec, SupervisorSpec, receive


class Receiver(Actor):
    """Hands every StorageProbed to the test."""

    def __init__(self, context: ActorContext, *, answers: queue.SimpleQueue[StorageProbed]) -> None:
        super().__init__(context)
        self._answers = answers

    @receive
    def probed(self, message: StorageProbed) -> None:
        self._answers.put(message)


@pytest.fixture
def answers() -> queue.SimpleQueue[StorageProbed]:
    return queue.SimpleQueue()


@pytest.fixture
def system(tmp_path: Path, answers: queue.SimpleQueue[StorageProbed]) -> Iterator[ActorSystem]:
    with ActorSystem() as running:
        running.start(
            SupervisorSpec(
                children=(
                    ChildSpec(
                        name="storage",
                        factory=functools.partial(
                            StorageActor, path=tmp_path / "bot.sqlite3", busy_timeout=0.2
                        ),
                    ),
                    ChildSpec(
                        name="receiver", factory=functools.partial(Receiver, answers=answers)
                    ),
                )
            )
        )
        yield running


def probe(system: ActorSystem, answers: queue.SimpleQueue[StorageProbed]) -> StorageProbed:
    system.address("/storage").tell(
        ProbeStorage(probe_id="p1", reply_to=system.address("/receiver"))
    )
    return answers.get(timeout=10)


def test_a_probe_writes_a_heartbeat_and_reads_it_back(
    system: ActorSystem, answers: queue.SimpleQueue[StorageProbed]
) -> None:
    answer = probe(system, answers)

    assert (answer.probe_id, answer.ok) == ("p1", True)
    assert answer.detail == "wrote and read back a heartbeat"


def test_a_locked_database_is_reported_at_once_and_storage_is_not_restarted(
    system: ActorSystem, answers: queue.SimpleQueue[StorageProbed], tmp_path: Path
) -> None:
    locker = sqlite3.connect(tmp_path / "bot.sqlite3")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        answer = probe(system, answers)
    finally:
        locker.rollback()
        locker.close()

    assert not answer.ok
    assert answer.detail.startswith("StorageUnavailable: ")
    node = system.snapshot().find("/storage")
    assert node is not None
    assert (node.failures, node.restarts) == (0, 0)
    assert probe(system, answers).ok  # and it works again once the lock is gone
