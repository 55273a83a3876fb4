from __future__ import annotations

from pathlib import Path

from storage import IncomingUpdate, Store
from tests.storage.fakes import START, FakeClock


def _update(update_id: int, *, chat_id: int | None = 7, done: bool = False) -> IncomingUpdate:
    return IncomingUpdate(
        update_id=update_id, chat_id=chat_id, payload=f'{{"update_id": {update_id}}}', done=done
    )


def test_recording_a_batch_returns_the_new_ids_and_keeps_them_pending(store: Store) -> None:
    fresh = store.record_updates([_update(1), _update(2)], run_id="a")

    assert fresh == (1, 2)
    assert [(u.update_id, u.run_id, u.done_at) for u in store.pending_updates()] == [
        (1, "a", None),
        (2, "a", None),
    ]


def test_an_update_delivered_again_is_not_new_and_keeps_its_first_record(
    store: Store, clock: FakeClock
) -> None:
    store.record_updates([_update(1)], run_id="a")
    store.mark_done([1])
    clock.advance(5)

    fresh = store.record_updates(
        [IncomingUpdate(update_id=1, chat_id=9, payload="{}"), _update(2)], run_id="b"
    )

    assert fresh == (2,)
    first = store.get_update(1)
    assert first is not None
    assert (first.chat_id, first.run_id, first.received_at, first.done_at) == (7, "a", START, START)


def test_the_same_id_twice_in_one_batch_counts_once(store: Store) -> None:
    assert store.record_updates([_update(3), _update(3)], run_id="a") == (3,)


def test_an_update_with_nothing_to_answer_is_recorded_as_done(store: Store) -> None:
    store.record_updates([_update(4, chat_id=None, done=True)], run_id="a")

    recorded = store.get_update(4)
    assert recorded is not None
    assert recorded.done_at == START
    assert store.pending_updates() == ()


def test_marking_done_counts_only_updates_that_were_pending(store: Store) -> None:
    store.record_updates([_update(1), _update(2)], run_id="a")

    assert store.mark_done([1, 99]) == 1
    assert store.mark_done([1]) == 0
    assert [u.update_id for u in store.pending_updates()] == [2]


def test_a_done_update_keeps_its_id_but_not_what_was_written(store: Store) -> None:
    store.record_updates([_update(1), _update(2, chat_id=None, done=True)], run_id="a")
    store.mark_done([1])

    kept = [store.get_update(1), store.get_update(2)]

    assert [(u.update_id, u.payload) for u in kept if u is not None] == [(1, ""), (2, "")]


def test_claiming_hands_over_the_pending_updates_of_earlier_runs_once(store: Store) -> None:
    store.record_updates([_update(5), _update(3), _update(4)], run_id="old")
    store.mark_done([4])
    store.record_updates([_update(6)], run_id="new")

    claimed = store.claim_pending(run_id="new")

    assert [(u.update_id, u.run_id) for u in claimed] == [(3, "new"), (5, "new")]
    assert store.claim_pending(run_id="new") == ()


def test_pending_updates_survive_closing_and_reopening_the_store(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.record_updates([_update(1)], run_id="a")

    with Store.open(db_path) as store:
        assert [u.payload for u in store.claim_pending(run_id="b")] == ['{"update_id": 1}']


def test_pruning_deletes_old_done_updates_but_never_pending_ones_or_the_newest(
    store: Store, clock: FakeClock
) -> None:
    store.record_updates([_update(1), _update(2), _update(3), _update(4)], run_id="a")
    store.mark_done([1, 2, 4])
    clock.advance(100)

    assert store.prune_inbox(older_than=START + 50) == 2
    assert store.get_update(1) is None
    assert store.get_update(2) is None
    assert store.get_update(3) is not None, "pending"
    assert store.get_update(4) is not None, "the newest id stays on record"


def test_pruning_keeps_updates_done_after_the_cut_off(store: Store, clock: FakeClock) -> None:
    store.record_updates([_update(1), _update(2)], run_id="a")
    store.mark_done([1])

    assert store.prune_inbox(older_than=START - 1) == 0
    assert store.get_update(1) is not None


def test_a_recorded_update_after_pruning_is_still_recognised_as_seen(
    store: Store, clock: FakeClock
) -> None:
    store.record_updates([_update(1), _update(2)], run_id="a")
    store.mark_done([1, 2])
    clock.advance(10)
    store.prune_inbox(older_than=START + 5)

    assert store.record_updates([_update(2)], run_id="b") == ()


def test_the_message_showing_a_draft_is_remembered_for_a_replay(store: Store) -> None:
    store.record_updates([_update(1)], run_id="a")

    assert store.note_draft(1, 555)
    assert not store.note_draft(99, 556)
    [claimed] = store.claim_pending(run_id="b")
    assert claimed.draft_message_id == 555


def test_the_drafts_of_pending_updates_of_every_run_are_listed_and_done_ones_not(
    store: Store,
) -> None:
    store.record_updates([_update(1), _update(2)], run_id="earlier")
    store.record_updates([_update(3), _update(4)], run_id="now")
    for update_id, message_id in ((1, 501), (3, 503), (4, 504)):
        store.note_draft(update_id, message_id)
    store.mark_done([4])

    assert store.pending_drafts() == {1: 501, 3: 503}
