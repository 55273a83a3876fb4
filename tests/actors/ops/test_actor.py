"""The ops actor owns its server: started with it, closed with it, never fatal to the bot."""

from __future__ import annotations

import functools
import http.client
import socket

from actors.config import OpsConfig
from actors.ops import OpsActor
from runtime import ActorSystem, ChildSpec, SupervisorSpec
from tests.actors.ops.conftest import bot_spec, free_port
from tests.runtime.fakes import LogCapture


def with_ops(system: ActorSystem, listen: str) -> SupervisorSpec:
    spec = bot_spec()
    ops = ChildSpec(
        name="ops",
        factory=functools.partial(
            OpsActor,
            config=OpsConfig(listen=listen),
            snapshot=system.snapshot,
            storage=system.address("/storage"),
            gateway=system.address("/io/gateway"),
        ),
    )
    return SupervisorSpec(children=(*spec.children, ops))


def status_of(port: int, target: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", target)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_endpoint_serves_while_the_actor_runs_and_is_gone_after_shutdown(
    system: ActorSystem, logs: LogCapture
) -> None:
    port = free_port()
    system.start(with_ops(system, f"127.0.0.1:{port}"))
    logs.wait_for(f"ops endpoint on http://127.0.0.1:{port}")

    assert status_of(port, "/healthz") == 200
    assert status_of(port, "/readyz") == 200

    system.shutdown()  # the fixture then checks that no thread is left
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_port_in_use_leaves_the_endpoint_off_and_the_bot_running(
    system: ActorSystem, logs: LogCapture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        system.start(with_ops(system, f"127.0.0.1:{port}"))

        line = logs.wait_for("ops endpoint off")
        assert f"cannot listen on 127.0.0.1:{port}" in line
        assert line.startswith("ERROR")
        node = system.snapshot().find("/ops")
        assert node is not None
        assert node.state == "running"


def test_an_empty_listen_starts_no_server(system: ActorSystem, logs: LogCapture) -> None:
    system.start(with_ops(system, ""))

    assert logs.matching("ops endpoint") == []
