"""Files users sent, kept under ``[storage] files_dir``: only their retention lives here.

There is no table of files (yet), so age is the file's modification time. Clean-up walks
the directory, deletes regular files older than the cut-off and then the directories left
empty. It never follows a symlink out of the directory, and a file it cannot delete is
counted, not raised: one unreadable file must not stop the rest of the clean-up.
"""

from __future__ import annotations

import os
from pathlib import Path

from storage.record import Record


class FilesPurged(Record, frozen=True, kw_only=True):
    """What :func:`delete_files_before` did: files deleted, and those it could not delete."""

    deleted: int
    failed: int


def delete_files_before(directory: Path, cutoff: float) -> FilesPurged:
    """Delete files under ``directory`` last modified before ``cutoff`` (epoch seconds).

    A missing directory has nothing to delete. Sub-directories emptied by this are removed
    too (never ``directory`` itself).
    """
    if not directory.is_dir():
        return FilesPurged(deleted=0, failed=0)
    deleted = failed = 0
    for root, dirs, files in os.walk(directory, topdown=False):
        here = Path(root)
        for name in files:
            path = here / name
            try:
                if path.is_symlink() or path.lstat().st_mtime >= cutoff:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                failed += 1
                continue
            deleted += 1
        for name in dirs:
            sub = here / name
            if sub.is_symlink():
                continue
            try:
                sub.rmdir()  # only succeeds when empty
            except OSError:
                continue
    return FilesPurged(deleted=deleted, failed=failed)
