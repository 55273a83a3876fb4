"""The model catalog against real provider actors, emulated APIs and a real storage actor."""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from actors.admin.messages import NotifyAdmins
from actors.config import ProviderConfig, Secret
from actors.llm.catalog import REFRESH_TOPIC, CatalogSettings, ModelCatalog, RefreshModels
from actors.llm.provider import ProviderActor
from actors.loop import LoopKeeper
from actors.scheduler.messages import JobDue
from actors.storage import ListCachedModels, StorageActor
from actors.telegram.messages import SendText
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    Message,
    SupervisorSpec,
    receive,
)
from storage import ModelEntry
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_compat import OpenAIEmulator

MINUS = "\N{MINUS SIGN}"


class Recorder(Actor):
    """Stands in for the gateway or the admin actor: hands what it gets to the test."""

    def __init__(self, context: ActorContext, *, inbox: queue.Queue[Message]) -> None:
        super().__init__(context)
        self._inbox = inbox

    @receive
    def on_message(self, message: SendText | NotifyAdmins) -> None:
        self._inbox.put(message)


@pytest.fixture
def deepseek() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(api_key="sk-test") as api:
        yield api


@pytest.fixture
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key="g-test") as api:
        yield api


@pytest.fixture
def inbox() -> queue.Queue[Message]:
    return queue.Queue()


@pytest.fixture
def catalog(
    tmp_path: Path, deepseek: OpenAIEmulator, gemini: GeminiEmulator, inbox: queue.Queue[Message]
) -> Iterator[ActorSystem]:
    """Storage, the loop, two providers, recorders for the gateway and /admin, the catalog."""
    providers = {
        "deepseek": ProviderConfig(
            name="deepseek",
            base_url=deepseek.base_url,
            api_key=Secret("sk-test"),
            default_model="deepseek-chat",
            timeout=2.0,
            max_retries=0,
        ),
        "gemini": ProviderConfig(
            name="gemini",
            kind="gemini",
            base_url=gemini.base_url,
            api_key=Secret("g-test"),
            default_model="gemini-2.5-flash",
            timeout=2.0,
            max_retries=0,
        ),
    }
    with ActorSystem() as system:
        loop = AsyncLoop()
        record = functools.partial(Recorder, inbox=inbox)
        system.start(
            SupervisorSpec(
                children=(
                    ChildSpec(
                        name="storage",
                        factory=functools.partial(StorageActor, path=tmp_path / "bot.sqlite3"),
                    ),
                    ChildSpec(name="loop", factory=functools.partial(LoopKeeper, loop=loop)),
                    *(
                        ChildSpec(
                            name=name,
                            factory=functools.partial(
                                ProviderActor,
                                config=config,
                                loop=loop,
                                sessions=system.address("/sessions"),
                            ),
                        )
                        for name, config in providers.items()
                    ),
                    ChildSpec(name="gateway", factory=record),
                    ChildSpec(name="admin", factory=record),
                    ChildSpec(
                        name="catalog",
                        factory=functools.partial(
                            ModelCatalog,
                            providers={name: system.address(f"/{name}") for name in providers},
                            storage=system.address("/storage"),
                            admin=system.address("/admin"),
                            gateway=system.address("/gateway"),
                            settings=CatalogSettings(deadline_seconds=1.0),
                        ),
                    ),
                )
            )
        )
        yield system


def next_of(inbox: queue.Queue[Message], kind: type[Message], timeout: float = 5.0) -> Message:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = inbox.get(timeout=left)
        if isinstance(message, kind):
            return message
    raise AssertionError(f"no {kind.__name__} within {timeout}s")


def nothing_more(inbox: queue.Queue[Message], within: float = 0.5) -> bool:
    try:
        inbox.get(timeout=within)
    except queue.Empty:
        return True
    return False


