"""The ops endpoint's routes, served over real HTTP by a server that joins its threads."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http import HTTPStatus

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from actors.ops import BotCollector, OpsServer, Routes, metrics_registry
from runtime import ActorSnapshot, ActorSystem, SystemSnapshot
from tests.actors.ops.conftest import Bot, bot_spec, free_port


def routes_for(system: ActorSystem) -> Routes:
    collector = BotCollector(
        snapshot=system.snapshot,
        storage=system.address("/storage"),
        gateway=system.address("/io/gateway"),
    )
    return Routes(snapshot=system.snapshot, registry=metrics_registry(collector))


@pytest.fixture
def routes(bot: Bot) -> Routes:
    return routes_for(bot.system)


@pytest.fixture
def server(routes: Routes) -> Iterator[OpsServer]:
    ops = OpsServer("127.0.0.1", free_port(), routes=routes)
    ops.start()
    try:
        yield ops
    finally:
        ops.close()


def get(server: OpsServer, target: str, accept: str = "") -> tuple[int, str, bytes]:
    host, port = server.address
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", target, headers={"Accept": accept} if accept else {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def test_healthz_is_ok_while_the_system_runs(server: OpsServer) -> None:
    assert get(server, "/healthz") == (200, "text/plain; charset=utf-8", b"ok\n")


def test_healthz_is_503_before_the_system_has_started(system: ActorSystem) -> None:
    response = routes_for(system).get("/healthz")

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.body == b"actor system not started\n"


def test_readyz_is_ok_while_the_gateway_runs(server: OpsServer) -> None:
    assert get(server, "/readyz")[::2] == (200, b"ready\n")


def test_readyz_is_503_with_a_reason_when_there_is_no_gateway(system: ActorSystem) -> None:
    system.start(bot_spec(with_gateway=False))

    response = routes_for(system).get("/readyz")

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.body == b"not ready: no gateway at /io/gateway\n"


def test_debug_actors_is_the_whole_snapshot_as_json(server: OpsServer) -> None:
    status, content_type, body = get(server, "/debug/actors")

    assert (status, content_type) == (200, "application/json")
    snapshot = msgspec.json.decode(body, type=SystemSnapshot)
    gateway = snapshot.find("/io/gateway")
    assert gateway is not None
    assert gateway.state == "running"


def test_debug_actors_with_a_path_is_that_actor_alone(server: OpsServer) -> None:
    status, _, body = get(server, "/debug/actors?path=/io/gateway")

    assert status == 200
    node = msgspec.json.decode(body, type=ActorSnapshot)
    assert (node.path, node.actor_class) == ("/io/gateway", "FakeGateway")


def test_debug_actors_for_an_unknown_path_is_404_saying_so(server: OpsServer) -> None:
    status, _, body = get(server, "/debug/actors?path=/nope")

    assert status == 404
    assert msgspec.json.decode(body) == {"error": "no actor at /nope"}


def test_metrics_are_prometheus_text_and_openmetrics_on_request(server: OpsServer) -> None:
    status, content_type, body = get(server, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    families = {family.name for family in text_string_to_metric_families(body.decode())}
    assert {"bot_actor_mailbox_depth", "bot_dead_letters", "bot_llm_requests"} <= families

    _, content_type, body = get(server, "/metrics", accept="application/openmetrics-text")
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_an_unknown_page_is_404(server: OpsServer) -> None:
    assert get(server, "/admin")[::2] == (404, b"no such page: /admin\n")


def test_a_request_that_fails_is_answered_500_and_the_server_keeps_serving(bot: Bot) -> None:
    calls = []

    def snapshot() -> SystemSnapshot:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("broken")
        return bot.system.snapshot()

    routes = Routes(snapshot=snapshot, registry=CollectorRegistry())
    ops = OpsServer("127.0.0.1", free_port(), routes=routes)
    ops.start()
    try:
        assert get(ops, "/healthz")[0] == 500
        assert get(ops, "/healthz")[::2] == (200, b"ok\n")
    finally:
        ops.close()


def test_closing_joins_every_thread_and_frees_the_port(routes: Routes) -> None:
    before = set(threading.enumerate())
    port = free_port()
    ops = OpsServer("127.0.0.1", port, routes=routes)
    ops.start()
    assert get(ops, "/healthz")[0] == 200
    ops.close()
    ops.close()  # idempotent

    assert [t for t in threading.enumerate() if t not in before] == []
    again = OpsServer("127.0.0.1", port, routes=routes)
    again.start()
    again.close()


def test_a_port_in_use_cannot_be_bound(server: OpsServer, routes: Routes) -> None:
    host, port = server.address
    with pytest.raises(OSError, match="in use"):
        OpsServer(host, port, routes=routes).start()


def test_a_server_starts_once(server: OpsServer) -> None:
    with pytest.raises(RuntimeError, match="started already"):
        server.start()
