"""The schema, as an ordered list of versioned migrations applied when a store opens.

Each :class:`Migration` is SQL (run as a script) or a callable given the
``sqlite_utils.Database``. :func:`apply_migrations` runs the pending ones in version order
inside one ``BEGIN IMMEDIATE`` transaction and records each in ``schema_migrations``, so the
file reaches this code's version or stays exactly as it was. Applying twice changes nothing.

To change the schema, append a migration with the next version; never edit one that has
shipped, since files in the field have already recorded it as applied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec

from storage.errors import MigrationError, StorageUnavailable, from_sqlite
from storage.record import Record, to_record

if TYPE_CHECKING:
    from pathlib import Path

    from sqlite_utils import Database


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the schema: ``apply`` is a SQL script or a function of the database."""

    version: int
    description: str
    apply: str | Callable[[Database], None]


class AppliedMigration(Record, frozen=True, kw_only=True):
    """A row of ``schema_migrations``: which version was applied, and when (epoch seconds)."""

    version: int
    description: str
    applied_at: float


_INITIAL_SCHEMA = """
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,            -- Telegram user id
    first_name    TEXT NOT NULL,
    username      TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'blocked')),
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    requested_at  REAL NOT NULL,
    decided_at    REAL,
    decided_by    INTEGER                         -- an admin's user id; not a foreign key:
                                                  -- admins from config need no row
) STRICT;
CREATE INDEX users_by_state ON users (state, requested_at);

CREATE TABLE chats (
    chat_id     INTEGER PRIMARY KEY,              -- Telegram chat id
    kind        TEXT NOT NULL CHECK (kind IN ('private', 'group', 'supergroup', 'channel')),
    title       TEXT,
    provider    TEXT,
    model       TEXT,
    mode        TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    CHECK ((provider IS NULL) = (model IS NULL))
) STRICT;

CREATE TABLE turns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: id order is turn order
    chat_id     INTEGER NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text        TEXT NOT NULL,
    tokens      INTEGER NOT NULL CHECK (tokens >= 0),
    created_at  REAL NOT NULL
) STRICT;
CREATE INDEX turns_by_chat ON turns (chat_id, id);

CREATE TABLE llm_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER,                      -- no foreign key: the log outlives chats
    user_id         INTEGER,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    tokens_in       INTEGER NOT NULL CHECK (tokens_in >= 0),
    tokens_out      INTEGER NOT NULL CHECK (tokens_out >= 0),
    latency_ms      REAL NOT NULL CHECK (latency_ms >= 0),
    status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error           TEXT,
    correlation_id  TEXT,
    created_at      REAL NOT NULL
) STRICT;
CREATE INDEX llm_requests_by_time ON llm_requests (created_at);

CREATE TABLE models (
    provider      TEXT NOT NULL,
    model_id      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    seen_at       REAL NOT NULL,
    PRIMARY KEY (provider, model_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE actor_state (
    key       TEXT PRIMARY KEY,
    blob      BLOB NOT NULL,
    saved_at  REAL NOT NULL
) STRICT, WITHOUT ROWID;
"""

_INBOX = """
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,             -- Telegram's update_id: one row per update
    chat_id      INTEGER,                         -- where it goes; NULL for nowhere
    payload      TEXT NOT NULL,                   -- the update as JSON, as Telegram sent it
    run_id       TEXT NOT NULL,                   -- the process that took it in or replayed it
    received_at  REAL NOT NULL,
    done_at      REAL,                            -- NULL until answered (or nothing to answer)
    draft_message_id  INTEGER                     -- the Telegram message showing its answer
                                                  -- as it streams, once there is one
) STRICT;
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_by_done ON inbox (done_at) WHERE done_at IS NOT NULL;
"""

_FILES = """
CREATE TABLE files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER NOT NULL,             -- no foreign keys: the log outlives chats
    user_id         INTEGER NOT NULL,
    correlation_id  TEXT,                         -- the request that brought the file
    original_name   TEXT,                         -- the user's name for it; never a path
    mime_type       TEXT NOT NULL,
    size            INTEGER NOT NULL CHECK (size >= 0),
    sha256          TEXT NOT NULL CHECK (length(sha256) = 64),
    path            TEXT NOT NULL UNIQUE,         -- relative to [storage] files_dir
    created_at      REAL NOT NULL
) STRICT;
CREATE INDEX files_by_user ON files (user_id, created_at);
CREATE INDEX files_by_time ON files (created_at);
"""

_TOPICS = """
-- A forum group keeps one context per topic; 0 is the chat's own (every other chat's).
ALTER TABLE turns ADD COLUMN topic_id INTEGER NOT NULL DEFAULT 0;
DROP INDEX turns_by_chat;
CREATE INDEX turns_by_topic ON turns (chat_id, topic_id, id);
"""

_USAGE = """
-- Who may spend how much: a user's tier (NULL: the configured default tier), and a ledger
-- with one row per LLM request, reserved before the call and settled (or released) after.
ALTER TABLE users ADD COLUMN tier TEXT;
CREATE TABLE usage_ledger (
    request_id  TEXT PRIMARY KEY,                 -- the session's id for the LLM request
    user_id     INTEGER NOT NULL,                 -- who pays; no foreign key: admins need no row
    tier        TEXT NOT NULL,                    -- the user's tier when the request was made
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
    reserved    INTEGER NOT NULL CHECK (reserved >= 0),   -- the estimate held before the call
    tokens_in   INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out  INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    cost        REAL NOT NULL DEFAULT 0 CHECK (cost >= 0),  -- estimated, from [prices]
    created_at  REAL NOT NULL,
    settled_at  REAL                              -- when settled or released
) STRICT;
CREATE INDEX usage_by_user ON usage_ledger (user_id, created_at);
CREATE INDEX usage_by_time ON usage_ledger (created_at);
CREATE INDEX usage_reserved ON usage_ledger (created_at) WHERE state = 'reserved';
"""

