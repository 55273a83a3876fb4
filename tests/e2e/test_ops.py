"""The ops endpoint of the real bot: health, readiness, metrics, the actor tree, inspect."""

from __future__ import annotations

import http.client
import socket
import time

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runtime import ActorSnapshot, SystemSnapshot
from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator

Labels = tuple[tuple[str, str], ...]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def port(bot_process: BotProcess) -> int:
    """The port the bot's ops endpoint is configured to listen on."""
    chosen = free_port()
    bot_process.configure("ops", listen=f"127.0.0.1:{chosen}")
    return chosen


def get(port: int, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for(port: int, target: str, status: int = 200, timeout: float = 20.0) -> bytes:
    """GET ``target`` until it answers ``status`` (the endpoint starts after the gateway)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            answered, body = get(port, target)
        except OSError as exc:
            last = exc
        else:
            if answered == status:
                return body
            last = (answered, body)
        time.sleep(0.05)
    raise AssertionError(f"GET {target} did not answer {status}; last: {last!r}")


def scrape(port: int) -> dict[tuple[str, Labels], float]:
    text = wait_for(port, "/metrics").decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_and_readyz_answer_200_once_the_bot_polls(
    bot_process: BotProcess, port: int
) -> None:
    bot_process.start()

    assert wait_for(port, "/healthz") == b"ok\n"
    assert wait_for(port, "/readyz") == b"ready\n"


def test_metrics_show_one_chat_exchange_with_sessions_summed(
    bot_process: BotProcess, port: int, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.start()
    approve(telegram, alice, admin)
    telegram.send_text(alice, "hello")
    telegram.wait_for_message(alice.id, containing="Echo: hello")

    ok = ("bot_llm_requests_total", (("provider", "deepseek"), ("status", "ok")))
    deadline = time.monotonic() + 10
    while (samples := scrape(port)).get(ok, 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)  # the request is logged by a tell to storage after the answer is shown

    names = {name for name, _ in samples}
    assert {
        "bot_actor_mailbox_depth",
        "bot_actor_messages_processed_total",
        "bot_actor_failures_total",
        "bot_actor_restarts_total",
        "bot_pool_members_alive",
        "bot_dead_letters_total",
        "bot_actors_alive",
        "bot_telegram_updates_received_total",
        "bot_telegram_messages_sent_total",
        "bot_llm_requests_total",
        "bot_llm_tokens_total",
        "bot_llm_request_duration_seconds",
        "bot_metrics_source_up",
    } <= names
    assert samples[ok] == 1
    assert samples[("bot_telegram_updates_received_total", ())] >= 3  # /start, Approve, hello
    assert samples[("bot_telegram_messages_sent_total", ())] >= 3
    assert samples[("bot_llm_tokens_total", (("direction", "out"),))] > 0
    duration = (
        "bot_llm_request_duration_seconds",
        (("provider", "deepseek"), ("quantile", "0.5")),
    )
    assert 0 < samples[duration] < 10
    assert samples[("bot_pool_members_alive", (("path", "/sessions/*"),))] == 2  # Ada, Alice
    assert samples[("bot_actor_messages_processed_total", (("path", "/storage"),))] > 0
    assert not any(f"/sessions/{alice.id}" in str(labels) for _, labels in samples)
    assert samples[("bot_metrics_source_up", (("source", "storage"),))] == 1
    assert samples[("bot_metrics_source_up", (("source", "gateway"),))] == 1


def test_debug_actors_is_the_live_tree_as_json(bot_process: BotProcess, port: int) -> None:
    bot_process.start()

    snapshot = msgspec.json.decode(wait_for(port, "/debug/actors"), type=SystemSnapshot)
    gateway = snapshot.find("/io/gateway")
    assert gateway is not None
    assert gateway.actor_class == "Gateway"

    one = msgspec.json.decode(wait_for(port, "/debug/actors?path=/io/gateway"), type=ActorSnapshot)
    assert (one.path, one.state) == ("/io/gateway", "running")


def test_inspect_prints_the_table_and_one_actor(bot_process: BotProcess, port: int) -> None:
    bot_process.start()
    wait_for(port, "/metrics")  # a scrape asks the gateway for its counters: one message

    table = bot_process.run_once("inspect")
    assert table.returncode == 0, table.stderr
    header = next(line for line in table.stdout.splitlines() if line.startswith("path"))
    assert header.split() == [
        "path", "state", "mailbox", "processed", "failures", "restarts", "p99", "ms",
    ]  # fmt: skip
    gateway = next(line for line in table.stdout.splitlines() if "/io/gateway" in line)
    assert gateway.split()[1] == "running"

    one = bot_process.run_once("inspect", "/io/gateway")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("/io/gateway (Gateway, actor)")
    assert "CountTraffic" in one.stdout.split("recent messages:")[1]


def test_inspect_against_a_dead_port_exits_1_with_one_clear_line(
    bot_process: BotProcess, port: int
) -> None:
    result = bot_process.run_once("inspect")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"cannot reach the bot's ops endpoint at 127.0.0.1:{port}: connection refused"
        " — is the bot running with [ops] listen set?"
    )


def test_stopping_the_bot_closes_the_endpoint(bot_process: BotProcess, port: int) -> None:
    bot_process.start()
    wait_for(port, "/healthz")

    assert bot_process.stop() == 0
    with pytest.raises(ConnectionRefusedError):
        get(port, "/healthz")
