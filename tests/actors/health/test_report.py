"""Health in words: the /admin health page and the notice admins get on a change."""

from __future__ import annotations

import calendar

from actors.health.messages import ComponentView, HealthView, Kind, Overall, Status
from actors.health.report import render_change, render_health

NOON = float(calendar.timegm((2026, 11, 22, 12, 0, 0)))


def component(
    name: str,
    kind: Kind,
    status: Status = "ok",
    *,
    detail: str = "fine",
    in_a_row: int = 0,
    action: str = "",
) -> ComponentView:
    failed = status == "failing" or in_a_row > 0
    return ComponentView(
        name=name,
        kind=kind,
        status=status,
        detail=detail,
        failures_in_a_row=in_a_row,
        threshold=3,
        checked_at=NOON - 2,
        last_failure=detail if failed else "",
        last_failure_at=NOON - 2 if failed else None,
        last_action=action,
        last_action_at=NOON - 1 if action else None,
    )


def view(overall: Overall, *components: ComponentView) -> HealthView:
    return HealthView(
        overall=overall,
        announced=overall,
        since=NOON - 60,
        components=components,
        checked_at=NOON - 2,
    )


FAILING_DEEPSEEK = component(
    "deepseek",
    "provider",
    "failing",
    detail="circuit open; CircuitOpen: deepseek: suspended",
    in_a_row=4,
    action="opened its circuit",
)


def test_the_page_shows_the_state_and_every_component_with_its_detail() -> None:
    text = render_health(
        view(
            "degraded",
            component("storage", "storage", detail="wrote and read back a heartbeat (2 ms)"),
            FAILING_DEEPSEEK,
            component("tree", "tree"),
        ),
        NOON,
    )
    lines = text.splitlines()
    assert lines[0] == "Health: DEGRADED since 11:59:00 UTC (checked 2s ago)"
    assert lines[1] == "some part fails; chats are still answered"
    assert "storage: ok — wrote and read back a heartbeat (2 ms), 2s ago" in lines
    assert (
        "provider deepseek: FAILING — circuit open; CircuitOpen: deepseek: suspended"
        " (4 failed in a row, fails at 3), 2s ago"
    ) in lines
    assert "  last action 11:59:59: opened its circuit" in lines
    assert "actor tree: ok — fine, 2s ago" in lines


def test_a_recent_failure_below_the_threshold_shows_under_an_ok_component() -> None:
    text = render_health(view("healthy", component("telegram", "telegram", in_a_row=1)), NOON)
    assert "telegram: ok — fine (1 failed in a row, fails at 3), 2s ago" in text
    assert "  last failure 11:59:58: fine" in text


def test_a_page_before_any_check_says_so() -> None:
    empty = HealthView(
        overall="healthy", announced="healthy", since=NOON, components=(), checked_at=None
    )
    assert "(not checked yet)" in render_health(empty, NOON)


def test_the_notice_names_the_failing_component_and_the_action_taken() -> None:
    text = render_change(
        view("degraded", component("storage", "storage"), FAILING_DEEPSEEK), "healthy"
    )
    assert text.splitlines() == [
        "Health: DEGRADED (was healthy)",
        "some part fails; chats are still answered",
        "- provider deepseek: circuit open; CircuitOpen: deepseek: suspended",
        "  action: opened its circuit",
        "/admin health shows every component.",
    ]


def test_the_notice_of_a_recovery_says_healthy_again() -> None:
    text = render_change(view("healthy", component("deepseek", "provider")), "degraded")
    assert text.splitlines() == ["Health: HEALTHY again (was degraded)", "every check passes"]
