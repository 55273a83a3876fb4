"""The files table: who sent what, where it is, and how many a user sent in a day."""

from __future__ import annotations

import hashlib

import pytest

from storage import ConstraintViolation, NewFile, Store
from tests.storage.fakes import START, FakeClock

DAY = 86_400.0


def _file(path: str, *, user_id: int = 7, data: bytes = b"data") -> NewFile:
    return NewFile(
        chat_id=100,
        user_id=user_id,
        correlation_id="u42",
        original_name="../../etc/passwd.pdf",
        mime_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
    )


def test_a_recorded_file_keeps_every_detail_and_is_stamped_now(store: Store) -> None:
    record = store.record_file(_file("2026/11/22/a.pdf"))

    assert store.get_file(record.id) == record
    assert record.original_name == "../../etc/passwd.pdf"  # kept as text, never a path
    assert record.path == "2026/11/22/a.pdf"
    assert record.correlation_id == "u42"
    assert record.created_at == START


def test_the_daily_count_covers_only_that_user_since_the_cut_off(
    store: Store, clock: FakeClock
) -> None:
    store.record_file(_file("old.pdf"))
    clock.advance(DAY + 1)
    store.record_file(_file("new.pdf"))
    store.record_file(_file("theirs.pdf", user_id=8))

    assert store.count_files_since(7, clock() - DAY) == 1
    assert store.count_files_since(8, clock() - DAY) == 1
    assert store.count_files_since(9, clock() - DAY) == 0


def test_one_path_cannot_be_recorded_twice(store: Store) -> None:
    store.record_file(_file("same.pdf"))

    with pytest.raises(ConstraintViolation):
        store.record_file(_file("same.pdf"))


def test_old_rows_can_be_listed_and_forgotten_for_retention(store: Store, clock: FakeClock) -> None:
    store.record_file(_file("old.pdf"))
    clock.advance(10)
    store.record_file(_file("new.pdf"))

    assert [f.path for f in store.files_before(START + 5)] == ["old.pdf"]
    assert store.forget_files_before(START + 5) == 1
    assert [f.path for f in store.files_before(START + 100)] == ["new.pdf"]
