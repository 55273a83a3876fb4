"""A tiny threaded HTTP/1.1 server that emulators of remote APIs are built on.

Emulators (Telegram, OpenAI, Gemini, ...) need a *real* socket so that the code under test runs
its own HTTP client unchanged, yet they must start in milliseconds, never talk to the network and
leave nothing behind. This module is that common ground, kept small and generic on purpose:

* :class:`HttpServer` binds 127.0.0.1 (port 0 by default), serves each connection on its own
  thread with keep-alive, and on :meth:`HttpServer.close` stops accepting, runs the close hooks
  (so emulators can wake their long-polls), shuts every open connection down and joins every
  thread it started. A thread still alive after that is a bug and :meth:`close` says so.
* :class:`Request` parses what clients send: query string, JSON, urlencoded forms and
  multipart/form-data (python-telegram-bot uploads files that way).
* Replies are values, not side effects: :class:`Response` (with optional truncation to simulate a
  connection lost mid-body), :class:`EventStream` (Server-Sent Events over chunked transfer
  encoding, flushed per event; a :data:`DROP` in the stream cuts it off) and :data:`DROP` itself
  (close the connection without answering).

Routes are ``(methods, pattern)`` pairs; a pattern is a path with ``{name}`` placeholders matching
one segment (or any part of one: ``/bot{token}/{method}``, ``/models/{model}:generate``) and
``{name:path}`` matching the rest of the path, slashes included.

Example::

    server = HttpServer()
    server.route("POST", "/v1/echo", lambda request: json_response(request.json()))
    with server:
        httpx.post(f"{server.base_url}/v1/echo", json={"a": 1})
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from email.message import Message
    from types import TracebackType

__all__ = [
    "DROP",
    "Drop",
    "EventStream",
    "Handler",
    "HttpServer",
    "Reply",
    "Request",
    "Response",
    "ServerSentEvent",
    "UploadedFile",
    "bytes_response",
    "json_response",
    "sse_response",
]

_LOGGER = logging.getLogger(__name__)
_GRACE_PERIOD: Final = 2.0
_JOIN_TIMEOUT: Final = 3.0


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part of a multipart/form-data body."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


class Request:
    """A parsed HTTP request; the body is read in full before a handler sees it.

    ``path`` and ``path_params`` are percent-decoded (clients such as PTB quote ``:`` in URLs);
    routing itself matches the raw path, so an encoded ``/`` never splits a segment.

    Parsing of the body is lazy and cached, so a handler that only looks at the path pays nothing
    for a large upload it ignores.
    """

    def __init__(
        self,
        *,
        method: str,
        target: str,
        headers: Message,
        body: bytes,
        path_params: Mapping[str, str],
    ) -> None:
        split = urlsplit(target)
        self.method: Final = method
        self.target: Final = target
        self.path: Final = unquote(split.path)
        self.query: Final[Mapping[str, str]] = dict(parse_qsl(split.query, keep_blank_values=True))
        self.headers: Final = headers
        self.body: Final = body
        self.path_params: Final = path_params

    @cached_property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters ("" when absent)."""
        return self.headers.get_content_type() if "content-type" in self.headers else ""

    def json(self) -> Any:
        """Decode the body as JSON.

        Raises:
            ValueError: the body is not valid UTF-8 JSON (json.JSONDecodeError is a ValueError).
        """
        return json.loads(self.body.decode("utf-8"))

    @property
    def form(self) -> Mapping[str, str]:
        """Text fields of an urlencoded or multipart body (empty for other bodies)."""
        return self._form[0]

    @property
    def files(self) -> Mapping[str, UploadedFile]:
        """File parts of a multipart body, by field name."""
        return self._form[1]

    @cached_property
    def _form(self) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        if self.content_type == "application/x-www-form-urlencoded":
            text = self.body.decode("utf-8", errors="replace")
            return dict(parse_qsl(text, keep_blank_values=True)), {}
        if self.content_type == "multipart/form-data":
            boundary = self.headers.get_param("boundary", header="content-type")
            if isinstance(boundary, str) and boundary:
                return _parse_multipart(self.body, boundary)
        return {}, {}


