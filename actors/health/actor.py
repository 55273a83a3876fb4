"""The health supervisor actor at ``/health``: runs the checks, keeps the view, tells admins.

Every tick (a ``tell_later`` timer; the first one ``[health] interval_seconds`` after start)
it starts the checks that are due. Three are probes of
other actors, each told a message carrying this actor's address, and each answering with
a message when done, so nothing here waits:

- **storage**: ``ProbeStorage`` writes a heartbeat row and reads it back;
- **telegram**: ``ProbeTelegram`` makes the gateway call ``getMe`` on the event loop;
- **each provider**: ``ProbeProvider`` reads its circuit and lists its models on the loop.

Two run right here, on a snapshot and on ``/proc``: the **actor tree** (mailbox backlogs,
restart storms) and the **process** (RSS, open fds, threads). A probe with no answer within
``[health] probe_timeout_seconds`` counts as a failed check. The rules for thresholds, the
overall state and the debounce are in :mod:`actors.health.monitor`.

Recovery: a provider that fails its checks while its circuit is still closed is told
``OpenCircuit``, so chats get the short "unavailable" line at once; its circuit's own
half-open trial (which the next probe makes) closes it again when the provider is back. The
other components have no action worth taking from here: storage and the gateway are
restarted by their supervisors when they crash, and restarting a backlogged actor would not
help (its mailbox survives the restart, and a handler stuck in a call cannot be interrupted).

Admins hear of each change of the overall state (``NotifyAdmins`` to ``/admin``, urgent,
after the debounce); ``/admin health`` (``ReportHealth``) sends them the whole view. The
view lives in this actor's memory: a restart starts it again from "healthy, not checked yet",
and a state that still holds is then announced once more.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

from loguru import logger

from actors.admin.messages import NotifyAdmins
from actors.config import HealthConfig
from actors.health.checks import (
    ProcessFigures,
    ProcessLimits,
    TreeLimits,
    check_process,
    check_tree,
    read_process_figures,
)
from actors.health.messages import (
    ComponentView,
    GetHealth,
    HealthView,
    Kind,
    ReportHealth,
    RunChecks,
)
from actors.health.monitor import CheckSpec, HealthMonitor, wants_open_circuit
from actors.health.report import component_label, render_change, render_health
from actors.llm.provider import OpenCircuit, ProbeProvider, ProviderProbed
from actors.storage import ProbeStorage, StorageProbed
from actors.telegram.gateway import ProbeTelegram, TelegramProbed
from actors.telegram.messages import SendText
from runtime import (
    Actor,
    ActorContext,
    Address,
    DeliveryFailed,
    SystemSnapshot,
    receive,
)

MAX_TICK = 5.0
"""Seconds between two ticks at most, so timeouts and the debounce are seen promptly."""
TOPIC = "health"


class _Timer(Protocol):
    """What ``tell_later`` returns: cancelled in ``on_stop``, so no tick outlives the actor."""

    def cancel(self) -> None: ...


def health_checks(config: HealthConfig, providers: Mapping[str, Address]) -> tuple[CheckSpec, ...]:
    """The checks, in the order shown: storage, telegram, each provider, tree, process.

    A provider whose name is taken by another component is listed as ``provider-NAME``.
    """
    fixed: tuple[tuple[str, Kind], ...] = (("storage", "storage"), ("telegram", "telegram"))
    taken = {"storage", "telegram", "tree", "process"}
    provider_checks: tuple[tuple[str, Kind], ...] = tuple(
        (name if name not in taken else f"provider-{name}", "provider") for name in providers
    )
    kinds: tuple[tuple[str, Kind], ...] = (
        *fixed,
        *provider_checks,
        ("tree", "tree"),
        ("process", "process"),
    )
    return tuple(
        CheckSpec(
            name=name,
            kind=kind,
            interval=config.interval_seconds,
            threshold=config.failure_threshold,
        )
        for name, kind in kinds
    )


class HealthSupervisor(Actor):
    """See the module docstring.

    Args:
        context: from the supervisor.
        config: the [health] section.
        storage: the storage actor, probed with a write and a read.
        gateway: the Telegram gateway, probed with getMe; it also sends ``/admin health``.
        providers: each usable provider's actor, by provider name.
        admin: where change notices go (``NotifyAdmins``).
        snapshot: takes a picture of the actor tree (``ActorSystem.snapshot``).
        process_figures: reads the process's RSS, fds and threads (injected for tests).
        clock: epoch seconds, for times shown to people.
        monotonic: seconds for intervals, timeouts and the debounce.
    """

    def __init__(
        self,
        context: ActorContext,
        *,
        config: HealthConfig,
        storage: Address,
        gateway: Address,
        providers: Mapping[str, Address],
        admin: Address,
        snapshot: Callable[[], SystemSnapshot],
        process_figures: Callable[[], ProcessFigures] = read_process_figures,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(context)
        self._config = config
        self._storage = storage
        self._gateway = gateway
        self._admin = admin
        self._snapshot = snapshot
        self._process_figures = process_figures
        self._clock = clock
        checks = health_checks(config, providers)
        provider_names = [c.name for c in checks if c.kind == "provider"]
        self._provider_checks = dict(zip(providers, provider_names, strict=True))
        self._providers = {check: providers[name] for name, check in self._provider_checks.items()}
        self._monitor = HealthMonitor(
            checks,
            debounce=config.notify_debounce_seconds,
            clock=clock,
            monotonic=monotonic,
        )
        self._tree_limits = TreeLimits(
            max_mailbox_backlog=config.max_mailbox_backlog,
            max_restarts_per_hour=config.max_restarts_per_hour,
        )
        self._process_limits = ProcessLimits(
            max_rss_mb=config.max_rss_mb,
            max_open_fds=config.max_open_fds,
            max_threads=config.max_threads,
        )
        self._tick = min(config.interval_seconds, MAX_TICK)
        self._token = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._timer: _Timer | None = None

    def on_start(self) -> None:
        # The first checks wait one interval: everything has just started (the gateway ran
        # getMe, storage opened the database), and a restart storm should not become a
        # storm of probes too.
        self._timer = self.context.tell_later(
            self._config.interval_seconds, RunChecks(token=self._token)
        )

    def on_stop(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    # -- the ticks -------------------------------------------------------------------------

    @receive
    def run_checks(self, message: RunChecks) -> None:
        if message.token != self._token:
            return  # an earlier incarnation's timer
        self._timer = self.context.tell_later(self._tick, RunChecks(token=self._token))
        before = {name: self._monitor.component(name).status for name in self._monitor.names}
        for name in self._monitor.overdue(self._config.probe_timeout_seconds):
            self._log_change(name, before[name])
        for name in self._monitor.due():
            self._start(self._monitor.component(name))
        self._announce()

    def _start(self, component: ComponentView) -> None:
        name = component.name
        me = self.context.address
        timeout = self._config.probe_timeout_seconds
        probe_id = f"{self._token}-{next(self._ids)}"
        match component.kind:
            case "storage":
                self._monitor.sent(name, probe_id)
                self._storage.tell(ProbeStorage(probe_id=probe_id, reply_to=me))
            case "telegram":
                self._monitor.sent(name, probe_id)
                self._gateway.tell(ProbeTelegram(probe_id=probe_id, reply_to=me, timeout=timeout))
            case "provider":
                self._monitor.sent(name, probe_id)
                self._providers[name].tell(
                    ProbeProvider(probe_id=probe_id, reply_to=me, timeout=timeout)
                )
            case "tree":
                ok, detail = check_tree(self._snapshot(), self._tree_limits)
                self._take(name, ok=ok, detail=detail)
            case "process":
                ok, detail = check_process(self._process_figures(), self._process_limits)
                self._take(name, ok=ok, detail=detail)

    # -- the probes' answers ---------------------------------------------------------------

    @receive
    def storage_probed(self, message: StorageProbed) -> None:
        detail = f"{message.detail} ({message.took_ms:.0f} ms)" if message.ok else message.detail
        self._take("storage", ok=message.ok, detail=detail, probe_id=message.probe_id)
        self._announce()

    @receive
    def telegram_probed(self, message: TelegramProbed) -> None:
        detail = f"{message.detail} ({message.took_ms:.0f} ms)" if message.ok else message.detail
        self._take("telegram", ok=message.ok, detail=detail, probe_id=message.probe_id)
        self._announce()

    @receive
    def provider_probed(self, message: ProviderProbed) -> None:
        name = self._provider_checks.get(message.provider)
        if name is None:
            return
        detail = f"circuit {message.circuit}; {message.detail}"
        if message.ok:
            detail += f" ({message.took_ms:.0f} ms)"
        view = self._take(name, ok=message.ok, detail=detail, probe_id=message.probe_id)
        if view is not None and wants_open_circuit(view, message.circuit):
            self._providers[name].tell(OpenCircuit())
            self._monitor.acted(name, "opened its circuit (chats are told it is unavailable)")
            logger.warning("health: opened the circuit of provider {}", message.provider)
        self._announce()

    @receive
    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        """A probe could not be delivered (its actor is stopped): its timeout will count it."""
        logger.debug(
            "health: {} to {} not delivered: {}",
            message.message_type,
            message.target,
            message.reason,
        )

    # -- questions -------------------------------------------------------------------------

    @receive
    def get_health(self, _message: GetHealth) -> HealthView:
        return self._monitor.view()

    @receive
    def report_health(self, message: ReportHealth) -> None:
        self._gateway.tell(
            SendText(
                chat_id=message.chat_id,
                text=render_health(self._monitor.view(), self._clock()),
                format="plain",
                reply_to_message_id=message.reply_to_message_id,
            )
        )

    # -- plumbing --------------------------------------------------------------------------

    def _take(
        self, name: str, *, ok: bool, detail: str, probe_id: str | None = None
    ) -> ComponentView | None:
        before = self._monitor.component(name).status
        view = self._monitor.record(name, ok=ok, detail=detail, probe_id=probe_id)
        if view is not None:
            self._log_change(name, before)
        return view

    def _log_change(self, name: str, before: str | None) -> None:
        view = self._monitor.component(name)
        if view.status == before:
            return
        if view.status == "failing":
            logger.warning("health: {} is failing: {}", component_label(view), view.detail)
        elif view.status == "ok" and before == "failing":
            logger.info("health: {} is ok again", component_label(view))

    def _announce(self) -> None:
        previous = self._monitor.view().announced
        state = self._monitor.to_announce()
        if state is None:
            return
        view = self._monitor.view()
        text = render_change(view, previous)
        logger.log(
            "INFO" if state == "healthy" else "WARNING",
            "health: {} (was {}); telling the admins",
            state,
            previous,
        )
        self._admin.tell(NotifyAdmins(text=text, topic=TOPIC, urgent=True))
