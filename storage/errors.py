"""Every way storage can fail, in one tree.

``storage/`` imports nothing of ours, so it keeps its own root; every error it raises on
purpose derives from :class:`StorageError`, and every message names the database file and
the operation that failed::

    StorageError                 any other SQLite failure (e.g. used from another thread)
    ├── StorageUnavailable       the file cannot be opened or written: locked past the busy
    │                            timeout, read-only, missing permissions, disk full or I/O
    │                            error
    ├── StorageDamaged           the file is corrupt or not a SQLite database: waiting will not
    │                            help, an operator must restore or move it
    ├── MigrationError           the schema cannot be brought to this code's version: the file
    │                            is newer than the code, or a migration failed (rolled back)
    ├── StoreClosed              the store was used after ``close()``
    ├── RecordNotFound           a change was asked for a row that does not exist
    └── ConstraintViolation      a write broke a schema rule (CHECK, UNIQUE, FOREIGN KEY) or
                                 passed a value SQLite cannot hold (an integer past 64 bits):
                                 a bug in the caller, not a state of the world

Only ``StorageUnavailable`` may go away by itself (a lock is released, space is freed); the
storage actor's supervisor decides whether to retry. Sqlite3 errors never leave the package
bare: :func:`from_sqlite` wraps them, keeping the original as ``__cause__``.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class StorageError(Exception):
    """Root of every error storage raises; ``path`` names the database file when known."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class StorageUnavailable(StorageError):
    """The database file cannot be opened, read or written right now."""


class StorageDamaged(StorageError):
    """The database file is corrupt or is not a SQLite database; retrying cannot help."""


class MigrationError(StorageError):
    """The database schema cannot be brought to the version this code expects."""


class StoreClosed(StorageError):
    """The store was used after it was closed; open a new one with ``Store.open``."""


class RecordNotFound(StorageError):
    """A change was asked for a row that does not exist.

    ``table`` and ``key`` say which row, so a caller can answer "unknown user" precisely.
    """

    def __init__(self, message: str, *, path: Path | None = None, table: str, key: object) -> None:
        super().__init__(message, path=path)
        self.table = table
        self.key = key


class ConstraintViolation(StorageError):
    """A write broke a rule of the schema; the caller passed a value it should not have."""


# Primary SQLite result codes (https://www.sqlite.org/rescode.html) that mean the file, not
# the statement, is the problem, each with a hint at what to check.
_UNAVAILABLE_HINTS: dict[int, str] = {
    3: "permission denied",  # SQLITE_PERM
    5: "the database is locked by another connection for longer than the busy timeout",  # BUSY
    6: "a table is locked by another statement on this connection",  # SQLITE_LOCKED
    8: "the file or its directory is read-only",  # SQLITE_READONLY
    10: "disk I/O error",  # SQLITE_IOERR
    13: "the disk is full",  # SQLITE_FULL
    14: "the file cannot be opened: check the path and its directory's permissions",  # CANTOPEN
    15: "locking protocol error",  # SQLITE_PROTOCOL
}
_DAMAGED_HINTS: dict[int, str] = {
    11: "the file is corrupt",  # SQLITE_CORRUPT
    26: "the file is not a SQLite database",  # SQLITE_NOTADB
}


def from_sqlite(error: sqlite3.Error, *, path: Path, action: str) -> StorageError:
    """Translate a sqlite3 error into our tree; the caller raises it ``from error``.

    Args:
        error: what sqlite3 raised.
        path: the database file, named in the message.
        action: what we were doing, in words ("set state of user 42").
    """
    message = f"{action} failed on {path}: {error}"
    code: int | None = getattr(error, "sqlite_errorcode", None)
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintViolation(message, path=path)
    if code is not None and (hint := _UNAVAILABLE_HINTS.get(code & 0xFF)) is not None:
        return StorageUnavailable(f"{message} ({hint})", path=path)
    if code is not None and (hint := _DAMAGED_HINTS.get(code & 0xFF)) is not None:
        return StorageDamaged(f"{message} ({hint})", path=path)
    return StorageError(message, path=path)
