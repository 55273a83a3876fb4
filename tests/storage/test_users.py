from __future__ import annotations

import pytest

from storage import ConstraintViolation, RecordNotFound, Store, User, UserCounts
from tests.storage.fakes import START, FakeClock


def test_a_new_user_is_pending_and_reported_as_created(store: Store) -> None:
    upsert = store.upsert_user(42, first_name="Ada", username="ada")

    assert upsert.created
    assert upsert.user == User(
        id=42,
        first_name="Ada",
        username="ada",
        state="pending",
        is_admin=False,
        requested_at=START,
        decided_at=None,
        decided_by=None,
    )
    assert store.get_user(42) == upsert.user


def test_upserting_again_refreshes_the_profile_but_keeps_state_and_admin_flag(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_user(42, first_name="Ada", is_admin=True)
    store.set_user_state(42, "active", 1)
    clock.advance(60)

    upsert = store.upsert_user(42, first_name="Ada L.", username="lovelace")

    assert not upsert.created
    assert upsert.user.first_name == "Ada L."
    assert upsert.user.username == "lovelace"
    assert upsert.user.state == "active"
    assert upsert.user.is_admin
    assert upsert.user.requested_at == START


def test_upsert_can_revoke_the_admin_flag(store: Store) -> None:
    store.upsert_user(42, first_name="Ada", is_admin=True)

    assert not store.upsert_user(42, first_name="Ada", is_admin=False).user.is_admin


def test_initial_state_applies_only_to_new_users(store: Store) -> None:
    store.upsert_user(1, first_name="Admin", initial_state="active")
    store.upsert_user(2, first_name="Guest")

    again = store.upsert_user(2, first_name="Guest", initial_state="active")

    admin = store.get_user(1)
    assert admin is not None
    assert admin.state == "active"
    assert again.user.state == "pending"


def test_an_unknown_user_is_none(store: Store) -> None:
    assert store.get_user(404) is None


def test_setting_state_records_when_and_by_which_admin(store: Store, clock: FakeClock) -> None:
    store.upsert_user(42, first_name="Ada")
    clock.advance(90)

    user = store.set_user_state(42, "blocked", 7)

    assert (user.state, user.decided_at, user.decided_by) == ("blocked", START + 90, 7)
    assert store.get_user(42) == user


def test_setting_state_of_an_unknown_user_raises_record_not_found(store: Store) -> None:
    with pytest.raises(RecordNotFound, match="no such user") as caught:
        store.set_user_state(404, "active", 1)

    assert (caught.value.table, caught.value.key) == ("users", 404)


def test_an_unknown_state_is_a_constraint_violation(store: Store) -> None:
    store.upsert_user(42, first_name="Ada")

    with pytest.raises(ConstraintViolation, match="CHECK constraint failed"):
        store.set_user_state(42, "banished", 1)  # type: ignore[arg-type]

    user = store.get_user(42)
    assert user is not None
    assert user.state == "pending"


def test_listing_filters_by_state_and_pages_in_request_order(
    store: Store, clock: FakeClock
) -> None:
    for user_id in (5, 3, 9, 1):
        store.upsert_user(user_id, first_name=f"user {user_id}")
        clock.advance(1)
    store.set_user_state(9, "active", 1)

    assert [u.id for u in store.list_users()] == [5, 3, 9, 1]
    assert [u.id for u in store.list_users("pending")] == [5, 3, 1]
    assert [u.id for u in store.list_users("pending", limit=2, offset=1)] == [3, 1]
    assert [u.id for u in store.list_users(state="active")] == [9]


def test_listing_refuses_a_negative_limit(store: Store) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        store.list_users(limit=-1)


def test_counts_by_state_include_states_nobody_is_in(store: Store) -> None:
    for user_id in (1, 2, 3):
        store.upsert_user(user_id, first_name="x")
    store.set_user_state(3, "active", 1)

    counts = store.count_users_by_state()

    assert counts == UserCounts(pending=2, active=1, blocked=0)
    assert counts.total == 3
