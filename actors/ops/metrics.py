"""The bot's Prometheus metrics: read from the live system at scrape time, never kept here.

:class:`BotCollector` holds no figures of its own. Each scrape it takes a snapshot of the
actor tree and asks two actors for the counters they already keep:

- the snapshot: per address mailbox depth, messages processed, failures and restarts (pool
  members summed into one ``<pool>/*`` series, never one series per chat), dead letters,
  actors alive, uptime;
- the gateway (:class:`~actors.telegram.gateway.CountTraffic`): updates received, messages
  sent and dropped, counted by its poller and outbox since its current incarnation began;
- storage (:class:`~actors.storage.GetLlmStats`): LLM requests per provider and outcome,
  tokens, and latency quantiles over the last ten minutes, from the ``llm_requests`` log;
- the health supervisor (:class:`~actors.health.GetHealth`): the overall state and whether
  each checked component fails, as its last checks found them.

The asks run on the scraping thread, never on an actor's, each with a short timeout, and only
when the snapshot shows the target running (so a scrape during a restart dead-letters
nothing). A source that does not answer is reported as ``bot_metrics_source_up{source} 0``
and its metrics are left out of that scrape; the rest is still served.
docs/operations.md lists every metric with its meaning and source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from loguru import logger
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import CollectorRegistry

from actors.health.messages import GetHealth, HealthView, Overall
from actors.storage import GetLlmStats
from actors.telegram.gateway import CountTraffic, Traffic
from runtime import ActorSnapshot, ActorSystemError, Address, Message, SystemSnapshot
from storage import LlmRequestStats, StorageError

ALIVE: Final = frozenset({"starting", "running", "restarting"})
HEALTH_STATES: Final[tuple[Overall, ...]] = ("healthy", "degraded", "unhealthy")
LATENCY_WINDOW: Final = 600.0
"""Seconds of LLM requests the latency quantiles cover, as a Prometheus summary's window."""


