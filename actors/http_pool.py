"""httpx's transport with cheaper bookkeeping of pooled connections.

Each time a request starts or ends, httpcore's connection pool (1.0) looks over every
connection it holds, and it does so in two costly ways:

- it asks every idle connection whether the server has closed it
  (``get_extra_info("is_readable")``); over anyio that lookup builds a dict of attribute
  getters per call before it polls the socket;
- to decide whether an idle connection is one too many, it builds a list of all the
  connections for *each* idle one: with a hundred connections to an LLM, ten thousand calls
  per request started or ended.

In a burst the two were about a quarter of the event loop's time, in a plain
python-telegram-bot bot as much as in ours (upstream: encode/httpcore#924, #928). Here the
streams keep their socket from the connect, one ``poll`` of all of them answers a pass's
questions (a system call per idle connection was still ~15 calls an update), and the pool
does the same bookkeeping in one pass; the decisions are httpcore's, unchanged.

One ``PooledTransport`` serves the Telegram gateway's calls and one each LLM provider's
client; the ``httpx.AsyncClient`` that gets it owns it and closes it.
"""

from __future__ import annotations

import contextlib
import select
import ssl
import typing
import weakref
from collections.abc import Iterable, Iterator

import httpcore
import httpx

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Socket(typing.Protocol):
    """A socket, or asyncio's stand-in for one (``TransportSocket``)."""

    def fileno(self) -> int: ...


def is_readable(sock: _Socket | None) -> bool:
    """True if ``sock`` has data or EOF waiting (or is gone): an idle connection is done."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def readable_of(socks: Iterable[_Socket]) -> set[int]:
    """The file descriptors among ``socks`` that :func:`is_readable` would say True of.

    One ``poll`` for all of them, where asking each costs a system call apiece.
    """
    poller = select.poll()
    for sock in socks:
        fd = sock.fileno()
        if fd >= 0:
            poller.register(fd, select.POLLIN)
    return {fd for fd, _ in poller.poll(0)}


class PooledTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` over a pool whose idle-connection check is cheap.

    Args:
        limits: the pool's size and keep-alive, as httpx's client would take them (a
            client given a transport ignores its own ``limits``).
    """

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx builds its httpcore pool without a way to pass a network backend: the
        # same pool is built again here, with ours, reusing its SSL context (loading the
        # certificates costs ~25 ms). tests/actors/test_http_pool.py checks that requests
        # really go through it.
        self._pool = OnePassConnectionPool(
            ssl_context=self._pool._ssl_context,  # noqa: SLF001 - the pool httpx built
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=SocketKeepingBackend(),
        )


class OnePassConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, its per-request bookkeeping done in one pass over the connections.

    The decisions are those of httpcore 1.0's ``_assign_requests_to_connections``, in the
    same order: drop closed connections, close expired ones and idle ones while the pool
    holds more than ``max_keepalive_connections``, then give each queued request the first
    available connection for its origin, else a new one, else one made in place of the
    first idle one. tests/actors/test_http_pool.py holds it to that.
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        backend = self._network_backend
        if isinstance(backend, SocketKeepingBackend):
            with backend.polled_together():
                return self._assign_in_one_pass()
        return self._assign_in_one_pass()

    def _assign_in_one_pass(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        held = len(self._connections)
        kept: list[httpcore.AsyncConnectionInterface] = []
        for connection in self._connections:
            if connection.is_closed():
                held -= 1
            elif connection.has_expired() or (
                held > self._max_keepalive_connections and connection.is_idle()
            ):
                held -= 1
                closing.append(connection)
            else:
                kept.append(connection)
        self._connections = kept

        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            chosen = next(
                (c for c in kept if c.can_handle_request(origin) and c.is_available()), None
            )
            if chosen is None:
                if len(kept) >= self._max_connections:
                    idle = next((c for c in kept if c.is_idle()), None)
                    if idle is None:
                        continue  # the request waits for a connection to come free
                    kept.remove(idle)
                    closing.append(idle)
                chosen = self.create_connection(origin)
                kept.append(chosen)
            pool_request.assign_to_connection(chosen)
        return closing


class SocketKeepingBackend(httpcore.AsyncNetworkBackend):
    """anyio's backend, its streams wrapped to answer ``is_readable`` from their socket.

    The pool asks every idle connection in turn; inside :meth:`polled_together` the
    streams answer from one poll of all their sockets, taken when it was entered (the
    pool's bookkeeping runs without awaiting, so nothing is read or closed meanwhile).
    """

    def __init__(self) -> None:
        self._anyio = httpcore.AnyIOBackend()
        self._streams: weakref.WeakSet[SocketKeepingStream] = weakref.WeakSet()
        self._in_pass = False
        self._readable: set[int] | None = None  # the pass's poll, once taken

    @contextlib.contextmanager
    def polled_together(self) -> Iterator[None]:
        """Let the streams answer ``is_readable`` from one poll until the block ends.

        The poll is taken at the first question, so a pass with no idle connection makes
        no system call at all.
        """
        self._in_pass = True
        try:
            yield
        finally:
            self._in_pass = False
            self._readable = None

    def is_readable(self, sock: _Socket | None) -> bool:
        """:func:`is_readable`, answered from the poll when inside :meth:`polled_together`."""
        if not self._in_pass or sock is None or sock.fileno() < 0:
            return is_readable(sock)
        if self._readable is None:
            self._readable = readable_of(
                stream.socket for stream in self._streams if stream.socket is not None
            )
        return sock.fileno() in self._readable

    def _kept(self, stream: httpcore.AsyncNetworkStream) -> SocketKeepingStream:
        kept = SocketKeepingStream(stream, self)
        self._streams.add(kept)
        return kept

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._anyio.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return self._kept(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._anyio.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return self._kept(stream)

    async def sleep(self, seconds: float) -> None:
        await self._anyio.sleep(seconds)


class SocketKeepingStream(httpcore.AsyncNetworkStream):
    """A stream that knows its socket, so ``is_readable`` is a poll and nothing more."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, backend: SocketKeepingBackend) -> None:
        self._stream = stream
        self._backend = backend
        self.socket: _Socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return self._backend._kept(tls)  # noqa: SLF001 - the backend's own streams

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return self._backend.is_readable(self.socket)
        return self._stream.get_extra_info(info)
