"""``main.py inspect``: the tree as a table, one actor in detail, and a clear line on failure."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from actors.config import OpsConfig
from actors.ops import InspectError, OpsServer, Routes, inspect, render_detail, render_table
from actors.ops.metrics import BotCollector, metrics_registry
from tests.actors.ops.conftest import Bot, free_port


@pytest.fixture
def listening(bot: Bot) -> Iterator[OpsConfig]:
    """The fake bot's ops endpoint, running; its [ops] section."""
    collector = BotCollector(snapshot=bot.system.snapshot, storage=bot.storage, gateway=bot.gateway)
    routes = Routes(snapshot=bot.system.snapshot, registry=metrics_registry(collector))
    server = OpsServer("127.0.0.1", free_port(), routes=routes)
    server.start()
    try:
        yield OpsConfig(listen=f"127.0.0.1:{server.address[1]}")
    finally:
        server.close()


def test_the_table_has_one_row_per_address_and_one_per_pool_for_its_members(bot: Bot) -> None:
    bot.chat(1, 2)

    table = render_table(bot.system.snapshot())

    lines = table.splitlines()
    assert lines[0].endswith("0 dead letters")
    assert lines[2].split() == [
        "path",
        "state",
        "mailbox",
        "processed",
        "failures",
        "restarts",
        "p99",
        "ms",
    ]
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert set(rows) == {"/", "/storage", "/sessions", "/sessions/*", "/io", "/io/gateway"}
    assert rows["/sessions/*"][1:3] == ["(2", "alive)"]
    assert rows["/sessions/*"][5] == "2"  # messages processed by both sessions
    assert rows["/io/gateway"][1] == "running"


def test_the_detail_shows_the_figures_and_recent_message_types(bot: Bot) -> None:
    bot.chat(7)
    node = bot.system.snapshot().find("/sessions/7")
    assert node is not None

    detail = render_detail(node)

    assert detail.startswith("/sessions/7 (Chat, actor)")
    assert "processed: 1" in detail
    assert "Hello" in detail.split("recent messages:")[1]


def test_a_pool_in_detail_lists_its_members(bot: Bot) -> None:
    bot.chat(1, 2)
    node = bot.system.snapshot().find("/sessions")
    assert node is not None

    assert "members: /sessions/1, /sessions/2" in render_detail(node)


def test_inspect_prints_the_table_read_from_the_endpoint(listening: OpsConfig) -> None:
    out = io.StringIO()

    assert inspect(listening, None, out) == 0
    assert "/io/gateway" in out.getvalue()
    assert "p99 ms" in out.getvalue()


def test_inspect_with_a_path_prints_that_actor(listening: OpsConfig) -> None:
    out = io.StringIO()

    assert inspect(listening, "/io/gateway", out) == 0
    assert out.getvalue().startswith("/io/gateway (FakeGateway, actor)")


def test_inspect_with_an_unknown_path_says_there_is_no_such_actor(listening: OpsConfig) -> None:
    with pytest.raises(InspectError, match=r"^no actor at /nope$"):
        inspect(listening, "/nope", io.StringIO())


def test_inspect_says_clearly_when_the_endpoint_cannot_be_reached() -> None:
    port = free_port()

    with pytest.raises(InspectError) as caught:
        inspect(OpsConfig(listen=f"127.0.0.1:{port}"), None, io.StringIO())

    assert str(caught.value) == (
        f"cannot reach the bot's ops endpoint at 127.0.0.1:{port}: connection refused"
        " — is the bot running with [ops] listen set?"
    )


def test_inspect_says_when_the_endpoint_is_turned_off() -> None:
    with pytest.raises(InspectError, match=r'the ops endpoint is off \(\[ops\] listen = ""\)'):
        inspect(OpsConfig(listen=""), None, io.StringIO())
