"""The health supervisor in a real actor system: real storage, a real provider actor talking
to the OpenAI emulator, and small fake actors for the gateway and the admin actor."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest

from actors.admin.messages import NotifyAdmins
from actors.config import HealthConfig, ProviderConfig, Secret
from actors.health import GetHealth, HealthSupervisor, HealthView, ReportHealth
from actors.health.checks import ProcessFigures
from actors.llm.provider import ProviderActor
from actors.loop import LoopKeeper
from actors.storage import StorageActor
from actors.telegram.gateway import ProbeTelegram, TelegramProbed
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
from tests.emulators.openai_compat import OpenAIEmulator
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import eventually

M = TypeVar("M", bound=Message)
CONFIG = HealthConfig(
    interval_seconds=0.1,
    failure_threshold=2,
    notify_debounce_seconds=0.3,
    probe_timeout_seconds=1.0,
)


class Inbox:
    """What the fake actors were sent, in order, safe to read from the test's thread."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()

    def add(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        with self._lock:
            return [m for m in self._messages if isinstance(m, kind)]


class FakeGateway(Actor):
    """Answers getMe probes (unless ``silent``) and keeps what it is asked to send."""

    def __init__(self, context: ActorContext, *, inbox: Inbox, silent: bool) -> None:
        super().__init__(context)
        self._inbox = inbox
        self._silent = silent

    @receive
    def probe(self, message: ProbeTelegram) -> None:
        if not self._silent:
            message.reply_to.tell(
                TelegramProbed(probe_id=message.probe_id, ok=True, detail="@bot", took_ms=1.0)
            )

    @receive
    def send(self, message: SendText) -> None:
        self._inbox.add(message)


class FakeAdmin(Actor):
    """Keeps the notices it gets."""

    def __init__(self, context: ActorContext, *, inbox: Inbox) -> None:
        super().__init__(context)
        self._inbox = inbox

    @receive
    def notify(self, message: NotifyAdmins) -> None:
        self._inbox.add(message)


@pytest.fixture
def api() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(api_key="sk-test") as emulator:
        yield emulator


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


Start = Callable[..., ActorSystem]


@pytest.fixture
def start(tmp_path: Path, api: OpenAIEmulator, inbox: Inbox) -> Iterator[Start]:
    """Start the small tree (``silent_gateway`` leaves getMe unanswered); stop it after."""
    systems: list[ActorSystem] = []
    before = set(threading.enumerate())

    def run(*, silent_gateway: bool = False, config: HealthConfig = CONFIG) -> ActorSystem:
        system = ActorSystem()
        systems.append(system)
        loop = AsyncLoop()
        provider = ProviderConfig(
            name="deepseek",
            base_url=api.base_url,
            api_key=Secret("sk-test"),
            default_model="deepseek-chat",
            timeout=2.0,
            max_retries=0,
            circuit_reset_seconds=0.3,
        )
        health = functools.partial(
            HealthSupervisor,
            config=config,
            storage=system.address("/storage"),
            gateway=system.address("/gateway"),
            providers={"deepseek": system.address("/deepseek")},
            admin=system.address("/admin"),
            snapshot=system.snapshot,
            process_figures=lambda: ProcessFigures(rss_mb=50.0, open_fds=20, threads=10),
        )
        system.start(
            SupervisorSpec(
                children=(
                    ChildSpec(
                        name="storage",
                        factory=functools.partial(StorageActor, path=tmp_path / "bot.sqlite3"),
                    ),
                    ChildSpec(name="loop", factory=functools.partial(LoopKeeper, loop=loop)),
                    ChildSpec(
                        name="deepseek",
                        factory=functools.partial(
                            ProviderActor,
                            config=provider,
                            loop=loop,
                            sessions=system.address("/sessions"),
                        ),
                    ),
                    ChildSpec(
                        name="gateway",
                        factory=functools.partial(FakeGateway, inbox=inbox, silent=silent_gateway),
                    ),
                    ChildSpec(name="admin", factory=functools.partial(FakeAdmin, inbox=inbox)),
                    ChildSpec(name="health", factory=health),
                ),
            )
        )
        return system

    yield run
    for system in systems:
        system.shutdown()
    assert leftover_threads(before) == []


def health_of(system: ActorSystem) -> HealthView:
    view = system.address("/health").ask(GetHealth(), timeout=2.0)
    assert isinstance(view, HealthView)
    return view


def statuses(system: ActorSystem) -> dict[str, str]:
    return {c.name: c.status for c in health_of(system).components}


def test_every_check_passes_against_working_parts_and_nobody_is_told(
    start: Start, inbox: Inbox
) -> None:
    system = start()

    eventually(lambda: set(statuses(system).values()) == {"ok"}, what="every component ok")
    view = health_of(system)
    assert view.overall == "healthy"
    details = {c.name: c.detail for c in view.components}
    assert details["storage"].startswith("wrote and read back a heartbeat")
    assert details["deepseek"].startswith("circuit closed; 2 models listed")
    assert inbox.of(NotifyAdmins) == []


def test_the_only_provider_failing_opens_its_circuit_and_admins_hear_of_it_both_ways(
    start: Start, api: OpenAIEmulator, inbox: Inbox
) -> None:
    system = start()
    eventually(lambda: statuses(system)["deepseek"] == "ok", what="deepseek checked")
    for _ in range(200):
        api.error(500, on="models")

    eventually(lambda: len(inbox.of(NotifyAdmins)) == 1, what="a notice")
    notice = inbox.of(NotifyAdmins)[0]
    assert notice.urgent
    assert notice.topic == "health"
    assert notice.text.startswith("Health: UNHEALTHY (was healthy)")  # no provider left
    assert "- provider deepseek: circuit" in notice.text
    deepseek = next(c for c in health_of(system).components if c.name == "deepseek")
    assert deepseek.status == "failing"
    assert deepseek.last_action.startswith("opened its circuit")

    api.reset()
    eventually(lambda: len(inbox.of(NotifyAdmins)) == 2, what="the recovery notice")
    assert inbox.of(NotifyAdmins)[1].text.startswith("Health: HEALTHY again (was unhealthy)")
    assert health_of(system).overall == "healthy"


def test_a_flapping_provider_tells_admins_nothing(
    start: Start, api: OpenAIEmulator, inbox: Inbox
) -> None:
    system = start(config=msgspec.structs.replace(CONFIG, notify_debounce_seconds=3.0))
    eventually(lambda: statuses(system)["deepseek"] == "ok", what="deepseek checked")
    for _ in range(2):  # fails its threshold, then works again once its circuit lets it
        api.error(500, on="models")

    eventually(lambda: statuses(system)["deepseek"] == "failing", what="deepseek failing")
    eventually(lambda: health_of(system).overall == "healthy", what="healthy again")
    assert health_of(system).announced == "healthy"
    assert inbox.of(NotifyAdmins) == []


def test_getme_without_an_answer_makes_the_bot_unhealthy(start: Start, inbox: Inbox) -> None:
    system = start(silent_gateway=True)

    eventually(lambda: len(inbox.of(NotifyAdmins)) == 1, what="a notice")
    assert inbox.of(NotifyAdmins)[0].text.startswith("Health: UNHEALTHY (was healthy)")
    telegram = next(c for c in health_of(system).components if c.name == "telegram")
    assert telegram.status == "failing"
    assert telegram.detail == "no answer within 1s"


def test_report_health_sends_the_view_to_the_chat_through_the_gateway(
    start: Start, inbox: Inbox
) -> None:
    system = start()
    eventually(lambda: set(statuses(system).values()) == {"ok"}, what="every component ok")

    system.address("/health").tell(ReportHealth(chat_id=42, reply_to_message_id=7))

    eventually(lambda: len(inbox.of(SendText)) == 1, what="the page")
    page = inbox.of(SendText)[0]
    assert (page.chat_id, page.reply_to_message_id, page.format) == (42, 7, "plain")
    assert page.text.startswith("Health: HEALTHY since ")
    for label in ("storage: ok", "telegram: ok", "provider deepseek: ok", "actor tree: ok"):
        assert label in page.text
