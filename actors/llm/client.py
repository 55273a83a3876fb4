"""One configured LLM provider: HTTP, concurrency limit, retries and circuit breaker together.

The session never sees HTTP: it asks for models or for a stream of neutral items and gets
either those or one error from ``actors.errors`` naming the provider. Retrying happens only
before the first item was yielded, because text the user has already seen cannot be taken
back; after that, a failure surfaces as :class:`StreamInterrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import random
import time
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from loguru import logger

from actors.errors import BadProviderResponse, ProviderError, StreamInterrupted
from actors.http_pool import PooledTransport
from actors.llm.failures import bad_response, redact, transport_error
from actors.llm.gemini import GeminiDialect
from actors.llm.openai_compat import OpenAIDialect
from actors.llm.resilience import (
    CircuitBreaker,
    CircuitSettings,
    CircuitState,
    RetryPolicy,
    counts_against_circuit,
)
from actors.llm.sse import iter_events

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
    from types import TracebackType

    from actors.config import ProviderConfig
    from actors.llm.dialect import Dialect
    from actors.llm.wire import ModelInfo, StreamItem, Turn

_T = TypeVar("_T")
_MAX_MODEL_PAGES = 20
_CONNECT_TIMEOUT = 10.0
_HTTP_OK_MIN = 200
_HTTP_OK_MAX = 299


class _Lifecycle(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class ProviderClient:
    """Talks to one provider; owns one ``httpx.AsyncClient`` for its whole life.

    The HTTP client and the semaphore are created on first use, inside the running event loop
    that will use them, and closed by :meth:`aclose`; a closed client refuses further calls.
    Not thread-safe: one event loop (one actor) owns each instance.

    Args:
        config: The provider's ``[providers.NAME]`` section; ``config.name`` goes into every
            error. ``timeout`` bounds the wait for the answer to start and then each gap
            between two chunks, so a long answer that keeps coming is never cut.
        retry: Retry tuning; by default ``config.max_retries`` retries with the default
            backoff of :class:`RetryPolicy`.
        sleep: Waits between retries; injected so tests do not wait.
        clock: Time source of the circuit breaker.
        rng: Source of retry jitter.
        transport: HTTP transport override, for tests and sandboxes; httpx then leaves
            connection limits to it (the semaphore still applies).
    """

    def __init__(
        self,
        config: ProviderConfig,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        name = config.name
        self._name = name
        self._config = config
        self._api_key = config.api_key.reveal()
        self._retry = retry or RetryPolicy(attempts=config.max_retries + 1)
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._transport = transport
        circuit = CircuitSettings(
            failure_threshold=config.circuit_failure_threshold,
            reset_timeout=config.circuit_reset_seconds,
        )
        self._breaker = CircuitBreaker(circuit, provider=name, clock=clock)
        self._dialect: Dialect
        if config.kind == "gemini":
            self._dialect = GeminiDialect(provider=name, api_key=self._api_key)
        else:
            self._dialect = OpenAIDialect(provider=name, api_key=self._api_key)
        self._lifecycle = _Lifecycle.UNOPENED
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def name(self) -> str:
        """The provider's configured name."""
        return self._name

    @property
    def default_model(self) -> str:
        """The model :meth:`stream` uses when given none."""
        return self._config.default_model

    @property
    def circuit_state(self) -> CircuitState:
        """Whether calls currently go through (for status reports and metrics)."""
        return self._breaker.state

    def open_circuit(self) -> None:
        """Stop calling the provider until the circuit's reset timeout (see ``trip``)."""
        self._breaker.trip()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client; idempotent. Streams still open fail as interrupted."""
        self._lifecycle = _Lifecycle.CLOSED
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    async def list_models(self) -> tuple[ModelInfo, ...]:
        """Models the provider offers, following pagination.

        Raises:
            ProviderError: After retries, or at once if not retryable; CircuitOpen if suspended.
            RuntimeError: The client was closed.
        """
        http, _ = self._open()
        models: list[ModelInfo] = []
        token: str | None = None
        for _ in range(_MAX_MODEL_PAGES):
            page, token = await self._retrying(functools.partial(self._models_page, http, token))
            models.extend(page)
            if not token:
                break
        return tuple(models)

    async def stream(
        self, model: str | None, turns: Sequence[Turn]
    ) -> AsyncGenerator[StreamItem, None]:
        """Stream an answer to ``turns``: text and reasoning as they come, then usage if known.

        Close the iterator (``contextlib.aclosing``) if you stop early: that frees the
        connection and the concurrency slot at once rather than at garbage collection.

        Args:
            model: Model id; None or empty uses ``default_model``.
            turns: The conversation, system prompt first.

        Raises:
            StreamInterrupted: The stream failed after items were yielded; never retried.
            ProviderError: Another failure, after retries where worthwhile.
            RuntimeError: The client was closed.
        """
        http, slots = self._open()
        path, body = self._dialect.stream_request(model or self._config.default_model, turns)
        attempt = 0
        while True:
            attempt += 1
            self._breaker.check()
            delivered = False
            try:
                async with slots, contextlib.aclosing(self._stream_once(http, path, body)) as items:
                    async for item in items:
                        delivered = True
                        yield item
            except ProviderError as exc:
                self._settle_failure(exc)
                if delivered:
                    interrupted = _after_delivery(exc)
                    if interrupted is exc:
                        raise
                    raise interrupted from exc
                delay = self._retry.delay(attempt, exc, self._rng)
                if delay is None:
                    raise
                self._log_retry(attempt, exc, delay)
                await self._sleep(delay)
            except BaseException:
                self._breaker.record_neutral()  # cancelled or closed early: no verdict
                raise
            else:
                self._breaker.record_success()
                return

    def _open(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        if self._lifecycle is _Lifecycle.CLOSED:
            raise RuntimeError(f"provider client {self._name!r} is closed")
        if self._http is None or self._slots is None:
            limit = self._config.max_concurrency
            limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
            self._http = httpx.AsyncClient(
                base_url=self._config.base_url.rstrip("/") + "/",
                headers=self._dialect.headers(),
                timeout=httpx.Timeout(
                    self._config.timeout, connect=min(self._config.timeout, _CONNECT_TIMEOUT)
                ),
                transport=self._transport or PooledTransport(limits=limits),
            )
            self._slots = asyncio.Semaphore(limit)
            self._lifecycle = _Lifecycle.OPEN
        return self._http, self._slots

    async def _retrying(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """Run one non-streaming call under the breaker, the semaphore and the retry policy."""
        _, slots = self._open()
        attempt = 0
        while True:
            attempt += 1
            self._breaker.check()
            try:
                async with slots:
                    result = await call()
            except ProviderError as exc:
                self._settle_failure(exc)
                delay = self._retry.delay(attempt, exc, self._rng)
                if delay is None:
                    raise
                self._log_retry(attempt, exc, delay)
                await self._sleep(delay)
            except BaseException:
                self._breaker.record_neutral()
                raise
            else:
                self._breaker.record_success()
                return result

    async def _models_page(
        self, http: httpx.AsyncClient, token: str | None
    ) -> tuple[tuple[ModelInfo, ...], str | None]:
        path, params = self._dialect.models_request(token)
        try:
            response = await http.get(path, params=params)
        except httpx.RequestError as exc:
            raise self._request_error(exc) from exc
        if not _HTTP_OK_MIN <= response.status_code <= _HTTP_OK_MAX:
            raise self._dialect.error(response.status_code, response.headers, response.content)
        return self._dialect.parse_models(response.content)

    async def _stream_once(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> AsyncGenerator[StreamItem, None]:
        """One attempt: a single HTTP request, decoded; errors mapped, nothing retried."""
        decoder = self._dialect.stream_decoder()
        headers = {"Accept": "text/event-stream"}
        try:
            async with http.stream("POST", path, json=body, headers=headers) as response:
                if not _HTTP_OK_MIN <= response.status_code <= _HTTP_OK_MAX:
                    raw = await response.aread()
                    raise self._dialect.error(response.status_code, response.headers, raw)
                async for event in iter_events(response.aiter_lines()):
                    for item in decoder.feed(event.data):
                        yield item
            for item in decoder.finish():
                yield item
        except httpx.RequestError as exc:
            raise self._request_error(exc) from exc

    def _request_error(self, exc: httpx.RequestError) -> ProviderError:
        if isinstance(exc, httpx.TransportError):
            return transport_error(self._name, exc)
        return bad_response(self._name, type(exc).__name__)

    def _settle_failure(self, exc: ProviderError) -> None:
        """Tell the breaker, and make sure the key appears nowhere in what we raise."""
        if counts_against_circuit(exc):
            self._breaker.record_failure()
        else:
            self._breaker.record_neutral()
        exc.provider = self._name
        message = str(exc)
        clean = redact(message, self._api_key)
        if clean != message:
            exc.args = (clean, *exc.args[1:])

    def _log_retry(self, attempt: int, error: ProviderError, delay: float) -> None:
        logger.warning(
            "{provider}: attempt {attempt} failed ({error}); retrying in {delay:.2f}s",
            provider=self._name,
            attempt=attempt,
            error=error,
            delay=delay,
        )


def _after_delivery(error: ProviderError) -> ProviderError:
    """What a failure becomes once the user has seen part of the answer.

    Anything a caller might retry turns into :class:`StreamInterrupted`, so nobody resends a
    request whose beginning is already on screen; unparsable data stays what it is.
    """
    if isinstance(error, StreamInterrupted | BadProviderResponse) or not error.retryable:
        return error
    return StreamInterrupted(
        f"{error.provider}: answer interrupted: {error}", provider=error.provider
    )
