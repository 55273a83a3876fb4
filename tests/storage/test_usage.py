from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from storage import (
    BudgetExceeded,
    ConstraintViolation,
    RecordNotFound,
    Reservation,
    Store,
    TierUsage,
    TopUser,
    UsageTotals,
    UserUsage,
)
from tests.storage.fakes import START, FakeClock

DAY = 86_400.0
USER = 42


def _reserve(
    store: Store,
    request_id: str,
    tokens: int,
    *,
    user_id: int = USER,
    tier: str = "free",
    day_start: float = START,
    month_start: float = START,
    daily_limit: int | None = None,
    monthly_limit: int | None = None,
) -> Reservation | BudgetExceeded:
    return store.reserve_usage(
        request_id=request_id,
        user_id=user_id,
        tier=tier,
        provider="openai",
        model="m",
        tokens=tokens,
        day_start=day_start,
        month_start=month_start,
        daily_limit=daily_limit,
        monthly_limit=monthly_limit,
    )


def _settle(
    store: Store,
    request_id: str,
    tokens_in: int,
    tokens_out: int,
    *,
    user_id: int = USER,
    tier: str = "free",
    cost: float = 0.5,
    provider: str = "openai",
) -> None:
    store.settle_usage(
        request_id=request_id,
        user_id=user_id,
        tier=tier,
        provider=provider,
        model="m",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost=cost,
    )


def _usage(store: Store, user_id: int = USER, *, day_start: float = START) -> UserUsage:
    return store.usage_of(user_id, day_start=day_start, month_start=START - 20 * DAY)


def _rows(db_path: Path) -> list[tuple[str, str, int, int, int]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT request_id, state, reserved, tokens_in, tokens_out FROM usage_ledger"
            " ORDER BY request_id"
        ).fetchall()


def test_a_reservation_within_the_limits_is_held_against_the_budget(store: Store) -> None:
    reservation = _reserve(store, "r1", 100, daily_limit=1000, monthly_limit=10_000)

    assert reservation == Reservation(request_id="r1", user_id=USER, tokens=100)
    assert _usage(store).day == UsageTotals(tokens=100, cost=0.0, requests=0)


def test_a_reservation_over_the_daily_limit_is_refused_and_writes_nothing(
    store: Store, db_path: Path
) -> None:
    _reserve(store, "r1", 600)

    refused = _reserve(store, "r2", 500, daily_limit=1000, monthly_limit=1000)

    assert refused == BudgetExceeded(period="day", used=600, limit=1000, needed=500)
    assert [row[0] for row in _rows(db_path)] == ["r1"]


def test_the_monthly_limit_refuses_what_the_daily_limit_allows(
    store: Store, clock: FakeClock
) -> None:
    _reserve(store, "yesterday", 900)
    clock.advance(DAY)

    refused = _reserve(
        store, "today", 200, day_start=START + DAY, daily_limit=1000, monthly_limit=1000
    )

    assert refused == BudgetExceeded(period="month", used=900, limit=1000, needed=200)


def test_a_reservation_that_exactly_fills_the_budget_is_allowed(store: Store) -> None:
    assert isinstance(_reserve(store, "r1", 1000, daily_limit=1000), Reservation)
    assert isinstance(_reserve(store, "r2", 1, daily_limit=1000), BudgetExceeded)


def test_no_limits_mean_unlimited(store: Store) -> None:
    assert isinstance(_reserve(store, "r1", 10**12), Reservation)


def test_reserving_the_same_request_twice_returns_the_first_and_counts_once(
    store: Store,
) -> None:
    first = _reserve(store, "r1", 100)

    again = _reserve(store, "r1", 700, daily_limit=150)

    assert again == first
    assert _usage(store).day.tokens == 100


def test_a_negative_reservation_is_a_constraint_violation(store: Store, db_path: Path) -> None:
    with pytest.raises(ConstraintViolation):
        _reserve(store, "r1", -1)
    assert _rows(db_path) == []


def test_usage_of_other_users_does_not_count_against_a_budget(store: Store) -> None:
    _reserve(store, "theirs", 900, user_id=7)

    assert isinstance(_reserve(store, "mine", 900, daily_limit=1000), Reservation)


