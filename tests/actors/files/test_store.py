"""Files on disk under generated names, never the user's."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.files import FileStore

NOON_2026_11_22 = 1_795_348_800.0


def test_a_saved_file_lands_under_a_generated_name_in_a_day_directory(tmp_path: Path) -> None:
    store = FileStore(tmp_path, clock=lambda: NOON_2026_11_22, names=lambda: "ab" * 16)

    stored = store.save(b"hello", "application/pdf")

    assert stored.path == f"2026/11/22/{'ab' * 16}.pdf"
    assert stored.size == 5
    assert stored.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert (tmp_path / stored.path).read_bytes() == b"hello"
    assert store.read(stored.path) == b"hello"


def test_no_temporary_file_is_left_after_saving(tmp_path: Path) -> None:
    store = FileStore(tmp_path)

    stored = store.save(b"x", "text/plain")

    assert [p.name for p in (tmp_path / stored.path).parent.iterdir()] == [Path(stored.path).name]


def test_a_name_already_taken_is_never_overwritten(tmp_path: Path) -> None:
    names: Iterator[str] = iter(["same", "same", "other"])
    store = FileStore(tmp_path, names=lambda: next(names))

    first = store.save(b"1", "text/plain")
    second = store.save(b"2", "text/plain")

    assert first.path != second.path
    assert store.read(first.path) == b"1"
    assert store.read(second.path) == b"2"


def test_a_removed_file_is_gone_and_removing_it_again_is_fine(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.save(b"x", "image/jpeg")

    store.remove(stored.path)
    store.remove(stored.path)

    assert not (tmp_path / stored.path).exists()


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "", "a/../../b"])
def test_a_path_that_leaves_the_root_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="not a stored file's path"):
        FileStore(tmp_path).read(path)
