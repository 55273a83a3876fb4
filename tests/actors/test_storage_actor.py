"""The storage actor rides out a locked database instead of failing (and restarting)."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.storage import (
    ClaimPendingUpdates,
    GetUser,
    MarkUpdatesDone,
    PruneInbox,
    RecordUpdates,
    RegisterUser,
    StorageActor,
)
from runtime import ActorSystem, ChildSpec, SupervisorSpec
from storage import InboxUpdate, IncomingUpdate, User, UserUpsert


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    with ActorSystem() as running:
        yield running


def test_a_write_waits_out_a_lock_longer_than_the_busy_timeout_and_nothing_restarts(
    system: ActorSystem, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(
                    name="storage",
                    factory=functools.partial(StorageActor, path=path, busy_timeout=0.2),
                ),
            )
        )
    )
    storage = system.address("/storage")
    locker = sqlite3.connect(path, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.5, locker.commit)
    release.start()
    started = time.monotonic()
    try:
        result: UserUpsert = storage.ask(
            RegisterUser(user_id=7, first_name="Ada", username=None), timeout=20
        )
    finally:
        release.join()
        locker.close()
    assert time.monotonic() - started >= 1.0
    assert result.created
    user: User | None = storage.ask(GetUser(user_id=7), timeout=5)
    assert user is not None
    assert user.first_name == "Ada"
    snapshot = system.snapshot().find("/storage")
    assert snapshot is not None
    assert snapshot.restarts == 0
    assert snapshot.failures == 0


def test_the_inbox_records_claims_and_marks_updates_through_the_actor(
    system: ActorSystem, tmp_path: Path
) -> None:
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(
                    name="storage",
                    factory=functools.partial(StorageActor, path=tmp_path / "bot.sqlite3"),
                ),
            )
        )
    )
    storage = system.address("/storage")
    batch = tuple(
        IncomingUpdate(update_id=n, chat_id=7, payload=f'{{"update_id": {n}}}') for n in (1, 2)
    )

    assert storage.ask(RecordUpdates(updates=batch, run_id="old"), timeout=5) == (1, 2)
    assert storage.ask(RecordUpdates(updates=batch[1:], run_id="old"), timeout=5) == ()
    storage.tell(MarkUpdatesDone(update_ids=(1,)))
    claimed: tuple[InboxUpdate, ...] = storage.ask(ClaimPendingUpdates(run_id="new"), timeout=5)
    assert [(u.update_id, u.run_id) for u in claimed] == [(2, "new")]
    assert storage.ask(PruneInbox(older_than=time.time() + 60), timeout=5) == 1, "the done one"
