from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import AppliedMigration, MigrationError, Store
from storage.migrations import MIGRATIONS, Migration, apply_migrations
from tests.storage.fakes import START, FakeClock


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    conn = sqlite3.connect(tmp_path / "plain.db", isolation_level=None)
    database = Database(conn, execute_plugins=False)
    yield database
    database.close()


def _add_notes_column(db: Database) -> None:
    db.execute("ALTER TABLE notes ADD COLUMN body TEXT")


CREATE_NOTES = Migration(version=1, description="notes", apply="CREATE TABLE notes (id INTEGER)")
ADD_BODY = Migration(version=2, description="note body", apply=_add_notes_column)


def test_opening_a_new_file_records_every_migration_with_the_time(
    db_path: Path, clock: FakeClock
) -> None:
    with Store.open(db_path, clock=clock) as store:
        applied = store.applied_migrations()

    assert applied == tuple(
        AppliedMigration(version=m.version, description=m.description, applied_at=START)
        for m in MIGRATIONS
    )


def test_reopening_applies_nothing_and_keeps_the_records(db_path: Path, clock: FakeClock) -> None:
    with Store.open(db_path, clock=clock) as store:
        first = store.applied_migrations()
    clock.advance(3600)

    with Store.open(db_path, clock=clock) as store:
        assert store.applied_migrations() == first


def test_user_version_mirrors_the_schema_version(store: Store) -> None:
    with closing(sqlite3.connect(store.path)) as conn:
        (user_version,) = conn.execute("PRAGMA user_version").fetchone()

    assert user_version == MIGRATIONS[-1].version


def test_a_file_newer_than_the_code_is_refused_with_a_clear_error(db_path: Path) -> None:
    Store.open(db_path).close()
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)")

    with pytest.raises(MigrationError, match="newer version of the bot") as caught:
        Store.open(db_path)

    assert str(db_path) in str(caught.value)
    assert "[99]" in str(caught.value)


def test_pending_migrations_apply_in_order_on_top_of_recorded_ones(db: Database) -> None:
    first = apply_migrations(db, path=Path("plain.db"), now=1.0, migrations=(CREATE_NOTES,))
    second = apply_migrations(
        db, path=Path("plain.db"), now=2.0, migrations=(CREATE_NOTES, ADD_BODY)
    )

    assert [m.version for m in first] == [1]
    assert second == (AppliedMigration(version=2, description="note body", applied_at=2.0),)
    assert [c.name for c in db["notes"].columns] == ["id", "body"]


def test_a_failing_migration_leaves_the_file_unchanged(db: Database) -> None:
    broken = Migration(version=2, description="broken", apply="CREATE TABLE notes (id INTEGER)")

    with pytest.raises(MigrationError, match=r"migration 2 \(broken\) failed on plain.db"):
        apply_migrations(db, path=Path("plain.db"), now=1.0, migrations=(CREATE_NOTES, broken))

    assert db.table_names() == []
    assert not db.conn.in_transaction


def test_migrations_must_be_numbered_from_one_without_gaps(db: Database) -> None:
    gap = Migration(version=3, description="gap", apply="SELECT 1")

    with pytest.raises(MigrationError, match=r"numbered 1, 2, 3... in order; got \[1, 3\]"):
        apply_migrations(db, path=Path("plain.db"), now=1.0, migrations=(CREATE_NOTES, gap))


def test_version_7_keeps_the_turns_of_a_version_6_file_with_no_file_reference(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "plain.db"
    apply_migrations(db, path=path, now=1.0, migrations=MIGRATIONS[:6])
    db.execute(
        "INSERT INTO chats (chat_id, kind, created_at, updated_at) VALUES (1, 'private', 1, 1)"
    )
    db.execute(
        "INSERT INTO turns (chat_id, role, text, tokens, created_at)"
        " VALUES (1, 'user', 'hello', 2, 1)"
    )

    applied = apply_migrations(db, path=path, now=2.0)

    assert [m.version for m in applied] == [7]
    rows = list(db.query("SELECT text, file_path, file_mime FROM turns"))
    assert rows == [{"text": "hello", "file_path": None, "file_mime": None}]
