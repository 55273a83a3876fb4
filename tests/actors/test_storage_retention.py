"""The retention job: the storage actor forgets old LLM request rows and old files."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.scheduler.messages import JobDue
from actors.storage import (
    RETENTION_TOPIC,
    GetLlmStats,
    Purged,
    PurgeOld,
    RecordLlmRequest,
    RecordUpdates,
    StorageActor,
)
from runtime import ActorSystem, Address, ChildSpec, SupervisorSpec
from storage import IncomingUpdate, LlmRequestStats, Store

DAY = 86_400.0


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Address]:
    with ActorSystem() as system:
        system.start(
            SupervisorSpec(
                children=(
                    ChildSpec(
                        name="storage",
                        factory=functools.partial(
                            StorageActor,
                            path=tmp_path / "bot.sqlite3",
                            retention_days=90,
                            files_dir=tmp_path / "files",
                        ),
                    ),
                )
            )
        )
        yield system.address("/storage")


def record(storage: Address) -> None:
    storage.tell(
        RecordLlmRequest(
            chat_id=1,
            user_id=1,
            provider="deepseek",
            model="deepseek-chat",
            tokens_in=1,
            tokens_out=1,
            latency_ms=10,
            status="ok",
        )
    )


def old_file(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    when = time.time() - age_days * DAY
    os.utime(path, (when, when))
    return path


def requests_logged(storage: Address) -> int:
    stats: LlmRequestStats = storage.ask(GetLlmStats(since=0), timeout=5)
    return stats.ok + stats.failed


def test_purge_old_deletes_rows_and_files_before_the_cutoff(
    storage: Address, tmp_path: Path
) -> None:
    record(storage)
    record(storage)
    stale = old_file(tmp_path / "files" / "1" / "a.pdf", age_days=10)

    purged: Purged = storage.ask(PurgeOld(before=time.time() + 1), timeout=5)

    assert (purged.requests, purged.files, purged.files_failed) == (2, 1, 0)
    assert requests_logged(storage) == 0
    assert not stale.exists()


def test_the_retention_job_keeps_what_is_younger_than_retention_days(
    storage: Address, tmp_path: Path
) -> None:
    record(storage)
    young = old_file(tmp_path / "files" / "1" / "young.pdf", age_days=89)
    stale = old_file(tmp_path / "files" / "1" / "stale.pdf", age_days=91)

    purged: Purged = storage.ask(
        JobDue(job_id="retention", topic=RETENTION_TOPIC, payload="", scheduled_for=time.time()),
        timeout=5,
    )

    assert (purged.requests, purged.files) == (0, 1)
    assert requests_logged(storage) == 1
    assert young.exists()
    assert not stale.exists()


def test_a_job_with_another_topic_deletes_nothing(storage: Address) -> None:
    record(storage)

    reply = storage.ask(
        JobDue(job_id="x", topic="something-else", payload="", scheduled_for=time.time()),
        timeout=5,
    )

    assert reply is None
    assert requests_logged(storage) == 1


def test_answered_inbox_rows_are_kept_two_days_whatever_the_cutoff(storage: Address) -> None:
    updates = tuple(IncomingUpdate(update_id=n, chat_id=1, payload="{}", done=True) for n in (1, 2))
    storage.ask(RecordUpdates(updates=updates, run_id="run"), timeout=5)

    purged: Purged = storage.ask(PurgeOld(before=time.time() + 1), timeout=5)

    assert purged.inbox == 0  # Telegram may deliver an update again for 24 hours


def test_usage_ledger_rows_are_kept_62_days_whatever_the_cutoff(
    storage: Address, tmp_path: Path
) -> None:
    for request_id, age_days in (("old", 63.0), ("this-month", 20.0)):
        clock = functools.partial(lambda age: time.time() - age * DAY, age_days)
        with Store.open(tmp_path / "bot.sqlite3", clock=clock) as store:
            store.settle_usage(
                request_id=request_id,
                user_id=1,
                tier="free",
                provider="deepseek",
                model="deepseek-chat",
                tokens_in=1,
                tokens_out=1,
                cost=0.0,
            )

    purged: Purged = storage.ask(PurgeOld(before=time.time() + 1), timeout=5)

    assert purged.usage == 1  # monthly budgets must still see the whole month
