from __future__ import annotations

import asyncio
import copy
import socket
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from httpcore._async.connection_pool import AsyncPoolRequest
from hypothesis import given
from hypothesis import strategies as st

from actors.http_pool import (
    OnePassConnectionPool,
    PooledTransport,
    SocketKeepingStream,
    is_readable,
    readable_of,
)


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, close_after: float
) -> None:
    """Answer one HTTP/1.1 request with keep-alive, then hang up while the client idles."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    await asyncio.sleep(close_after)
    writer.close()
    await writer.wait_closed()


async def _answer_ok(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    delay: float = 0.0,
    hang_up: bool = False,
) -> None:
    """Answer each request on a keep-alive connection, ``delay`` seconds late; with
    ``hang_up``, close the connection after the first answer."""
    while True:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        await asyncio.sleep(delay)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if hang_up:
            writer.close()
            return


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def scenario() -> tuple[list[int], int]:
        connections = 0

        handlers: list[asyncio.Task[None]] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            await _serve(reader, writer, close_after=0.05)

        def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            handlers.append(asyncio.ensure_future(serve(reader, writer)))

        server = await asyncio.start_server(count, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        async with server, httpx.AsyncClient(transport=PooledTransport(limits=limits)) as client:
            first = await client.get(f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.2)  # the server has hung up on the idle connection
            second = await client.get(f"http://127.0.0.1:{port}/")
        await asyncio.gather(*handlers)
        return [first.status_code, second.status_code], connections

    statuses, connections = asyncio.run(scenario())
    assert statuses == [200, 200]
    assert connections == 2


def test_an_idle_connection_is_reused_through_the_socket_keeping_stream() -> None:
    async def scenario() -> tuple[int, list[type]]:
        connections = 0
        served: list[asyncio.StreamWriter] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            served.append(writer)
            await _answer_ok(reader, writer)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = PooledTransport(limits=httpx.Limits(max_connections=4))
        async with server, httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                assert (await client.get(f"http://127.0.0.1:{port}/")).text == "ok"
            pool = transport._pool  # which stream the pool really holds
            streams = [type(c._connection._network_stream) for c in pool.connections]  # type: ignore[attr-defined]
        for writer in served:
            writer.close()
            await writer.wait_closed()
        return connections, streams

    connections, streams = asyncio.run(scenario())
    assert connections == 1
    assert streams == [SocketKeepingStream]


def test_a_socket_is_readable_once_its_peer_has_closed_it() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert not is_readable(left)
        right.close()
        assert is_readable(left)


def test_a_socket_that_is_gone_counts_as_readable() -> None:
    gone = socket.socket()
    gone.close()
    assert is_readable(gone)
    assert is_readable(None)


def test_one_poll_tells_which_sockets_their_peers_have_closed() -> None:
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        pairs[1][1].close()
        ours = [left for left, _ in pairs]
        assert readable_of(ours) == {pairs[1][0].fileno()}
        assert [is_readable(sock) for sock in ours] == [False, True, False]
    finally:
        for left, right in pairs:
            left.close()
            right.close()


def test_of_several_idle_connections_those_the_server_closed_go_and_the_live_one_is_reused() -> (
    None
):
    async def scenario() -> tuple[int, list[int], int]:
        opened = 0
        served: list[asyncio.StreamWriter] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal opened
            opened += 1
            keep = opened == 1  # the first connection stays up, the others are hung up on
            served.append(writer)
            # Slow enough that the first three calls overlap, each on a connection.
            await _answer_ok(reader, writer, delay=0.05, hang_up=not keep)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = PooledTransport(limits=httpx.Limits(max_connections=4))
        async with server, httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port}/"
            first = await asyncio.gather(*(client.get(url) for _ in range(3)))
            await asyncio.sleep(0.1)  # two idle connections now read EOF
            again = await client.get(url)
            held = len(transport._pool.connections)
        for writer in served:
            writer.close()
            await writer.wait_closed()
        return opened, [r.status_code for r in (*first, again)], held

    opened, statuses, held = asyncio.run(scenario())
    assert statuses == [200, 200, 200, 200]
    assert opened == 3  # the last call went over the live one: nothing new was opened
    assert held == 1


@dataclass
class _FakeConnection:
    """A pooled connection in a given state, for the pool's bookkeeping alone."""

    name: str
    origin: str
    closed: bool = False
    expired: bool = False
    idle: bool = False
    available: bool = False

    def is_closed(self) -> bool:
        return self.closed

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        return self.idle

    def is_available(self) -> bool:
        return self.available

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin.host.decode() == self.origin


class _Upstream(httpcore.AsyncConnectionPool):
    def create_connection(self, origin: httpcore.Origin) -> Any:
        return _FakeConnection(name=f"new-{origin.host.decode()}", origin=origin.host.decode())


class _OnePass(OnePassConnectionPool):
    create_connection = _Upstream.create_connection


_connections = st.lists(
    st.builds(
        _FakeConnection,
        name=st.just(""),
        origin=st.sampled_from(["a", "b"]),
        closed=st.booleans(),
        expired=st.booleans(),
        idle=st.booleans(),
        available=st.booleans(),
    ),
    max_size=12,
)


def _bookkeeping(
    pool_type: type[httpcore.AsyncConnectionPool],
    connections: list[_FakeConnection],
    origins: list[str],
    max_connections: int,
    max_keepalive: int,
) -> tuple[list[str], list[str], list[str | None]]:
    """What the pool keeps, what it closes, and where each queued request goes."""

    async def run() -> tuple[list[str], list[str], list[str | None]]:
        pool = pool_type(max_connections=max_connections, max_keepalive_connections=max_keepalive)
        pool._connections = [copy.copy(c) for c in connections]  # type: ignore[misc]
        requests = [AsyncPoolRequest(httpcore.Request("GET", f"http://{o}/")) for o in origins]
        pool._requests = requests
        closing = pool._assign_requests_to_connections()
        names = [c.name for c in pool._connections]  # type: ignore[attr-defined]
        closed = [c.name for c in closing]  # type: ignore[attr-defined]
        assigned = [getattr(r.connection, "name", None) for r in requests]
        return names, closed, assigned

    return asyncio.run(run())


@given(
    _connections,
    st.lists(st.sampled_from(["a", "b"]), max_size=5),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=0, max_value=8),
)
def test_the_one_pass_pool_decides_as_httpcore_does(
    connections: list[_FakeConnection], origins: list[str], max_connections: int, keepalive: int
) -> None:
    for index, connection in enumerate(connections):
        connection.name = f"c{index}"
    assert _bookkeeping(_OnePass, connections, origins, max_connections, keepalive) == (
        _bookkeeping(_Upstream, connections, origins, max_connections, keepalive)
    )
