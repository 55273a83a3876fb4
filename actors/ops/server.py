"""The ops HTTP endpoint: four read-only GET routes, and a server that owns its threads.

:class:`Routes` is the logic (a plain object: a request line in, a :class:`Response` out);
:class:`OpsServer` is the stdlib ``ThreadingHTTPServer`` that serves it. Why the stdlib
server and not prometheus-client's ``start_http_server``: we serve four routes, not one, and
we must join every thread we start; the library's server makes its request threads daemons
that nobody joins. Here request threads are joined by ``close()``, each connection serves one
request (HTTP/1.0) and a silent client is dropped after ``request_timeout`` seconds, so
closing is bounded.

=================  =============================================================
``/healthz``       200 ``ok`` while the actor system runs, else 503 and its state
``/readyz``        200 ``ready`` while the gateway runs (polling Telegram) and health is
                   not unhealthy, else 503
``/metrics``       Prometheus text (OpenMetrics if the scraper asks for it)
``/debug/actors``  the snapshot as JSON; ``?path=/io/gateway`` for one actor (404 if none)
=================  =============================================================
"""

from __future__ import annotations

import functools
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import msgspec
from loguru import logger
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry

from actors.health.messages import HealthView
from runtime import SystemSnapshot

TEXT: Final = "text/plain; charset=utf-8"
JSON: Final = "application/json"
INDEX: Final = (
    "Telegram LLM bot, ops endpoint\n"
    "/healthz        alive?\n"
    "/readyz         polling Telegram?\n"
    "/metrics        Prometheus metrics\n"
    "/debug/actors   the actor tree as JSON (?path=/io/gateway for one actor)\n"
)


@dataclass(frozen=True, kw_only=True)
class Response:
    status: HTTPStatus
    content_type: str
    body: bytes

    @classmethod
    def text(cls, status: HTTPStatus, text: str) -> Response:
        return cls(status=status, content_type=TEXT, body=f"{text}\n".encode())

    @classmethod
    def json(cls, status: HTTPStatus, value: object) -> Response:
        return cls(status=status, content_type=JSON, body=msgspec.json.encode(value))


class Routes:
    """What each path answers, from a snapshot source and a metrics registry.

    Args:
        snapshot: takes a picture of the actor tree (``ActorSystem.snapshot``).
        registry: the collectors ``/metrics`` serves.
        gateway_path: the actor whose state decides readiness.
        health: the health supervisor's view, None when it does not answer; an unhealthy
            bot is not ready. Without it, readiness is the gateway's state alone.
    """

    def __init__(
        self,
        *,
        snapshot: Callable[[], SystemSnapshot],
        registry: CollectorRegistry,
        gateway_path: str = "/io/gateway",
        health: Callable[[], HealthView | None] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._registry = registry
        self._gateway_path = gateway_path
        self._health = health

    def get(self, target: str, accept: str = "") -> Response:
        """Answer ``GET target`` (path and query); ``accept`` is the Accept header."""
        url = urlsplit(target)
        match url.path:
            case "/healthz":
                return self.healthz()
            case "/readyz":
                return self.readyz()
            case "/metrics":
                return self.metrics(accept)
            case "/debug/actors":
                paths = parse_qs(url.query).get("path", [])
                return self.actors(paths[0] if paths else None)
            case "/":
                return Response.text(HTTPStatus.OK, INDEX.rstrip("\n"))
            case _:
                return Response.text(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

    def healthz(self) -> Response:
        root = self._snapshot().root
        state = "not started" if root is None else root.state
        if state == "running":
            return Response.text(HTTPStatus.OK, "ok")
        return Response.text(HTTPStatus.SERVICE_UNAVAILABLE, f"actor system {state}")

    def readyz(self) -> Response:
        gateway = self._snapshot().find(self._gateway_path)
        if gateway is None:
            reason = f"no gateway at {self._gateway_path}"
        elif gateway.state != "running":
            reason = f"gateway {gateway.state}"
        elif (unhealthy := self._unhealthy()) is not None:
            reason = unhealthy
        else:
            return Response.text(HTTPStatus.OK, "ready")
        return Response.text(HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {reason}")

    def _unhealthy(self) -> str | None:
        """``unhealthy (storage failing)`` when health says so; None otherwise or unknown."""
        view = None if self._health is None else self._health()
        if view is None or view.overall != "unhealthy":
            return None
        failing = ", ".join(c.name for c in view.components if c.status == "failing")
        return f"unhealthy ({failing} failing)"

    def metrics(self, accept: str) -> Response:
        encode, content_type = choose_encoder(accept)
        return Response(
            status=HTTPStatus.OK, content_type=content_type, body=encode(self._registry)
        )

    def actors(self, path: str | None) -> Response:
        snapshot = self._snapshot()
        if path is None:
            return Response.json(HTTPStatus.OK, snapshot)
        node = snapshot.find(path)
        if node is None:
            return Response.json(HTTPStatus.NOT_FOUND, {"error": f"no actor at {path}"})
        return Response.json(HTTPStatus.OK, node)


class _Handler(BaseHTTPRequestHandler):
    """One request: hand it to :class:`Routes`, write the answer, log at DEBUG only."""

    server_version = "bot-ops"

    def __init__(self, *args: Any, routes: Routes, timeout: float, **kwargs: Any) -> None:
        self._routes = routes
        self._read_timeout = timeout
        super().__init__(*args, **kwargs)  # handles the request

    def setup(self) -> None:
        self.request.settimeout(self._read_timeout)  # a silent client is dropped
        super().setup()

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        try:
            response = self._routes.get(self.path, self.headers.get("Accept", ""))
        except Exception:  # noqa: BLE001 - boundary: one failed request must not end the server
            logger.exception("ops endpoint: GET {} failed", self.path)
            response = Response.text(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see log)")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        logger.debug("ops endpoint: {} {}", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    """A thread per request, every one of them joined by ``server_close``."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, host: str, port: int, handler: Callable[..., _Handler]) -> None:
        # Resolved once here, so that "localhost" or an IPv6 address picks the right family.
        self.address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        super().__init__((host, port), handler)

    def server_bind(self) -> None:
        # HTTPServer's own would look the host's name up in DNS (getfqdn) for nothing.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - base's
        logger.opt(exception=True).debug("ops endpoint: connection from {} failed", client_address)


class OpsServer:
    """Serves :class:`Routes` on ``host:port`` until closed; start once, close once.

    Args:
        host: the address to listen on, exactly as configured.
        port: the port.
        routes: what to answer.
        request_timeout: seconds a client may take to send its request.
    """

    def __init__(
        self, host: str, port: int, *, routes: Routes, request_timeout: float = 5.0
    ) -> None:
        self._host, self._port = host, port
        self._routes = routes
        self._request_timeout = request_timeout
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the configured host and the bound port)."""
        if self._server is None:
            return self._host, self._port
        return self._host, int(self._server.server_address[1])

    def start(self) -> None:
        """Bind and serve on a thread of its own.

        Raises:
            OSError: the address cannot be bound (in use, not local, unknown host).
            RuntimeError: started twice.
        """
        if self._server is not None:
            raise RuntimeError("the ops server was started already")
        handler = functools.partial(_Handler, routes=self._routes, timeout=self._request_timeout)
        self._server = _Server(self._host, self._port, handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="ops-http"
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, finish the requests in progress, join every thread. Idempotent."""
        server, thread = self._server, self._thread
        self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()  # returns once serve_forever has
        server.server_close()  # closes the socket and joins the request threads
        thread.join()
