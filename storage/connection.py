"""One open SQLite file: how it is opened, how it is used, and how it is closed.

:class:`Connection` is the base every table class extends (see ``store.py``). It owns the
lifecycle (open, then closed for good) and gives table code two context managers:
``_reading`` for queries and ``_writing`` for one logical change in one ``BEGIN IMMEDIATE``
transaction. Both turn sqlite3 errors into :mod:`storage.errors` naming the file and action.

A sqlite3 connection belongs to the thread that opened it: open, use and close a store on
one thread (the storage actor's). Using it from another thread raises :class:`StorageError`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from sqlite_utils import Database

from storage.errors import ConstraintViolation, StorageUnavailable, StoreClosed, from_sqlite
from storage.migrations import AppliedMigration, apply_migrations, read_applied
from storage.record import R, to_record

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

Clock = Callable[[], float]
"""Returns the current time as UTC epoch seconds; ``time.time`` unless a test injects one."""

DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a write waits for another connection's lock before ``StorageUnavailable``."""


class Connection:
    """An open database file; build one with :meth:`open`, end it with :meth:`close`."""

    def __init__(self, db: Database, *, path: Path, clock: Clock) -> None:
        """Wrap an already configured database; use :meth:`open` instead."""
        self._db: Database | None = db
        self._path = path
        self._clock = clock
        self._in_transaction = False  # inside transaction(): writes join it

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Clock = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Self:
        """Open (creating it and its directories if needed) and migrate the file at ``path``.

        Sets WAL journaling (readers never block the writer), ``busy_timeout``,
        ``foreign_keys=ON`` and ``synchronous=NORMAL`` (durable across application crashes;
        a power cut may lose the last commits, never corrupt the file), then applies pending
        migrations.

        Raises:
            StorageUnavailable: the file or its directory cannot be created, opened or
                written (read-only, locked, not a database...).
            MigrationError: the file's schema is newer than this code, or a migration failed.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(
                f"cannot create the directory for the database {path}: {error}", path=path
            ) from error
        try:
            conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise from_sqlite(error, path=path, action="opening the database") from error
        try:
            db = Database(conn, execute_plugins=False)
            _configure(db, path=path, busy_timeout=busy_timeout)
            apply_migrations(db, path=path, now=clock())
        except sqlite3.Error as error:
            conn.close()
            raise from_sqlite(error, path=path, action="opening the database") from error
        except BaseException:
            conn.close()
            raise
        return cls(db, path=path, clock=clock)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called; a closed store cannot be reopened."""
        return self._db is None

    def close(self) -> None:
        """Close the file; calling it again does nothing.

        Every write commits before its method returns, so there is nothing to flush.
        """
        if self._db is None:
            return
        try:
            self._db.close()
        except sqlite3.Error as error:
            raise from_sqlite(error, path=self._path, action="closing the database") from error
        self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {self._path} {state}>"

    def applied_migrations(self) -> tuple[AppliedMigration, ...]:
        """The schema versions recorded in the file, oldest first."""
        with self._reading("reading applied migrations") as db:
            return read_applied(db, path=self._path)

    @contextmanager
    def _reading(self, action: str) -> Iterator[Database]:
        """Run queries; sqlite3 errors leave as :class:`StorageError` naming ``action``."""
        db = self._require_open(action)
        try:
            yield db
        except sqlite3.Error as error:
            raise from_sqlite(error, path=self._path, action=action) from error
        except OverflowError as error:
            raise _too_large(error, path=self._path, action=action) from error

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write inside one transaction: all of them commit, or none.

        Each commit costs more than a small write itself; changes made for one event
        (an answer's context turns, its usage and its log line) are cheaper together.
        """
        with self._writing("write several changes in one transaction"):
            yield

    @contextmanager
    def _writing(self, action: str) -> Iterator[Database]:
        """Run one logical change in one transaction: all of it commits, or none of it.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so a concurrent writer makes us
        wait ``busy_timeout`` instead of failing midway when a read turns into a write.
        Any exception inside the block rolls back and propagates (sqlite3 ones translated).
        Inside :meth:`transaction`, the change joins that transaction instead.
        """
        if self._in_transaction:  # the outer one commits or rolls back
            with self._reading(action) as joined:
                yield joined
            return
        db = self._require_open(action)
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
            try:
                yield db
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._in_transaction = False
        except sqlite3.Error as error:
            raise from_sqlite(error, path=self._path, action=action) from error
        except OverflowError as error:
            raise _too_large(error, path=self._path, action=action) from error

    def _now(self) -> float:
        return self._clock()

    def _records(
        self, db: Database, record_type: type[R], sql: str, params: Sequence[Any] = ()
    ) -> tuple[R, ...]:
        """Run ``sql`` (a SELECT, or a write ``RETURNING *``) and convert every row."""
        rows = list(db.query(sql, params))
        return tuple(to_record(record_type, row, path=self._path) for row in rows)

    def _record(
        self, db: Database, record_type: type[R], sql: str, params: Sequence[Any] = ()
    ) -> R | None:
        """Like :meth:`_records` for a statement that yields at most one row."""
        records = self._records(db, record_type, sql, params)
        return records[0] if records else None

    def _require_open(self, action: str) -> Database:
        if self._db is None:
            raise StoreClosed(
                f"{action}: the store for {self._path} is closed; open a new one",
                path=self._path,
            )
        return self._db


def _configure(db: Database, *, path: Path, busy_timeout: float) -> None:
    conn = db.conn
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000):d}")
    conn.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()
    conn.execute("PRAGMA synchronous = NORMAL")
    if db.journal_mode != "wal":
        raise StorageUnavailable(
            f"{path} cannot use write-ahead logging (journal_mode is {db.journal_mode!r});"
            " is it on a network file system?",
            path=path,
        )


def _too_large(error: OverflowError, *, path: Path, action: str) -> ConstraintViolation:
    """sqlite3 refuses integers past 64 bits with OverflowError: the caller's value, not us."""
    return ConstraintViolation(f"{action} failed on {path}: {error}", path=path)