_DISPOSITION_PARAM: Final = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def _parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a multipart/form-data body into text fields and files.

    Written by hand because the stdlib's cgi module is gone in 3.13 and the email parser may
    rewrite line endings inside binary parts.
    """
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            continue
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            header, colon, value = line.partition(":")
            if colon:
                headers[header.strip().lower()] = value.strip()
        params: dict[str, str] = {}
        for match in _DISPOSITION_PARAM.finditer(headers.get("content-disposition", "")):
            quoted, token = match.group(2, 3)
            params[match[1].lower()] = quoted if quoted is not None else token or ""
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            files[name] = UploadedFile(
                field_name=name,
                filename=params["filename"],
                content_type=headers.get("content-type", "application/octet-stream"),
                data=content,
            )
        else:
            fields[name] = content.decode("utf-8", errors="replace")
    return fields, files


# --- replies -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response with a Content-Length.

    Attributes:
        truncate_after: if set, only this many body bytes are sent before the connection is shut
            down, so the client sees a response cut off mid-body (a dropped connection).
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: tuple[tuple[str, str], ...] = ()
    truncate_after: int | None = None


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One SSE event; ``data`` may hold newlines, each becomes its own ``data:`` line."""

    data: str
    event: str | None = None
    id: str | None = None
    retry_ms: int | None = None

    def encode(self) -> bytes:
        """Serialize as the wire format: field lines ended by a blank line."""
        lines = []
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry_ms is not None:
            lines.append(f"retry: {self.retry_ms}")
        lines.extend(f"data: {line}" for line in self.data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the connection: as a reply, without answering; inside an EventStream, mid-stream."""


DROP: Final = Drop()


@dataclass(frozen=True, slots=True)
class EventStream:
    """A streamed response sent with chunked transfer encoding, one flushed chunk per item.

    Items are events, raw bytes (written as one chunk, for protocols that frame differently) or
    :data:`DROP` to cut the connection before the terminating chunk. The iterable is consumed on
    the connection's thread, so a generator may sleep between items (use
    :meth:`HttpServer.sleep` so that closing the server is not held up).
    """

    events: Iterable[ServerSentEvent | bytes | Drop]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: tuple[tuple[str, str], ...] = ()


Reply: TypeAlias = Response | EventStream | Drop
"""What a handler returns."""

Handler: TypeAlias = Callable[[Request], Reply]
"""Turns a request into a reply; runs on the connection's own thread."""


