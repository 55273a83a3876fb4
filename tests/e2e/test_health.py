"""The health supervisor of the real bot: notices to admins on a change, and /admin health."""

from __future__ import annotations

import time

import pytest

from tests.e2e.harness import BotProcess, approve
from tests.e2e.test_ops import free_port, scrape, wait_for
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator


@pytest.fixture
def health(bot_process: BotProcess) -> BotProcess:
    """Checks every half second, failing at two in a row, announced after a second."""
    bot_process.configure(
        "health",
        interval_seconds=0.5,
        failure_threshold=2,
        notify_debounce_seconds=1.0,
        probe_timeout_seconds=3.0,
    )
    # The breaker would open by itself after 5 failed calls; make it wait for the supervisor.
    return bot_process.configure(
        "providers.deepseek", circuit_failure_threshold=50, circuit_reset_seconds=1.0
    )


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text``; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def test_admins_hear_degraded_naming_the_failing_provider_then_healthy_again(
    health: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    health.start()
    for _ in range(500):  # every model listing fails until the script is reset
        health.deepseek.error(500, on="models")

    [degraded] = telegram.wait_for_message(admin.id, containing="Health: DEGRADED", timeout=15)
    assert degraded.text.splitlines()[0] == "Health: DEGRADED (was healthy)"
    assert "- provider deepseek: circuit " in degraded.text
    assert "action: opened its circuit" in degraded.text
    assert "gemini" not in degraded.text  # the other provider is fine

    health.deepseek.reset()
    [healthy] = telegram.wait_for_message(admin.id, containing="Health: HEALTHY", timeout=15)
    assert healthy.text.splitlines()[0] == "Health: HEALTHY again (was degraded)"
    assert health.log_lines("health: provider deepseek is failing")
    assert health.log_lines("deepseek: circuit opened by the health supervisor")


def test_admin_health_shows_every_component_and_non_admins_are_refused(
    health: BotProcess, telegram: TelegramEmulator, admin: SimUser, alice: SimUser
) -> None:
    health.start()
    approve(telegram, alice, admin)

    def page() -> str:
        return say(telegram, admin, "/admin health", "Health: ").text

    text = page()
    while "not checked yet" in text:  # the first checks run right after the start
        text = page()
    lines = text.splitlines()
    assert lines[0].startswith("Health: HEALTHY since ")
    assert lines[1] == "every check passes"
    for start in (
        "storage: ok — wrote and read back a heartbeat",
        "telegram: ok — getMe: @",
        "provider deepseek: ok — circuit closed; 2 models listed",
        "provider gemini: ok — circuit closed;",
        "actor tree: ok — ",
        "process: ok — RSS ",
    ):
        assert any(line.startswith(start) for line in lines), (start, lines)

    say(telegram, alice, "/admin health", "admins only")
    assert not [m for m in telegram.bot_messages(alice.id) if "Health:" in m.text]


def test_metrics_show_the_health_state_and_each_component(health: BotProcess) -> None:
    port = free_port()
    health.configure("ops", listen=f"127.0.0.1:{port}")
    health.start()

    deadline = time.monotonic() + 10
    storage_up = ("bot_health_component_up", (("component", "storage"), ("kind", "storage")))
    while (samples := scrape(port)).get(storage_up) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)  # until the first checks have answered

    assert samples[("bot_health_status", (("state", "healthy"),))] == 1
    assert samples[("bot_health_status", (("state", "unhealthy"),))] == 0
    for name, kind in (
        ("storage", "storage"),
        ("telegram", "telegram"),
        ("deepseek", "provider"),
        ("gemini", "provider"),
        ("tree", "tree"),
        ("process", "process"),
    ):
        assert samples[("bot_health_component_up", (("component", name), ("kind", kind)))] == 1
    assert samples[("bot_metrics_source_up", (("source", "health"),))] == 1
    assert wait_for(port, "/readyz") == b"ready\n"
