from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from storage import (
    ConstraintViolation,
    RecordNotFound,
    StorageDamaged,
    StorageError,
    StorageUnavailable,
    Store,
    StoreClosed,
)


def test_open_creates_the_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bot.db"

    Store.open(path).close()

    assert path.is_file()


def test_the_file_uses_write_ahead_logging(store: Store) -> None:
    with closing(sqlite3.connect(store.path)) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()

    assert mode == "wal"


def test_the_connection_enforces_foreign_keys_and_waits_for_locks(db_path: Path) -> None:
    with Store.open(db_path, busy_timeout=2.5) as store:
        db = store._require_open("inspect pragmas")
        pragmas = {
            name: db.conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("foreign_keys", "busy_timeout", "synchronous")
        }

    assert pragmas == {"foreign_keys": 1, "busy_timeout": 2500, "synchronous": 1}  # 1 = NORMAL


def test_leaving_the_with_block_closes_the_store(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert not store.closed

    assert store.closed
    assert repr(store).endswith("bot.db closed>")


def test_closing_twice_is_harmless(db_path: Path) -> None:
    store = Store.open(db_path)

    store.close()
    store.close()

    assert store.closed


def test_using_a_closed_store_raises_store_closed_naming_the_file(db_path: Path) -> None:
    store = Store.open(db_path)
    store.close()

    with pytest.raises(StoreClosed, match=r"get user 1: the store for .* is closed") as caught:
        store.get_user(1)

    assert caught.value.path == db_path


def test_a_read_only_file_is_refused_at_open_naming_the_path(
    db_path: Path, make_read_only: Callable[[Path], None]
) -> None:
    Store.open(db_path).close()
    make_read_only(db_path)

    with pytest.raises(StorageUnavailable, match="read-only") as caught:
        Store.open(db_path)

    assert str(db_path) in str(caught.value)
    assert caught.value.path == db_path


def test_a_file_that_is_not_a_database_is_damaged_not_merely_unavailable(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"certainly not sqlite" * 100)

    with pytest.raises(StorageDamaged, match="not a SQLite database"):
        Store.open(db_path)


def test_a_path_whose_parent_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    with pytest.raises(StorageUnavailable, match="cannot create the directory"):
        Store.open(tmp_path / "file" / "bot.db")


def test_a_write_blocked_by_another_writer_is_unavailable_after_the_busy_timeout(
    db_path: Path,
) -> None:
    with (
        Store.open(db_path, busy_timeout=0.05) as store,
        closing(sqlite3.connect(db_path, isolation_level=None)) as other,
    ):
        other.execute("BEGIN IMMEDIATE")

        with pytest.raises(StorageUnavailable, match=r"save state 'k' failed on .*locked"):
            store.save_state("k", b"v")

        other.execute("ROLLBACK")
        store.save_state("k", b"v")  # the store is still usable afterwards


def test_a_store_used_from_another_thread_raises_storage_error(store: Store) -> None:
    errors: list[BaseException] = []

    def use() -> None:
        try:
            store.get_user(1)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()

    assert len(errors) == 1
    assert isinstance(errors[0], StorageError)
    assert "thread" in str(errors[0])


def test_an_integer_past_64_bits_is_the_callers_constraint_violation(db_path: Path) -> None:
    with Store.open(db_path) as store, pytest.raises(ConstraintViolation, match="too large"):
        store.get_user(2**64)


def test_writes_in_one_transaction_commit_together(store: Store, db_path: Path) -> None:
    store.upsert_chat(7, kind="private", title=None)

    with store.transaction():
        store.append_turn(7, "user", "question")
        store.append_turn(7, "assistant", "answer")
        with closing(sqlite3.connect(db_path)) as other:
            [(seen,)] = other.execute("SELECT count(*) FROM turns").fetchall()
        assert seen == 0, "nothing is visible before the transaction commits"

    assert [turn.text for turn in store.load_context(7)] == ["question", "answer"]


def test_a_failure_inside_a_transaction_leaves_none_of_its_writes(store: Store) -> None:
    store.upsert_chat(7, kind="private", title=None)

    def answer_in_a_chat_that_is_not_registered() -> None:
        with store.transaction():
            store.append_turn(7, "user", "question")
            store.append_turn(8, "assistant", "to a chat that is not registered")

    with pytest.raises(RecordNotFound):
        answer_in_a_chat_that_is_not_registered()

    assert store.load_context(7) == ()
    store.append_turn(7, "user", "a write after it is its own again")
    assert len(store.load_context(7)) == 1