def report(system: ActorSystem, inbox: queue.Queue[Message], chat_id: int = 1000) -> SendText:
    system.address("/catalog").tell(RefreshModels(chat_id=chat_id, reply_to_message_id=7))
    sent = next_of(inbox, SendText)
    assert isinstance(sent, SendText)
    return sent


def scheduled(system: ActorSystem) -> None:
    system.address("/catalog").tell(
        JobDue(job_id="refresh_models", topic=REFRESH_TOPIC, payload="", scheduled_for=0.0)
    )


def cached(system: ActorSystem) -> dict[str, list[str]]:
    entries: tuple[ModelEntry, ...] = system.address("/storage").ask(ListCachedModels(), timeout=5)
    result: dict[str, list[str]] = {}
    for entry in entries:
        result.setdefault(entry.provider, []).append(entry.model_id)
    return result


def test_a_refresh_stores_every_providers_list_and_answers_in_the_chat(
    catalog: ActorSystem, inbox: queue.Queue[Message]
) -> None:
    sent = report(catalog, inbox)

    assert (sent.chat_id, sent.reply_to_message_id, sent.format) == (1000, 7, "plain")
    assert sent.text.splitlines()[0] == "Model refresh: no changes."
    assert cached(catalog) == {
        "deepseek": ["deepseek-chat", "deepseek-reasoner"],
        "gemini": ["gemini-2.5-flash", "gemini-2.5-pro"],
    }


def test_the_first_scheduled_refresh_stores_quietly(
    catalog: ActorSystem, inbox: queue.Queue[Message]
) -> None:
    scheduled(catalog)

    wait_until(lambda: len(cached(catalog)) == 2)
    assert nothing_more(inbox)


def test_a_scheduled_refresh_tells_admins_what_changed(
    catalog: ActorSystem, inbox: queue.Queue[Message], deepseek: OpenAIEmulator
) -> None:
    report(catalog, inbox)
    deepseek.set_models(("deepseek-chat", "deepseek-v4"))

    scheduled(catalog)

    notice = next_of(inbox, NotifyAdmins)
    assert isinstance(notice, NotifyAdmins)
    assert notice.topic == "models"
    assert not notice.urgent
    assert (
        notice.text
        == f"Model lists changed:\ndeepseek\n  + deepseek-v4\n  {MINUS} deepseek-reasoner"
    )


def test_a_failing_provider_is_named_and_keeps_its_cached_models(
    catalog: ActorSystem, inbox: queue.Queue[Message], gemini: GeminiEmulator
) -> None:
    report(catalog, inbox)
    gemini.error(401, on="models")

    lines = report(catalog, inbox).text.splitlines()

    assert lines[0] == "Model refresh: no changes, 1 failed."
    assert any(line.startswith("gemini: failed — ") for line in lines)
    assert cached(catalog)["gemini"] == ["gemini-2.5-flash", "gemini-2.5-pro"]


def test_a_provider_that_does_not_answer_in_time_counts_as_failed(
    catalog: ActorSystem, inbox: queue.Queue[Message], gemini: GeminiEmulator
) -> None:
    gemini.hang(3.0, on="models")

    lines = report(catalog, inbox).text.splitlines()

    assert "gemini: failed — no answer within 1s" in lines
    assert "deepseek: listed for the first time (2 models)" in lines


def test_requests_during_a_refresh_join_it_and_each_chat_gets_the_report(
    catalog: ActorSystem, inbox: queue.Queue[Message], gemini: GeminiEmulator
) -> None:
    gemini.set_latency(0.3)
    address = catalog.address("/catalog")
    address.tell(RefreshModels(chat_id=1000))
    address.tell(RefreshModels(chat_id=1001))

    first, second = next_of(inbox, SendText), next_of(inbox, SendText)

    assert isinstance(first, SendText)
    assert isinstance(second, SendText)
    assert {first.chat_id, second.chat_id} == {1000, 1001}
    assert first.text == second.text
    assert len(gemini.requests) == 1  # one listing for both


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