def test_settling_replaces_the_estimate_with_the_real_figures(store: Store, db_path: Path) -> None:
    _reserve(store, "r1", 1000)

    _settle(store, "r1", 30, 70, cost=0.25)

    assert _usage(store).day == UsageTotals(tokens=100, cost=0.25, requests=1)
    assert _rows(db_path) == [("r1", "settled", 1000, 30, 70)]


def test_settling_a_request_never_reserved_records_it(store: Store, db_path: Path) -> None:
    _settle(store, "pruned", 5, 6, cost=1.0)

    assert _usage(store).day == UsageTotals(tokens=11, cost=1.0, requests=1)
    assert _rows(db_path) == [("pruned", "settled", 0, 5, 6)]


def test_settling_twice_keeps_one_row_with_the_last_figures(store: Store) -> None:
    _reserve(store, "r1", 100)
    _settle(store, "r1", 1, 1)
    _settle(store, "r1", 2, 3)

    assert _usage(store).day == UsageTotals(tokens=5, cost=0.5, requests=1)


def test_a_negative_settlement_is_a_constraint_violation(store: Store) -> None:
    with pytest.raises(ConstraintViolation):
        _settle(store, "r1", -1, 0)
    with pytest.raises(ConstraintViolation):
        _settle(store, "r2", 1, 0, cost=-0.1)


def test_releasing_gives_the_estimate_back(store: Store) -> None:
    _reserve(store, "r1", 900)

    store.release_usage("r1")

    assert _usage(store).day == UsageTotals(tokens=0, cost=0.0, requests=0)
    assert isinstance(_reserve(store, "r2", 900, daily_limit=1000), Reservation)


def test_releasing_an_unknown_or_settled_request_changes_nothing(
    store: Store, db_path: Path
) -> None:
    _reserve(store, "r1", 100)
    _settle(store, "r1", 10, 10)

    store.release_usage("r1")
    store.release_usage("nobody")

    assert _rows(db_path) == [("r1", "settled", 100, 10, 10)]


def test_settling_a_released_request_still_settles_it(store: Store) -> None:
    _reserve(store, "r1", 100)
    store.release_usage("r1")

    _settle(store, "r1", 40, 2)

    assert _usage(store).day == UsageTotals(tokens=42, cost=0.5, requests=1)


def test_stale_reservations_are_released_and_counted(store: Store, clock: FakeClock) -> None:
    _reserve(store, "old", 100)
    _reserve(store, "settled", 10)
    _settle(store, "settled", 1, 1)
    clock.advance(60)
    _reserve(store, "new", 200)

    assert store.release_reservations_before(START + 30) == 1
    assert _usage(store).day.tokens == 2 + 200
    assert store.release_reservations_before(START + 30) == 0


def test_usage_of_counts_today_and_this_month_separately(store: Store, clock: FakeClock) -> None:
    store.upsert_user(USER, first_name="Ada")
    _reserve(store, "last-month", 1000)
    _settle(store, "last-month", 500, 500)
    clock.advance(10 * DAY)
    _reserve(store, "this-month", 100)
    _settle(store, "this-month", 50, 50, cost=0.25)
    clock.advance(DAY)
    _reserve(store, "today", 30)

    usage = store.usage_of(USER, day_start=START + 11 * DAY, month_start=START + 5 * DAY)

    assert usage == UserUsage(
        user_id=USER,
        tier=None,
        day=UsageTotals(tokens=30, cost=0.0, requests=0),
        month=UsageTotals(tokens=130, cost=0.25, requests=1),
    )


def test_usage_of_a_user_without_a_row_is_zero_with_no_tier(store: Store) -> None:
    zero = UsageTotals(tokens=0, cost=0.0, requests=0)

    assert _usage(store, 999) == UserUsage(user_id=999, tier=None, day=zero, month=zero)


def test_usage_by_tier_groups_by_the_tier_each_request_was_made_in(
    store: Store, clock: FakeClock
) -> None:
    _settle(store, "before", 10_000, 0, tier="pro")  # before the window
    clock.advance(60)
    _settle(store, "a", 10, 10, tier="free", user_id=1)
    _settle(store, "b", 5, 5, tier="free", user_id=2, cost=0.25)
    _reserve(store, "c", 7, tier="free", user_id=2)
    _settle(store, "d", 100, 0, tier="pro", user_id=3, cost=2.0)
    _reserve(store, "e", 1000, tier="pro", user_id=4)
    store.release_usage("e")

    tiers = store.usage_by_tier(since=START + 60)

    assert tiers == (
        TierUsage(tier="pro", users=1, tokens=100, cost=2.0, requests=1),
        TierUsage(tier="free", users=2, tokens=37, cost=0.75, requests=2),
    )


