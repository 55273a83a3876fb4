from __future__ import annotations

from pathlib import Path

from storage import Store


def test_a_saved_blob_loads_back_and_a_new_save_replaces_it(store: Store) -> None:
    store.save_state("session:1", b"\x00first")
    store.save_state("session:1", b"\x00second")

    assert store.load_state("session:1") == b"\x00second"


def test_an_unknown_key_loads_as_none(store: Store) -> None:
    assert store.load_state("nothing") is None


def test_deleting_reports_whether_there_was_state(store: Store) -> None:
    store.save_state("k", b"v")

    assert store.delete_state("k")
    assert not store.delete_state("k")
    assert store.load_state("k") is None


def test_state_survives_closing_and_reopening_the_store(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.save_state("k", b"kept")

    with Store.open(db_path) as store:
        assert store.load_state("k") == b"kept"
