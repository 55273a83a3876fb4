"""Fixtures for the provider client tests: real emulators on 127.0.0.1, clients closed after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pytest

from actors.config import ProviderConfig, Secret
from actors.llm import ProviderClient, RetryPolicy
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_compat import OpenAIEmulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

Kind = Literal["openai", "gemini"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """A monotonic clock the test moves by hand, for the circuit breaker."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    """One emulator plus a factory of clients pointed at it; closes every client it made."""

    def __init__(self, kind: Kind, api: OpenAIEmulator | GeminiEmulator) -> None:
        self.kind = kind
        self.api = api
        self.clock = FakeClock()
        self.sleeps: list[float] = []
        self.clients: list[ProviderClient] = []

    @property
    def model(self) -> str:
        return "deepseek-chat" if self.kind == "openai" else "gemini-2.5-flash"

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(
        self,
        *,
        retry: RetryPolicy | None = None,
        api_key: str | None = None,
        **config: Any,
    ) -> ProviderClient:
        """A client with fast defaults: retries recorded instead of slept, short timeout."""
        settings: dict[str, Any] = {
            "name": self.kind,
            "kind": self.kind,
            "base_url": self.api.base_url,
            "api_key": Secret(self.api.api_key if api_key is None else api_key),
            "default_model": self.model,
            "timeout": 5.0,
        } | config
        client = ProviderClient(
            ProviderConfig(**settings),
            retry=retry or RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
            sleep=self._sleep,
            clock=self.clock,
        )
        self.clients.append(client)
        return client


@pytest.fixture
def openai_api() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator() as api:
        yield api


@pytest.fixture
def gemini_api() -> Iterator[GeminiEmulator]:
    with GeminiEmulator() as api:
        yield api


@pytest.fixture(params=["openai", "gemini"])
async def harness(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Harness]:
    """Run the test once against each wire format."""
    kind: Kind = request.param
    with OpenAIEmulator() if kind == "openai" else GeminiEmulator() as api:
        harness = Harness(kind, api)
        try:
            yield harness
        finally:
            for client in harness.clients:
                await client.aclose()


@pytest.fixture
async def openai(openai_api: OpenAIEmulator, anyio_backend: str) -> AsyncIterator[Harness]:
    harness = Harness("openai", openai_api)
    yield harness
    for client in harness.clients:
        await client.aclose()


@pytest.fixture
async def gemini(gemini_api: GeminiEmulator, anyio_backend: str) -> AsyncIterator[Harness]:
    harness = Harness("gemini", gemini_api)
    yield harness
    for client in harness.clients:
        await client.aclose()