def json_response(
    payload: Any, status: int = 200, *, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """Serialize ``payload`` as compact UTF-8 JSON."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, content_type="application/json", headers=headers)


def bytes_response(
    body: bytes,
    status: int = 200,
    *,
    content_type: str = "application/octet-stream",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """Send ``body`` as is."""
    return Response(status=status, body=body, content_type=content_type, headers=headers)


def sse_response(
    events: Iterable[ServerSentEvent | bytes | Drop],
    status: int = 200,
    *,
    headers: tuple[tuple[str, str], ...] = (),
) -> EventStream:
    """Stream ``events`` as text/event-stream."""
    return EventStream(events=events, status=status, headers=headers)


# --- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Route:
    methods: frozenset[str]
    regex: re.Pattern[str]
    handler: Callable[[Request], Reply]


_PLACEHOLDER: Final = re.compile(r"\{(\w+)(:path)?\}")


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[position : match.start()]))
        parts.append(f"(?P<{match[1]}>.+)" if match[2] else f"(?P<{match[1]}>[^/]+)")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


def _not_found(_request: Request) -> Reply:
    return json_response({"error": "not found"}, 404)


# --- the server --------------------------------------------------------------------------------


class _ThreadingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], owner: HttpServer) -> None:
        self.owner = owner
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Our own thread bookkeeping: ThreadingMixIn does not track daemon threads, and we must
        # join every one of them on close.
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"{self.owner.name}-conn",
            daemon=True,
        )
        self.owner._track_thread(thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.owner._untrack_thread(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request is routine for an emulator; log, never print.
        _LOGGER.debug("connection from %s failed: %r", client_address, sys.exception())


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._track_connection(self.connection)

    def finish(self) -> None:
        self.server.owner._untrack_connection(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep stderr quiet: one line per request would drown test output."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        owner = self.server.owner
        owner._set_busy(self.connection, busy=True)
        try:
            self._serve_one()
        finally:
            owner._set_busy(self.connection, busy=False)
            if owner.closing:
                self.close_connection = True

    def _serve_one(self) -> None:
        body = self._read_body()
        owner = self.server.owner
        handler, path_params = owner._resolve(self.command, urlsplit(self.path).path)
        request = Request(
            method=self.command,
            target=self.path,
            headers=self.headers,
            body=body,
            path_params=path_params,
        )
        try:
            reply = handler(request)
        except Exception:  # the connection boundary: answer 500 instead of killing the thread
            _LOGGER.exception("handler for %s %s failed", self.command, self.path)
            reply = json_response({"error": "emulator handler failed"}, 500)
        try:
            self._write(reply)
        except OSError:
            # The client went away (cancelled long-poll, closed stream): nothing to answer to.
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        match reply:
            case Drop():
                self._drop()
            case Response():
                self._write_response(reply)
            case EventStream():
                self._write_stream(reply)

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write_response(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.truncate_after is None:
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        self.wfile.write(response.body[: response.truncate_after])
        self._drop()

    def _write_stream(self, stream: EventStream) -> None:
        self.send_response(stream.status)
        self.send_header("Content-Type", stream.content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in stream.headers:
            self.send_header(name, value)
        self.end_headers()
        events = iter(stream.events)
        try:
            for item in events:
                if isinstance(item, Drop):
                    self._drop()
                    return
                data = item.encode() if isinstance(item, ServerSentEvent) else item
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # run the generator's cleanup even when the client went away


class HttpServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with a small dispatch table.

    Lifecycle is one-way: unstarted -> running -> closed; a closed server refuses to start again
    (make a new one), which keeps "which port is this?" questions out of tests.

    Args:
        host: address to bind; only loopback makes sense for an emulator.
        port: 0 picks a free port, read it back from :attr:`port` or :attr:`base_url`.
        name: prefix of the thread names, so a leaked thread says whose it is.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, name: str = "emulator") -> None:
        self.host: Final = host
        self.name: Final = name
        self._requested_port = port
        self._routes: list[_Route] = []
        self._exact: dict[tuple[str, str], Callable[[Request], Reply]] = {}
        self._fallback: Callable[[Request], Reply] = _not_found
        self._close_hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._connections: dict[socket.socket, bool] = {}  # -> busy answering a request
        self._closing = threading.Event()
        self._server: _ThreadingServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._state = "unstarted"

    # configuration

    def route(
        self, methods: str | Iterable[str], pattern: str, handler: Callable[[Request], Reply]
    ) -> None:
        """Serve ``pattern`` for the given methods ("GET", "GET,POST" or "*" for any).

        Patterns without placeholders are looked up in a dict; the others are tried in the order
        they were added.
        """
        names = methods.split(",") if isinstance(methods, str) else list(methods)
        method_set = frozenset(name.strip().upper() for name in names)
        if "{" not in pattern:
            for method in method_set:
                self._exact[method, pattern] = handler
            return
        self._routes.append(_Route(method_set, _compile_pattern(pattern), handler))

    def set_fallback(self, handler: Callable[[Request], Reply]) -> None:
        """Answer requests no route matches (default: 404 with a small JSON body)."""
        self._fallback = handler

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` during :meth:`close`, after accepting stopped, before joining threads.

        This is where an emulator wakes handlers blocked in long waits (long polling, delays).
        """
        self._close_hooks.append(callback)

    # lifecycle

    @property
    def port(self) -> int:
        """The bound port.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._server is None:
            raise RuntimeError(f"{self.name} server is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def closing(self) -> bool:
        """True once :meth:`close` began; long-running handlers should give up."""
        return self._closing.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep in a handler, waking early if the server closes.

        Returns:
            True if the full time passed, False if the server started closing.
        """
        if seconds <= 0:
            return not self._closing.is_set()
        return not self._closing.wait(seconds)

    def start(self) -> Self:
        """Bind and serve on a background thread.

        Raises:
            RuntimeError: the server was already started or closed.
        """
        if self._state != "unstarted":
            raise RuntimeError(f"{self.name} server is {self._state}; make a new one")
        self._server = _ThreadingServer((self.host, self._requested_port), self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-serve",
            daemon=True,
        )
        self._serve_thread.start()
        self._state = "running"
        return self

    def close(self) -> None:
        """Stop serving, wake waiters, cut open connections and join every thread.

        Idempotent.

        Raises:
            RuntimeError: a connection thread was still alive after a few seconds (a handler
                ignoring :attr:`closing`); the server is closed nonetheless.
        """
        if self._state != "running":
            self._state = "closed"
            return
        self._state = "closed"
        assert self._server is not None
        assert self._serve_thread is not None
        self._closing.set()
        self._server.shutdown()
        self._serve_thread.join()
        self._server.server_close()
        for hook in self._close_hooks:
            hook()
        # Idle keep-alive connections are cut now; busy ones get a grace period to answer (a
        # long poll woken by a hook returns its result), then whatever is left is cut too.
        with self._lock:
            idle = [connection for connection, busy in self._connections.items() if not busy]
            threads = list(self._threads)
        _shutdown(idle)
        deadline = time.monotonic() + _GRACE_PERIOD
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            remaining = list(self._connections)
        _shutdown(remaining)
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            raise RuntimeError(f"{self.name}: threads still running after close: {stuck}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # used by the request handler

    def _resolve(
        self, method: str, path: str
    ) -> tuple[Callable[[Request], Reply], Mapping[str, str]]:
        decoded = unquote(path)
        handler = self._exact.get((method, decoded)) or self._exact.get(("*", decoded))
        if handler is not None:
            return handler, {}
        for route in self._routes:
            if method in route.methods or "*" in route.methods:
                match = route.regex.fullmatch(path)
                if match is not None:
                    return route.handler, {k: unquote(v) for k, v in match.groupdict().items()}
        return self._fallback, {}

    def _track_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)

    def _untrack_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def _track_connection(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections[connection] = False
            closing = self._closing.is_set()
        if closing:  # accepted just before shutdown; do not let it linger
            _shutdown([connection])

    def _set_busy(self, connection: socket.socket, *, busy: bool) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections[connection] = busy

    def _untrack_connection(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)


def _shutdown(connections: Iterable[socket.socket]) -> None:
    for connection in connections:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
