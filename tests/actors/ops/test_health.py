"""Health on the ops endpoint: gauges on /metrics, and /readyz failing while unhealthy."""

from __future__ import annotations

import functools
from http import HTTPStatus

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from actors.health.messages import ComponentView, GetHealth, HealthView, Kind, Overall, Status
from actors.ops import BotCollector, Routes, metrics_registry
from runtime import Actor, ActorContext, ActorSystem, ChildSpec, SupervisorSpec, receive
from tests.actors.ops.conftest import bot_spec


def component(name: str, kind: Kind, status: Status = "ok") -> ComponentView:
    return ComponentView(
        name=name,
        kind=kind,
        status=status,
        detail="",
        failures_in_a_row=3 if status == "failing" else 0,
        threshold=3,
        checked_at=1.0,
        last_failure="",
        last_failure_at=None,
        last_action="",
        last_action_at=None,
    )


def view(overall: Overall, *components: ComponentView) -> HealthView:
    return HealthView(
        overall=overall, announced=overall, since=1.0, components=components, checked_at=1.0
    )


DEGRADED = view(
    "degraded", component("storage", "storage"), component("deepseek", "provider", "failing")
)
UNHEALTHY = view(
    "unhealthy", component("storage", "storage", "failing"), component("telegram", "telegram")
)


class FakeHealth(Actor):
    """Answers GetHealth with a canned view."""

    def __init__(self, context: ActorContext, *, answer: HealthView) -> None:
        super().__init__(context)
        self._answer = answer

    @receive
    def get_health(self, _message: GetHealth) -> HealthView:
        return self._answer


def samples(collector: BotCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics_registry(collector)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_show_the_overall_state_and_each_component(system: ActorSystem) -> None:
    base = bot_spec()
    health = ChildSpec(name="health", factory=functools.partial(FakeHealth, answer=DEGRADED))
    system.start(SupervisorSpec(children=(*base.children, health)))
    collector = BotCollector(
        snapshot=system.snapshot,
        storage=system.address("/storage"),
        gateway=system.address("/io/gateway"),
        health=system.address("/health"),
    )

    found = samples(collector)

    assert found[("bot_health_status", (("state", "degraded"),))] == 1
    assert found[("bot_health_status", (("state", "healthy"),))] == 0
    assert found[("bot_health_status", (("state", "unhealthy"),))] == 0
    assert found[("bot_health_component_up", (("component", "storage"), ("kind", "storage")))] == 1
    up = ("bot_health_component_up", (("component", "deepseek"), ("kind", "provider")))
    assert found[up] == 0
    assert found[("bot_metrics_source_up", (("source", "health"),))] == 1


def test_without_a_health_actor_its_source_is_down_and_the_rest_is_served(
    system: ActorSystem,
) -> None:
    system.start(bot_spec())
    collector = BotCollector(
        snapshot=system.snapshot,
        storage=system.address("/storage"),
        gateway=system.address("/io/gateway"),
        health=system.address("/health"),
    )

    found = samples(collector)

    assert found[("bot_metrics_source_up", (("source", "health"),))] == 0
    assert not any(name.startswith("bot_health_") for name, _ in found)
    assert found[("bot_metrics_source_up", (("source", "gateway"),))] == 1


def routes(system: ActorSystem, health: HealthView | None) -> Routes:
    collector = BotCollector(
        snapshot=system.snapshot,
        storage=system.address("/storage"),
        gateway=system.address("/io/gateway"),
    )
    return Routes(
        snapshot=system.snapshot, registry=metrics_registry(collector), health=lambda: health
    )


def test_readyz_is_503_naming_what_fails_while_unhealthy(system: ActorSystem) -> None:
    system.start(bot_spec())

    response = routes(system, UNHEALTHY).get("/readyz")

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.body == b"not ready: unhealthy (storage failing)\n"


def test_readyz_stays_ready_while_degraded_or_when_health_does_not_answer(
    system: ActorSystem,
) -> None:
    system.start(bot_spec())

    assert routes(system, DEGRADED).get("/readyz").body == b"ready\n"
    assert routes(system, None).get("/readyz").body == b"ready\n"
