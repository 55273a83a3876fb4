"""Retention of the files users sent: old ones go, recent ones and outside files stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from storage.files import FilesPurged, delete_files_before

DAY = 86_400.0


def touch(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    when = time.time() - age_days * DAY
    os.utime(path, (when, when))
    return path


def test_files_older_than_the_cutoff_are_deleted_and_newer_ones_kept(tmp_path: Path) -> None:
    old = touch(tmp_path / "files" / "4242" / "old.pdf", age_days=100)
    new = touch(tmp_path / "files" / "4242" / "new.pdf", age_days=1)

    purged = delete_files_before(tmp_path / "files", time.time() - 90 * DAY)

    assert purged == FilesPurged(deleted=1, failed=0)
    assert not old.exists()
    assert new.exists()


def test_directories_left_empty_are_removed_but_not_the_files_dir_itself(tmp_path: Path) -> None:
    touch(tmp_path / "files" / "a" / "b" / "old.jpg", age_days=100)

    delete_files_before(tmp_path / "files", time.time() - 90 * DAY)

    assert (tmp_path / "files").is_dir()
    assert list((tmp_path / "files").iterdir()) == []


def test_a_symlink_is_neither_followed_nor_deleted(tmp_path: Path) -> None:
    outside = touch(tmp_path / "elsewhere" / "keep.txt", age_days=100)
    link = tmp_path / "files" / "link"
    link.parent.mkdir()
    link.symlink_to(outside.parent, target_is_directory=True)

    purged = delete_files_before(tmp_path / "files", time.time() - 90 * DAY)

    assert purged == FilesPurged(deleted=0, failed=0)
    assert outside.exists()
    assert link.is_symlink()


def test_a_missing_directory_has_nothing_to_delete(tmp_path: Path) -> None:
    assert delete_files_before(tmp_path / "nowhere", time.time()) == FilesPurged(
        deleted=0, failed=0
    )
