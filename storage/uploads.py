"""The ``files`` table: one row per file a user sent that the bot accepted and kept.

The bytes live on disk under ``[storage] files_dir`` (``actors/files/store.py``); the row says
whose they are and what they are: chat, user, the request that brought them (its correlation
id, as in ``llm_requests``), the user's name for the file (shown, never used as a path), the
MIME type, size and SHA-256, and the path relative to the files directory. Refused files have
no row: nothing of them is kept. The daily quota counts rows per user. The schema is
migration 3 in ``storage/migrations.py``.
"""

from __future__ import annotations

import msgspec

from storage.connection import Connection
from storage.record import Record


class NewFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file to record, just written to disk."""

    chat_id: int
    user_id: int
    correlation_id: str | None
    original_name: str | None
    mime_type: str
    size: int
    sha256: str
    path: str


class FileRecord(Record, frozen=True, kw_only=True):
    """A recorded file; ``created_at`` in UTC epoch seconds."""

    id: int
    chat_id: int
    user_id: int
    correlation_id: str | None
    original_name: str | None
    mime_type: str
    size: int
    sha256: str
    path: str
    created_at: float


class FileTable(Connection):
    """The ``files`` table; mixed into :class:`storage.Store`."""

    def record_file(self, file: NewFile) -> FileRecord:
        """Record a kept file, stamped now.

        Raises:
            ConstraintViolation: the path is already recorded, the size is negative or the
                digest is not 64 hex digits long.
        """
        with self._writing(f"record file {file.path}") as db:
            record = self._record(
                db,
                FileRecord,
                "INSERT INTO files (chat_id, user_id, correlation_id, original_name, mime_type,"
                " size, sha256, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    file.chat_id,
                    file.user_id,
                    file.correlation_id,
                    file.original_name,
                    file.mime_type,
                    file.size,
                    file.sha256,
                    file.path,
                    self._now(),
                ),
            )
        assert record is not None  # RETURNING always gives the inserted row
        return record

    def count_files_since(self, user_id: int, since: float) -> int:
        """How many files ``user_id`` had recorded at or after ``since`` (epoch seconds)."""
        with self._reading(f"count files of user {user_id}") as db:
            rows = list(
                db.query(
                    "SELECT count(*) AS n FROM files WHERE user_id = ? AND created_at >= ?",
                    (user_id, since),
                )
            )
        return int(rows[0]["n"])

    def get_file(self, file_id: int) -> FileRecord | None:
        """The recorded file with this id, or None."""
        with self._reading(f"get file {file_id}") as db:
            return self._record(db, FileRecord, "SELECT * FROM files WHERE id = ?", (file_id,))

    def files_before(self, cutoff: float) -> tuple[FileRecord, ...]:
        """Files recorded before ``cutoff``, oldest first: what retention deletes."""
        with self._reading("list old files") as db:
            return self._records(
                db,
                FileRecord,
                "SELECT * FROM files WHERE created_at < ? ORDER BY id",
                (cutoff,),
            )

    def forget_files_before(self, cutoff: float) -> int:
        """Delete the rows of files recorded before ``cutoff``; return how many."""
        with self._writing("forget old files") as db:
            return db.execute("DELETE FROM files WHERE created_at < ?", (cutoff,)).rowcount