_GROUP_ACCESS = """
-- A group is let in like a user: by whoever added the bot (an admin or an approved user),
-- or by an admin's decision. NULL: a private chat, or a group from before this (or one the
-- bot was added to while it was down): there, each user's own access applies.
ALTER TABLE chats ADD COLUMN access TEXT
    CHECK (access IN ('pending', 'active', 'blocked', 'left'));
ALTER TABLE chats ADD COLUMN added_by INTEGER;     -- who last added the bot (a user id)
ALTER TABLE chats ADD COLUMN added_at REAL;
ALTER TABLE chats ADD COLUMN decided_at REAL;      -- when access last changed, and by whom:
ALTER TABLE chats ADD COLUMN decided_by INTEGER;   -- an admin, the adder, or who removed it
CREATE INDEX chats_by_access ON chats (access, added_at) WHERE access IS NOT NULL;
"""

_TURN_FILES = """
-- A user turn about a file a model read as itself (an image, a voice message): where the
-- file is, so follow-ups can send it again to a model that reads it. NULL for every other
-- turn. Not a foreign key: retention deletes files (and may delete their rows) first.
ALTER TABLE turns ADD COLUMN file_path TEXT;        -- relative to [storage] files_dir
ALTER TABLE turns ADD COLUMN file_mime TEXT
    CHECK ((file_path IS NULL) = (file_mime IS NULL));
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="users, chats, context turns, LLM request log, model cache, actor state",
        apply=_INITIAL_SCHEMA,
    ),
    Migration(
        version=2,
        description="durable inbox of Telegram updates",
        apply=_INBOX,
    ),
    Migration(
        version=3,
        description="files users sent: whose, what, and where on disk",
        apply=_FILES,
    ),
    Migration(
        version=4,
        description="context turns per forum topic",
        apply=_TOPICS,
    ),
    Migration(
        version=5,
        description="usage ledger and user tiers",
        apply=_USAGE,
    ),
    Migration(
        version=6,
        description="group access: who added the bot, and an admin's decision",
        apply=_GROUP_ACCESS,
    ),
    Migration(
        version=7,
        description="context turns remember the file a model read natively",
        apply=_TURN_FILES,
    ),
)

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version      INTEGER PRIMARY KEY,
    description  TEXT NOT NULL,
    applied_at   REAL NOT NULL
) STRICT
"""


def read_applied(db: Database, *, path: Path) -> tuple[AppliedMigration, ...]:
    """The migrations recorded in the file, oldest first; empty for a brand-new file."""
    if not db.table("schema_migrations").exists():
        return ()
    rows = db.query("SELECT * FROM schema_migrations ORDER BY version")
    return tuple(to_record(AppliedMigration, row, path=path) for row in rows)


def apply_migrations(
    db: Database,
    *,
    path: Path,
    now: float,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> tuple[AppliedMigration, ...]:
    """Bring the file to the newest version in ``migrations``; return what was applied now.

    Also mirrors that version into ``PRAGMA user_version``. That is a write on every open,
    so a read-only file fails here, at open, rather than at the first write.

    Raises:
        MigrationError: ``migrations`` are not numbered 1, 2, 3...; the file records a
            version this code does not know (it is newer); or a migration failed. Nothing
            is changed in any of these cases.
        StorageUnavailable: the file is locked, read-only or otherwise unusable.
    """
    _check_numbering(migrations, path=path)
    latest = migrations[-1].version if migrations else 0
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_CREATE_LEDGER)
            recorded = {m.version for m in read_applied(db, path=path)}
            _check_not_newer(recorded, latest, path=path)
            applied = tuple(
                _apply_one(db, migration, path=path, now=now)
                for migration in migrations
                if migration.version not in recorded
            )
            conn.execute(f"PRAGMA user_version = {latest:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        raise from_sqlite(error, path=path, action="applying schema migrations") from error
    return applied


def _check_numbering(migrations: Sequence[Migration], *, path: Path) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(
            f"migrations for {path} must be numbered 1, 2, 3... in order; got {versions}",
            path=path,
        )


def _check_not_newer(recorded: set[int], latest: int, *, path: Path) -> None:
    unknown = sorted(version for version in recorded if not 1 <= version <= latest)
    if unknown:
        raise MigrationError(
            f"{path} records schema version(s) {unknown} but this code knows versions "
            f"1..{latest}: the file was written by a newer version of the bot; "
            "upgrade the bot or restore a backup",
            path=path,
        )


def _apply_one(db: Database, migration: Migration, *, path: Path, now: float) -> AppliedMigration:
    try:
        if isinstance(migration.apply, str):
            db.executescript(migration.apply)
        else:
            migration.apply(db)
    except sqlite3.Error as error:
        translated = from_sqlite(error, path=path, action=f"migration {migration.version}")
        if isinstance(translated, StorageUnavailable):
            raise translated from error
        raise MigrationError(
            f"migration {migration.version} ({migration.description}) failed on {path}: "
            f"{error}; the schema was left unchanged",
            path=path,
        ) from error
    db.execute(
        "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.description, now),
    )
    return AppliedMigration(
        version=migration.version, description=migration.description, applied_at=now
    )
