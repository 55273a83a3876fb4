"""The ops actor: owns the ops HTTP endpoint for as long as it runs.

It handles no messages. ``on_start`` builds the metrics registry and starts the server (its
threads belong to this actor), ``on_stop`` closes it and joins them, after a crash too. A
port that cannot be bound does not stop the bot: the endpoint stays off and the log says
why, since chatting matters more than being watched (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Callable

from loguru import logger

from actors.config import OpsConfig
from actors.health.messages import GetHealth, HealthView
from actors.ops.metrics import BotCollector, metrics_registry
from actors.ops.server import OpsServer, Routes
from runtime import Actor, ActorContext, ActorSystemError, Address, SystemSnapshot


class OpsActor(Actor):
    """See the module docstring.

    Args:
        context: from the supervisor.
        config: the [ops] section.
        snapshot: takes a picture of the actor tree (``ActorSystem.snapshot``).
        storage: asked for LLM request aggregates at scrape time.
        gateway: asked for its traffic counters at scrape time; its state is readiness.
        ask_timeout: seconds each of those asks may take.
        health: the health supervisor, asked for its view at scrape time and by /readyz;
            None leaves health out of both.
    """

    def __init__(
        self,
        context: ActorContext,
        *,
        config: OpsConfig,
        snapshot: Callable[[], SystemSnapshot],
        storage: Address,
        gateway: Address,
        ask_timeout: float = 2.0,
        health: Address | None = None,
    ) -> None:
        super().__init__(context)
        self._health = health
        self._config = config
        self._snapshot = snapshot
        self._storage = storage
        self._gateway = gateway
        self._ask_timeout = ask_timeout
        self._server: OpsServer | None = None

    def on_start(self) -> None:
        where = self._config.bind_address()
        if where is None:
            return
        collector = BotCollector(
            snapshot=self._snapshot,
            storage=self._storage,
            gateway=self._gateway,
            ask_timeout=self._ask_timeout,
            health=self._health,
        )
        routes = Routes(
            snapshot=self._snapshot,
            registry=metrics_registry(collector),
            gateway_path=self._gateway.path,
            health=self._health_view if self._health is not None else None,
        )
        server = OpsServer(*where, routes=routes)
        try:
            server.start()
        except OSError as exc:
            logger.error(
                'ops endpoint off: cannot listen on {}: {} (set [ops] listen to a free port, or ""'
                " to turn it off)",
                self._config.listen,
                exc.strerror or exc,
            )
            return
        self._server = server
        logger.info(
            "ops endpoint on http://{} (/healthz /readyz /metrics /debug/actors)",
            self._config.listen,
        )

    def _health_view(self) -> HealthView | None:
        """The health supervisor's view, asked on a request thread; None if it does not answer."""
        health = self._health
        if health is None:
            return None
        node = self._snapshot().find(health.path)
        if node is None or node.state != "running":
            return None
        try:
            view = health.ask(GetHealth(), timeout=self._ask_timeout)
        except ActorSystemError as exc:
            logger.debug("ops: {} did not answer GetHealth: {}", health.path, exc)
            return None
        return view if isinstance(view, HealthView) else None

    def on_stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