def metrics_registry(collector: BotCollector) -> CollectorRegistry:
    """A registry of our own holding only ``collector`` (never the library's global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


class BotCollector:
    """A prometheus-client collector over the live system; see the module docstring.

    Args:
        snapshot: takes a picture of the actor tree (``ActorSystem.snapshot``).
        storage: the storage actor, asked for LLM request aggregates.
        gateway: the Telegram gateway, asked for its traffic counters.
        ask_timeout: seconds each ask may take before its source counts as down.
        clock: epoch seconds, for the latency window.
        health: the health supervisor, asked for its view; None leaves health out.
    """

    def __init__(
        self,
        *,
        snapshot: Callable[[], SystemSnapshot],
        storage: Address,
        gateway: Address,
        ask_timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
        health: Address | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._storage = storage
        self._gateway = gateway
        self._health = health
        self._ask_timeout = ask_timeout
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        """Nothing: describing would mean collecting (and asking actors) at registration."""
        return ()

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot()
        yield from actor_metrics(snapshot)
        up = GaugeMetricFamily(
            "bot_metrics_source_up",
            "1 if the source answered this scrape, 0 if its metrics are missing from it",
            labels=["source"],
        )
        traffic = self._ask(snapshot, self._gateway, CountTraffic())
        up.add_metric(["gateway"], 1.0 if isinstance(traffic, Traffic) else 0.0)
        if isinstance(traffic, Traffic):
            yield from traffic_metrics(traffic)
        totals = self._ask(snapshot, self._storage, GetLlmStats(since=0.0))
        recent = None
        if isinstance(totals, LlmRequestStats):
            since = self._clock() - LATENCY_WINDOW
            recent = self._ask(snapshot, self._storage, GetLlmStats(since=since))
            yield from llm_metrics(totals, recent if isinstance(recent, LlmRequestStats) else None)
        up.add_metric(["storage"], 1.0 if isinstance(recent, LlmRequestStats) else 0.0)
        if self._health is not None:
            view = self._ask(snapshot, self._health, GetHealth())
            up.add_metric(["health"], 1.0 if isinstance(view, HealthView) else 0.0)
            if isinstance(view, HealthView):
                yield from health_metrics(view)
        yield up

    def _ask(self, snapshot: SystemSnapshot, target: Address, message: Message) -> object:
        node = snapshot.find(target.path)
        if node is None or node.state != "running":
            return None
        try:
            return target.ask(message, timeout=self._ask_timeout)
        except (ActorSystemError, StorageError) as exc:
            logger.debug(
                "metrics: {} did not answer {}: {}", target.path, type(message).__name__, exc
            )
            return None


@dataclass
class _PoolFigures:
    """Sums over the members of one keyed pool alive at the moment of the snapshot."""

    alive: int = 0
    mailbox: int = 0
    processed: int = 0
    failures: int = 0
    restarts: int = 0

    def add(self, node: ActorSnapshot) -> None:
        self.alive += 1
        self.mailbox += node.mailbox_depth
        self.processed += node.processed
        self.failures += node.failures
        self.restarts += node.restarts


def actor_metrics(snapshot: SystemSnapshot) -> Iterator[Metric]:
    """The runtime's figures: per address, with each pool's members summed as ``<pool>/*``.

    An address's figures live in its cell and survive restarts, so they are counters. The
    sums over a pool's members fall when a member is passivated, so they are gauges.
    """
    label = ["path"]
    depth = GaugeMetricFamily("bot_actor_mailbox_depth", "Messages waiting", labels=label)
    processed = CounterMetricFamily(
        "bot_actor_messages_processed", "Messages handled since start", labels=label
    )
    failures = CounterMetricFamily(
        "bot_actor_failures", "Exceptions that escaped a handler since start", labels=label
    )
    restarts = CounterMetricFamily(
        "bot_actor_restarts", "Restarts by its supervisor since start", labels=label
    )
    pools: dict[str, _PoolFigures] = {}
    alive = 0
    for _, node in snapshot.walk():  # parents before children
        alive += node.state in ALIVE
        parent = node.path.rpartition("/")[0] or "/"
        if node.path != "/" and parent in pools:
            pools[parent].add(node)
            continue
        if node.role == "pool":
            pools[node.path] = _PoolFigures()
        depth.add_metric([node.path], node.mailbox_depth)
        processed.add_metric([node.path], node.processed)
        failures.add_metric([node.path], node.failures)
        restarts.add_metric([node.path], node.restarts)
    members = GaugeMetricFamily(
        "bot_pool_members_alive", "Pool members (sessions) alive now", labels=label
    )
    live = {
        figure: GaugeMetricFamily(
            f"bot_pool_members_{figure}",
            f"Sum of {figure} over the pool members alive now; falls when one is passivated",
            labels=label,
        )
        for figure in ("processed", "failures", "restarts")
    }
    for path, figures in pools.items():
        members_path = [f"{path.rstrip('/')}/*"]
        depth.add_metric(members_path, figures.mailbox)
        members.add_metric(members_path, figures.alive)
        live["processed"].add_metric(members_path, figures.processed)
        live["failures"].add_metric(members_path, figures.failures)
        live["restarts"].add_metric(members_path, figures.restarts)
    yield depth
    yield processed
    yield failures
    yield restarts
    yield members
    yield from live.values()
    yield GaugeMetricFamily(
        "bot_actors_alive", "Actors starting, running or restarting", value=alive
    )
    yield CounterMetricFamily(
        "bot_dead_letters",
        "Messages no actor could handle since start",
        value=snapshot.dead_letter_total,
    )
    yield GaugeMetricFamily(
        "bot_uptime_seconds", "Seconds since the actor system was created", value=snapshot.uptime_s
    )


def health_metrics(view: HealthView) -> Iterator[Metric]:
    """The health supervisor's view: one series per overall state, one per component."""
    status = GaugeMetricFamily(
        "bot_health_status",
        "1 for the overall health state the bot is in now, 0 for the others",
        labels=["state"],
    )
    for state in HEALTH_STATES:
        status.add_metric([state], 1.0 if view.overall == state else 0.0)
    yield status
    components = GaugeMetricFamily(
        "bot_health_component_up",
        "0 while a checked component fails (its threshold reached), 1 otherwise",
        labels=["component", "kind"],
    )
    for component in view.components:
        up = 0.0 if component.status == "failing" else 1.0
        components.add_metric([component.name, component.kind], up)
    yield components


def traffic_metrics(traffic: Traffic) -> Iterator[Metric]:
    """The gateway's counters; they restart from 0 when the gateway does."""
    yield CounterMetricFamily(
        "bot_telegram_updates_received",
        "Updates taken from getUpdates by the gateway's current incarnation",
        value=traffic.updates_received,
    )
    yield CounterMetricFamily(
        "bot_telegram_messages_sent",
        "Successful sendMessage and editMessageText calls (streamed drafts included)",
        value=traffic.sent,
    )
    yield CounterMetricFamily(
        "bot_telegram_messages_dropped",
        "Sends and edits given up on (bad request, blocked, network errors past retries)",
        value=traffic.dropped,
    )


def llm_metrics(totals: LlmRequestStats, recent: LlmRequestStats | None) -> Iterator[Metric]:
    """LLM requests and tokens since the log began; latency quantiles of ``recent``."""
    requests = CounterMetricFamily(
        "bot_llm_requests",
        "LLM requests logged in storage, by provider and outcome",
        labels=["provider", "status"],
    )
    for provider in totals.providers:
        requests.add_metric([provider.provider, "ok"], provider.ok)
        requests.add_metric([provider.provider, "failed"], provider.failed)
    yield requests
    tokens = CounterMetricFamily(
        "bot_llm_tokens", "Tokens of LLM requests logged in storage", labels=["direction"]
    )
    tokens.add_metric(["in"], totals.tokens_in)
    tokens.add_metric(["out"], totals.tokens_out)
    yield tokens
    if recent is None:
        return
    latency = SummaryMetricFamily(
        "bot_llm_request_duration_seconds",
        f"Whole-answer time of successful LLM requests of the last {LATENCY_WINDOW:g} s",
        labels=["provider"],
    )
    for provider in recent.providers:  # the quantiles storage computes
        for quantile, value in (
            ("0.5", provider.latency_p50_ms),
            ("0.95", provider.latency_p95_ms),
        ):
            if value is not None:
                latency.add_sample(
                    latency.name,
                    {"provider": provider.provider, "quantile": quantile},
                    value / 1000.0,
                )
    yield latency