def test_top_users_are_the_heaviest_with_their_names(store: Store, clock: FakeClock) -> None:
    store.upsert_user(1, first_name="Ada", username="ada")
    store.upsert_user(2, first_name="Bob")
    store.set_user_tier(2, "pro")
    _settle(store, "old", 10**6, 0, user_id=3)
    clock.advance(60)
    _settle(store, "a", 10, 0, user_id=1)
    _settle(store, "b", 50, 0, user_id=2, tier="pro")
    _reserve(store, "c", 20, user_id=3)  # no users row: an admin from config
    _settle(store, "d", 1, 0, user_id=4)

    top = store.top_users(since=START + 60, limit=3)

    assert top == (
        TopUser(
            user_id=2,
            first_name="Bob",
            username=None,
            tier="pro",
            tokens=50,
            cost=0.5,
            requests=1,
        ),
        TopUser(
            user_id=3,
            first_name=None,
            username=None,
            tier=None,
            tokens=20,
            cost=0.0,
            requests=0,
        ),
        TopUser(
            user_id=1,
            first_name="Ada",
            username="ada",
            tier=None,
            tokens=10,
            cost=0.5,
            requests=1,
        ),
    )


def test_top_users_refuses_a_negative_limit(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.top_users(since=0, limit=-1)


def test_setting_a_tier_returns_the_user_and_none_goes_back_to_the_default(
    store: Store,
) -> None:
    store.upsert_user(USER, first_name="Ada")

    assert store.set_user_tier(USER, "pro").tier == "pro"
    assert _usage(store).tier == "pro"
    assert store.set_user_tier(USER, None).tier is None


def test_setting_the_tier_of_an_unknown_user_is_record_not_found(store: Store) -> None:
    with pytest.raises(RecordNotFound) as caught:
        store.set_user_tier(999, "pro")

    assert (caught.value.table, caught.value.key) == ("users", 999)


def test_deleting_old_usage_keeps_what_is_newer_than_the_cutoff(
    store: Store, clock: FakeClock, db_path: Path
) -> None:
    _settle(store, "old", 1, 1)
    _reserve(store, "old-reserved", 1)
    clock.advance(60)
    _settle(store, "new", 1, 1)

    assert store.delete_usage_before(START + 30) == 2
    assert [row[0] for row in _rows(db_path)] == ["new"]


def test_the_ledger_and_tiers_survive_closing_and_reopening(
    db_path: Path, clock: FakeClock
) -> None:
    with Store.open(db_path, clock=clock) as store:
        store.upsert_user(USER, first_name="Ada")
        store.set_user_tier(USER, "pro")
        _reserve(store, "r1", 100)
        _settle(store, "r2", 3, 4, cost=0.25)

    with Store.open(db_path, clock=clock) as store:
        assert _usage(store) == UserUsage(
            user_id=USER,
            tier="pro",
            day=UsageTotals(tokens=107, cost=0.25, requests=1),
            month=UsageTotals(tokens=107, cost=0.25, requests=1),
        )


def test_concurrent_reservations_from_two_connections_cannot_overspend(
    db_path: Path, clock: FakeClock
) -> None:
    Store.open(db_path, clock=clock).close()  # migrate once, before the race
    limit, tokens, attempts = 1000, 7, 100
    start = threading.Barrier(2)
    results: dict[str, list[Reservation | BudgetExceeded]] = {}
    errors: list[BaseException] = []

    def hammer(name: str) -> None:
        try:
            with Store.open(db_path, clock=clock) as store:
                start.wait(timeout=10)
                results[name] = [
                    _reserve(store, f"{name}-{n}", tokens, daily_limit=limit, monthly_limit=limit)
                    for n in range(attempts)
                ]
        except BaseException as error:  # handed to the test thread below
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    granted = [r for rs in results.values() for r in rs if isinstance(r, Reservation)]
    assert len(granted) == limit // tokens
    with Store.open(db_path, clock=clock) as store:
        assert _usage(store).day.tokens == (limit // tokens) * tokens <= limit
