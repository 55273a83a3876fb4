"""The collector reads the live system at scrape time; sessions are summed, never per chat."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from actors.ops import BotCollector, metrics_registry
from runtime import ActorSystem
from tests.actors.ops.conftest import Bot, Hello, bot_spec

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def collector_for(bot: Bot, ask_timeout: float = 2.0) -> BotCollector:
    return BotCollector(
        snapshot=bot.system.snapshot,
        storage=bot.storage,
        gateway=bot.gateway,
        ask_timeout=ask_timeout,
        clock=lambda: 10_000.0,
    )


def scrape(collector: BotCollector) -> Samples:
    """Every sample of one scrape, exposed as text and parsed back, by name and labels."""
    text = generate_latest(metrics_registry(collector)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_every_address_has_its_own_series_and_pool_members_are_summed_into_one(
    bot: Bot,
) -> None:
    bot.chat(1, 2, 3)
    bot.chat(1)

    samples = scrape(collector_for(bot))

    paths = {dict(labels)["path"] for name, labels in samples if name == "bot_actor_mailbox_depth"}
    assert paths == {"/", "/storage", "/sessions", "/sessions/*", "/io", "/io/gateway"}
    assert value(samples, "bot_pool_members_alive", path="/sessions/*") == 3
    assert value(samples, "bot_pool_members_processed", path="/sessions/*") >= 4
    assert value(samples, "bot_actor_mailbox_depth", path="/sessions/*") == 0
    assert not any("/sessions/1" in str(labels) for _, labels in samples)


def test_per_address_figures_are_counters_from_the_snapshot(bot: Bot) -> None:
    samples = scrape(collector_for(bot))

    for figure in ("messages_processed", "failures", "restarts"):
        assert value(samples, f"bot_actor_{figure}_total", path="/storage") >= 0
    # The scrape itself asked the gateway once; the next scrape's snapshot shows it.
    again = scrape(collector_for(bot))
    assert value(again, "bot_actor_messages_processed_total", path="/io/gateway") >= 1


def test_dead_letters_and_actors_alive_come_from_the_snapshot(bot: Bot) -> None:
    bot.chat(1)
    bot.system.address("/nobody").tell(Hello())

    samples = scrape(collector_for(bot))

    assert value(samples, "bot_dead_letters_total") == 1
    assert value(samples, "bot_actors_alive") == 6  # /, storage, sessions, 1, io, gateway
    assert value(samples, "bot_uptime_seconds") > 0


def test_gateway_and_storage_counters_are_read_at_scrape_time(bot: Bot) -> None:
    samples = scrape(collector_for(bot))

    assert value(samples, "bot_telegram_updates_received_total") == 7
    assert value(samples, "bot_telegram_messages_sent_total") == 11
    assert value(samples, "bot_telegram_messages_dropped_total") == 1
    assert value(samples, "bot_llm_requests_total", provider="deepseek", status="ok") == 4
    assert value(samples, "bot_llm_requests_total", provider="deepseek", status="failed") == 1
    assert value(samples, "bot_llm_requests_total", provider="gemini", status="ok") == 1
    assert value(samples, "bot_llm_tokens_total", direction="in") == 120
    assert value(samples, "bot_llm_tokens_total", direction="out") == 340
    assert value(samples, "bot_metrics_source_up", source="gateway") == 1
    assert value(samples, "bot_metrics_source_up", source="storage") == 1


def test_latency_quantiles_are_seconds_over_the_recent_window_per_provider(bot: Bot) -> None:
    samples = scrape(collector_for(bot))

    duration = "bot_llm_request_duration_seconds"
    assert value(samples, duration, provider="deepseek", quantile="0.5") == 0.5
    assert value(samples, duration, provider="deepseek", quantile="0.95") == 1.5
    assert not any(
        name == duration and ("provider", "gemini") in labels for name, labels in samples
    )


def test_a_source_that_does_not_answer_in_time_is_marked_down_and_the_rest_is_served(
    system: ActorSystem,
) -> None:
    system.start(bot_spec(storage_delay=1.0))
    bot = Bot(
        system=system,
        storage=system.address("/storage"),
        sessions=system.address("/sessions"),
        gateway=system.address("/io/gateway"),
    )

    samples = scrape(collector_for(bot, ask_timeout=0.2))

    assert value(samples, "bot_metrics_source_up", source="storage") == 0
    assert value(samples, "bot_metrics_source_up", source="gateway") == 1
    assert "bot_llm_requests_total" not in names(samples)
    assert value(samples, "bot_telegram_messages_sent_total") == 11


def test_an_actor_that_is_not_running_is_not_asked_so_nothing_is_dead_lettered(
    system: ActorSystem,
) -> None:
    system.start(bot_spec(with_gateway=False))
    bot = Bot(
        system=system,
        storage=system.address("/storage"),
        sessions=system.address("/sessions"),
        gateway=system.address("/io/gateway"),
    )

    samples = scrape(collector_for(bot))

    assert value(samples, "bot_metrics_source_up", source="gateway") == 0
    assert "bot_telegram_updates_received_total" not in names(samples)
    assert system.dead_letters.total == 0


def test_the_metrics_live_in_a_registry_of_our_own_not_the_global_one(bot: Bot) -> None:
    assert b"bot_actor" in generate_latest(metrics_registry(collector_for(bot)))
    assert b"bot_actor" not in generate_latest(REGISTRY)
