"""The session's side of budgets, against a real storage actor on a temporary database."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.chat.spending import Charge, Spending
from actors.storage import GetUsage, RegisterUser, SetUserTier, StorageActor
from actors.usage import Tier, UsagePolicy
from runtime import ActorSystem, Address, ChildSpec, SupervisorSpec
from storage import UserUsage

ADMIN, ALICE = 1000, 2001
POLICY = UsagePolicy(
    tiers={
        "free": Tier(
            name="free", title="Free", daily_tokens=1000, monthly_tokens=None, models=("a/*",)
        ),
        "vip": Tier(name="vip", title="VIP", daily_tokens=None, monthly_tokens=None, models=()),
    },
    default_tier="free",
    reserve_output_tokens=400,
)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Address]:
    system = ActorSystem()
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(name="storage", factory=partial(StorageActor, path=tmp_path / "b.db")),
            )
        )
    )
    address = system.address("/storage")
    address.ask(
        RegisterUser(user_id=ALICE, first_name="Alice", username=None, initial_state="active"),
        timeout=5,
    )
    try:
        yield address
    finally:
        system.shutdown()


def spending(storage: Address, policy: UsagePolicy = POLICY) -> Spending:
    return Spending(policy, storage, admin_ids=frozenset({ADMIN}), storage_timeout=5.0)


def used_today(storage: Address, user_id: int) -> int:
    usage: UserUsage = storage.ask(
        GetUsage(user_id=user_id, day_start=0.0, month_start=0.0), timeout=5
    )
    return usage.day.tokens


def test_requests_are_refused_once_their_reservations_would_pass_the_budget(
    storage: Address,
) -> None:
    desk = spending(storage)
    first = desk.charge_for("r1", ALICE, "a", "m")
    second = desk.charge_for("r2", ALICE, "a", "m")
    third = desk.charge_for("r3", ALICE, "a", "m")

    assert desk.reserve(first, 50) is None
    assert desk.reserve(second, 50) is None
    refusal = desk.reserve(third, 50)

    assert refusal is not None
    assert "daily budget" in refusal
    assert used_today(storage, ALICE) == 900


def test_settling_replaces_the_reservation_with_the_real_figures(storage: Address) -> None:
    desk = spending(storage)
    charge = desk.charge_for("r1", ALICE, "a", "m")
    desk.reserve(charge, 50)

    storage.tell(desk.settlement(charge, 30, 20))

    assert used_today(storage, ALICE) == 50


def test_a_released_reservation_no_longer_counts(storage: Address) -> None:
    desk = spending(storage)
    charge = desk.charge_for("r1", ALICE, "a", "m")
    desk.reserve(charge, 50)

    desk.release(charge)

    assert used_today(storage, ALICE) == 0


def test_a_model_outside_the_tier_is_refused_and_not_offered(storage: Address) -> None:
    desk = spending(storage)

    refusal = desk.reserve(desk.charge_for("r1", ALICE, "b", "m"), 10)

    assert refusal is not None
    assert "can't use b · m" in refusal
    assert desk.model_filter(ALICE)("a", "anything")
    assert not desk.model_filter(ALICE)("b", "m")
    assert used_today(storage, ALICE) == 0


def test_a_tier_change_applies_to_the_next_request(storage: Address) -> None:
    desk = spending(storage)
    storage.ask(SetUserTier(user_id=ALICE, tier="vip"), timeout=5)

    charge = desk.charge_for("r1", ALICE, "b", "m")

    assert charge.tier == "vip"
    assert desk.reserve(charge, 5000) is None


def test_admins_are_counted_but_never_refused(storage: Address) -> None:
    desk = spending(storage)
    charge = desk.charge_for("r1", ADMIN, "b", "m")

    assert desk.reserve(charge, 50_000) is None
    assert desk.model_filter(ADMIN)("b", "m")
    assert used_today(storage, ADMIN) == 50_400
    assert "no limits" in desk.report(ADMIN)


def test_without_tiers_nothing_is_reserved_but_settling_still_counts(storage: Address) -> None:
    desk = spending(storage, UsagePolicy.unlimited())
    charge = desk.charge_for("r1", ALICE, "any", "model")

    assert desk.reserve(charge, 10**9) is None
    assert used_today(storage, ALICE) == 0
    storage.tell(desk.settlement(charge, 30, 20))
    assert used_today(storage, ALICE) == 50


def test_an_answer_for_a_crashed_incarnation_settles_its_reservation(storage: Address) -> None:
    desk = spending(storage)
    desk.reserve(Charge(request_id="r1", user_id=ALICE, tier="free", provider="a", model="m"), 50)

    desk.settle_unowned("r1", "a", "m", 30, 20, fallback_user=ALICE)

    assert used_today(storage, ALICE) == 50
