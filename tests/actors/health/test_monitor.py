"""The health rules, on a fake clock: thresholds, the overall state, the debounce, probes."""

from __future__ import annotations

import pytest

from actors.health.messages import ComponentView, Kind, Overall, Status
from actors.health.monitor import (
    CheckSpec,
    Debouncer,
    HealthMonitor,
    overall_state,
    wants_open_circuit,
)


class FakeClock:
    """Both clocks of the monitor: ``now`` seconds, moved by the test."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


CHECKS = (
    CheckSpec(name="storage", kind="storage", interval=10.0, threshold=3),
    CheckSpec(name="telegram", kind="telegram", interval=10.0, threshold=3),
    CheckSpec(name="deepseek", kind="provider", interval=10.0, threshold=3),
    CheckSpec(name="gemini", kind="provider", interval=10.0, threshold=3),
    CheckSpec(name="tree", kind="tree", interval=10.0, threshold=3),
    CheckSpec(name="process", kind="process", interval=10.0, threshold=3),
)


def monitor(clock: FakeClock, debounce: float = 60.0) -> HealthMonitor:
    return HealthMonitor(CHECKS, debounce=debounce, clock=clock, monotonic=clock)


def overall(health: HealthMonitor) -> Overall:
    """Read afresh each time (mypy would keep a property's narrowed value between calls)."""
    return health.overall


def fail(health: HealthMonitor, name: str, times: int = 3) -> None:
    for _ in range(times):
        health.record(name, ok=False, detail="broken")


def component(name: str, kind: Kind, status: Status) -> ComponentView:
    return ComponentView(
        name=name,
        kind=kind,
        status=status,
        detail="",
        failures_in_a_row=0,
        threshold=3,
        checked_at=None,
        last_failure="",
        last_failure_at=None,
        last_action="",
        last_action_at=None,
    )


def test_a_component_fails_only_after_threshold_failures_in_a_row() -> None:
    health = monitor(FakeClock())
    health.record("deepseek", ok=True, detail="fine")

    fail(health, "deepseek", times=2)
    assert health.component("deepseek").status == "ok"
    assert health.component("deepseek").failures_in_a_row == 2
    assert overall(health) == "healthy"

    fail(health, "deepseek", times=1)
    assert health.component("deepseek").status == "failing"
    assert overall(health) == "degraded"


def test_a_success_between_failures_starts_the_count_again() -> None:
    health = monitor(FakeClock())
    fail(health, "tree", times=2)
    health.record("tree", ok=True, detail="fine")
    fail(health, "tree", times=2)

    assert health.component("tree").status == "ok"
    assert health.component("tree").last_failure == "broken"


def test_one_success_makes_a_failing_component_ok_again() -> None:
    health = monitor(FakeClock())
    fail(health, "process")
    health.record("process", ok=True, detail="RSS 50 MB")

    view = health.component("process")
    assert (view.status, view.failures_in_a_row, view.detail) == ("ok", 0, "RSS 50 MB")
    assert overall(health) == "healthy"


@pytest.mark.parametrize("name", ["storage", "telegram"])
def test_storage_or_telegram_failing_makes_the_bot_unhealthy(name: str) -> None:
    health = monitor(FakeClock())
    fail(health, name)
    assert overall(health) == "unhealthy"


def test_one_provider_failing_degrades_and_every_provider_failing_is_unhealthy() -> None:
    health = monitor(FakeClock())
    fail(health, "deepseek")
    assert overall(health) == "degraded"
    fail(health, "gemini")
    assert overall(health) == "unhealthy"


@pytest.mark.parametrize("name", ["tree", "process"])
def test_the_tree_or_the_process_failing_degrades(name: str) -> None:
    health = monitor(FakeClock())
    fail(health, name)
    assert overall(health) == "degraded"


def test_components_not_checked_yet_count_as_ok() -> None:
    views = [
        component("storage", "storage", "unknown"),
        component("deepseek", "provider", "unknown"),
        component("tree", "tree", "ok"),
    ]
    assert overall_state(views) == "healthy"


def test_with_no_provider_configured_the_providers_do_not_make_it_unhealthy() -> None:
    assert overall_state([component("storage", "storage", "ok")]) == "healthy"


def test_a_new_state_is_announced_only_after_holding_for_the_debounce() -> None:
    clock = FakeClock()
    health = monitor(clock, debounce=60.0)
    fail(health, "deepseek")

    assert health.to_announce() is None
    clock.now += 59.0
    assert health.to_announce() is None
    clock.now += 1.0
    assert health.to_announce() == "degraded"
    assert health.to_announce() is None  # announced once
    assert health.view().announced == "degraded"


def test_a_flap_back_within_the_debounce_announces_nothing() -> None:
    clock = FakeClock()
    health = monitor(clock, debounce=60.0)
    fail(health, "deepseek")
    assert health.to_announce() is None
    clock.now += 30.0
    health.record("deepseek", ok=True, detail="fine")
    assert health.to_announce() is None

    clock.now += 120.0
    assert health.to_announce() is None
    assert health.view().announced == "healthy"


def test_a_recovery_is_announced_after_the_debounce_too() -> None:
    clock = FakeClock()
    health = monitor(clock, debounce=10.0)
    fail(health, "telegram")
    health.to_announce()
    clock.now += 10.0
    assert health.to_announce() == "unhealthy"

    health.record("telegram", ok=True, detail="fine")
    assert health.to_announce() is None
    clock.now += 10.0
    assert health.to_announce() == "healthy"


def test_the_debounce_restarts_when_the_pending_state_changes() -> None:
    debouncer = Debouncer(10.0)
    assert debouncer.observe("degraded", 0.0) is None
    assert debouncer.observe("unhealthy", 8.0) is None
    assert debouncer.observe("unhealthy", 17.0) is None
    assert debouncer.observe("unhealthy", 18.0) == "unhealthy"


def test_no_debounce_announces_each_change_at_once() -> None:
    debouncer = Debouncer(0.0)
    states: list[Overall] = ["degraded", "degraded", "healthy"]
    assert [debouncer.observe(state, 0.0) for state in states] == ["degraded", None, "healthy"]


def test_a_check_is_due_once_per_interval_and_not_while_its_probe_is_out() -> None:
    clock = FakeClock()
    health = monitor(clock)
    assert health.due() == health.names  # everything at the start
    assert health.due() == ()
    health.sent("storage", "p1")

    clock.now += 10.0
    assert "storage" not in health.due()
    health.record("storage", ok=True, detail="fine", probe_id="p1")
    assert health.due() == ("storage",)


def test_a_probe_without_an_answer_past_the_timeout_counts_as_a_failed_check() -> None:
    clock = FakeClock()
    health = monitor(clock)
    health.sent("telegram", "p1")
    clock.now += 5.0
    assert health.overdue(5.0) == ()

    clock.now += 0.1
    assert health.overdue(5.0) == ("telegram",)
    view = health.component("telegram")
    assert (view.failures_in_a_row, view.last_failure) == (1, "no answer within 5s")
    assert health.overdue(5.0) == ()  # counted once


def test_a_late_answer_to_a_timed_out_probe_is_ignored() -> None:
    clock = FakeClock()
    health = monitor(clock)
    health.sent("storage", "p1")
    clock.now += 6.0
    health.overdue(5.0)

    assert health.record("storage", ok=True, detail="late", probe_id="p1") is None
    assert health.component("storage").failures_in_a_row == 1


def test_actions_and_times_show_in_the_view() -> None:
    clock = FakeClock(now=5_000.0)
    health = monitor(clock)
    fail(health, "deepseek")
    health.acted("deepseek", "opened its circuit")

    view = health.view()
    deepseek = next(c for c in view.components if c.name == "deepseek")
    assert (deepseek.last_action, deepseek.last_action_at) == ("opened its circuit", 5_000.0)
    assert (view.overall, view.since, view.checked_at) == ("degraded", 5_000.0, 5_000.0)


def test_two_checks_with_one_name_are_refused() -> None:
    spec = CheckSpec(name="storage", kind="storage", interval=1.0, threshold=1)
    with pytest.raises(ValueError, match="storage"):
        HealthMonitor((spec, spec), debounce=0.0)


def test_the_circuit_is_opened_only_for_a_failing_provider_whose_circuit_is_closed() -> None:
    failing = component("deepseek", "provider", "failing")
    assert wants_open_circuit(failing, "closed")
    assert not wants_open_circuit(failing, "open")
    assert not wants_open_circuit(failing, "half-open")
    assert not wants_open_circuit(component("deepseek", "provider", "ok"), "closed")
    assert not wants_open_circuit(component("storage", "storage", "failing"), "closed")
