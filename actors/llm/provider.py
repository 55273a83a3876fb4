"""The provider actor: one per configured LLM provider, owning its ProviderClient.

Requests run as coroutines on the shared event loop, so a slow answer for one chat never
delays another (up to the provider's concurrency limit). Every outcome reaches the
asking chat's session as a message: chunks as they stream, then done or failed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time

from loguru import logger

from actors.chat.messages import AnswerChunk, AnswerDone, AnswerFailed, ModelsListed
from actors.config import ProviderConfig
from actors.errors import ProviderError
from actors.llm.client import ProviderClient
from actors.llm.wire import ModelInfo, TextDelta, Turn, Usage
from runtime import Actor, ActorContext, Address, AsyncLoop, Message, receive

MODELS_TTL = 600.0


class Generate(Message, frozen=True, kw_only=True):
    """Answer ``turns`` (system prompt first) for chat ``chat_id``, streaming."""

    request_id: str
    chat_id: int
    model: str | None
    turns: tuple[Turn, ...]
    question: str = ""  # handed back in AnswerDone, for a session that lost track of it
    topic_id: int = 0  # the forum topic asked in, echoed in the answer for the same reason


class CancelGenerate(Message, frozen=True, kw_only=True):
    """Stop working on a request the session has given up on (it was overdue)."""

    request_id: str


class ListModels(Message, frozen=True, kw_only=True):
    """Tell chat ``chat_id``'s session which models this provider offers."""

    chat_id: int


class CountInFlight(Message, frozen=True, kw_only=True):
    """Ask: how many answers are being generated right now (for graceful shutdown)."""


class ModelsFetched(Message, frozen=True, kw_only=True):
    """Internal: the outcome of a model listing that ran on the event loop."""

    models: tuple[str, ...]
    error: str | None = None


class ProbeProvider(Message, frozen=True, kw_only=True):
    """Command: check this provider for the health supervisor (its circuit and a cheap call).

    The cheap call is a model listing bounded by ``timeout`` seconds. It runs on the event
    loop and its outcome goes to ``reply_to`` as :class:`ProviderProbed`, so neither this
    actor nor the health supervisor waits for it. ``reply_to`` is an address (Akka's
    request-response pattern): this message is handed over in memory, never encoded.
    """

    probe_id: str
    reply_to: Address
    timeout: float


class ProviderProbed(Message, frozen=True, kw_only=True):
    """Event: how a :class:`ProbeProvider` went; ``circuit`` is closed, open or half-open."""

    provider: str
    probe_id: str
    ok: bool
    circuit: str
    detail: str
    took_ms: float


class FetchModels(Message, frozen=True, kw_only=True):
    """Command: list this provider's models afresh and tell ``reply_to`` :class:`ModelsOffered`.

    For the model catalog's refresh: unlike :class:`ListModels` it skips this actor's short
    cache, since the point is to see what changed. ``reply_to`` is an address handed over
    in memory (as in :class:`ProbeProvider`); ``request_id`` is handed back.
    """

    request_id: str
    reply_to: Address


class ModelsOffered(Message, frozen=True, kw_only=True):
    """Event: the answer to :class:`FetchModels`, as ``(model id, display name)`` pairs.

    ``error`` names what went wrong (``"ProviderError: ..."``); then ``models`` is empty.
    """

    request_id: str
    provider: str
    models: tuple[tuple[str, str], ...]
    error: str | None = None


class OpenCircuit(Message, frozen=True, kw_only=True):
    """Command: stop calling this provider until its circuit's reset timeout has passed.

    Sent by the health supervisor when the provider keeps failing its checks: chats then get
    the short "unavailable" line at once rather than each waiting out timeouts and retries.
    """


ProviderRequest = (
    Generate
    | CancelGenerate
    | ListModels
    | CountInFlight
    | ModelsFetched
    | ProbeProvider
    | OpenCircuit
    | FetchModels
)


class ProviderActor(Actor):
    """See the module docstring."""

    def __init__(
        self,
        context: ActorContext,
        config: ProviderConfig,
        loop: AsyncLoop,
        sessions: Address,
    ) -> None:
        super().__init__(context)
        self._config = config
        self._loop = loop
        self._sessions = sessions
        self._client: ProviderClient | None = None
        self._inflight: dict[str, concurrent.futures.Future[None]] = {}
        self._models: tuple[str, ...] = ()
        self._models_at = 0.0
        self._listing = False
        self._waiting_for_models: set[int] = set()

    def on_start(self) -> None:
        self._client = ProviderClient(self._config)
        # Generate and CancelGenerate go straight to the loop: the answer is made there, and
        # this thread would only pass them on. So _inflight is the loop's to write.
        self.serve_on_loop(self._loop.loop, Generate, CancelGenerate)

    def on_stop(self) -> None:
        for future in list(self._inflight.values()):
            future.cancel()
        client, self._client = self._client, None
        if client is not None and self._loop.running:
            try:
                self._loop.submit(client.aclose()).result(5.0)
            except (concurrent.futures.TimeoutError, RuntimeError) as exc:
                logger.warning("{}: closing its HTTP client failed: {}", self._config.name, exc)

    @property
    def client(self) -> ProviderClient:
        if self._client is None:
            raise RuntimeError(f"provider {self._config.name} is not running")
        return self._client

    @receive
    def generate(self, message: Generate) -> None:
        future = self._loop.submit(self._answer(self.client, message))
        request_id = message.request_id
        self._inflight[request_id] = future
        future.add_done_callback(lambda _: self._inflight.pop(request_id, None))

    @receive
    def cancel_generate(self, message: CancelGenerate) -> None:
        future = self._inflight.get(message.request_id)
        if future is not None:
            future.cancel()

    async def _answer(self, client: ProviderClient, request: Generate) -> None:
        session = self._sessions.child(request.chat_id)
        model = request.model or self._config.default_model
        started = time.monotonic()
        parts: list[str] = []
        usage: Usage | None = None

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with contextlib.aclosing(client.stream(model, request.turns)) as stream:
                async for item in stream:
                    if isinstance(item, TextDelta) and item.text:
                        parts.append(item.text)
                        session.tell(
                            AnswerChunk(
                                request_id=request.request_id,
                                text=item.text,
                                topic_id=request.topic_id,
                            )
                        )
                    elif isinstance(item, Usage):
                        usage = item
        except ProviderError as exc:
            logger.warning("{} failed for chat {}: {}", self._config.name, request.chat_id, exc)
            session.tell(self._failed(request, model, exc, elapsed_ms()))
            return
        except asyncio.CancelledError:
            session.tell(self._failed(request, model, RuntimeError("cancelled"), elapsed_ms()))
            raise
        except Exception as exc:  # noqa: BLE001 - boundary: the user must hear back
            logger.exception(
                "{}: unexpected error answering chat {}", self._config.name, request.chat_id
            )
            session.tell(self._failed(request, model, exc, elapsed_ms()))
            return
        session.tell(
            AnswerDone(
                request_id=request.request_id,
                provider=self._config.name,
                model=model,
                text="".join(parts),
                question=request.question,
                topic_id=request.topic_id,
                tokens_in=usage.tokens_in if usage else None,
                tokens_out=usage.tokens_out if usage else None,
                latency_ms=elapsed_ms(),
            )
        )

    def _failed(
        self, request: Generate, model: str, exc: BaseException, latency_ms: int
    ) -> AnswerFailed:
        return AnswerFailed(
            request_id=request.request_id,
            provider=self._config.name,
            model=model,
            error=type(exc).__name__,
            detail=str(exc),
            latency_ms=latency_ms,
            topic_id=request.topic_id,
        )

    @receive
    def count_in_flight(self, _message: CountInFlight) -> int:
        return len(self._inflight)

    @receive
    def list_models(self, message: ListModels) -> None:
        if self._models and time.monotonic() - self._models_at < MODELS_TTL:
            self._tell_models(message.chat_id, None)
            return
        self._waiting_for_models.add(message.chat_id)
        if self._listing:
            return
        self._listing = True
        self._loop.pipe(
            self.client.list_models(),
            to=self.context.address,
            on_success=lambda models: ModelsFetched(models=_model_ids(models)),
            on_failure=lambda exc: ModelsFetched(models=(), error=f"{type(exc).__name__}: {exc}"),
        )

    @receive
    def models_fetched(self, message: ModelsFetched) -> None:
        self._listing = False
        if message.error is None and message.models:
            self._models = message.models
            self._models_at = time.monotonic()
        else:
            logger.warning("{}: listing models failed: {}", self._config.name, message.error)
        waiting, self._waiting_for_models = self._waiting_for_models, set()
        for chat_id in waiting:
            self._tell_models(chat_id, message.error)

    @receive
    def probe(self, message: ProbeProvider) -> None:
        name = self._config.name

        def failed(exc: BaseException) -> ProviderProbed:
            return ProviderProbed(
                provider=name,
                probe_id=message.probe_id,
                ok=False,
                circuit="unknown",
                detail=f"{type(exc).__name__}: {exc}",
                took_ms=0.0,
            )

        self._loop.pipe(
            _probe(self.client, message),
            to=message.reply_to,
            on_success=lambda probed: probed,
            on_failure=failed,
        )

    @receive
    def fetch_models(self, message: FetchModels) -> None:
        name, request_id = self._config.name, message.request_id
        self._loop.pipe(
            self.client.list_models(),
            to=message.reply_to,
            on_success=lambda models: ModelsOffered(
                request_id=request_id,
                provider=name,
                models=tuple((model.id, model.display_name or model.id) for model in models),
            ),
            on_failure=lambda exc: ModelsOffered(
                request_id=request_id,
                provider=name,
                models=(),
                error=f"{type(exc).__name__}: {exc}",
            ),
        )

    @receive
    def open_circuit(self, _message: OpenCircuit) -> None:
        # The breaker belongs to the event loop (it is not thread-safe): trip it there.
        self._loop.loop.call_soon_threadsafe(self.client.open_circuit)
        logger.warning("{}: circuit opened by the health supervisor", self._config.name)

    def _tell_models(self, chat_id: int, error: str | None) -> None:
        models = self._models or self._config.models or (self._config.default_model,)
        self._sessions.child(chat_id).tell(
            ModelsListed(
                provider=self._config.name,
                models=models,
                default_model=self._config.default_model,
                error=error if not self._models else None,
            )
        )


def _model_ids(models: tuple[ModelInfo, ...]) -> tuple[str, ...]:
    return tuple(model.id for model in models)


async def _probe(client: ProviderClient, request: ProbeProvider) -> ProviderProbed:
    """List models within the probe's timeout, then read the circuit on the loop that owns it.

    Failures are the answer, not errors: an open circuit fails at once (CircuitOpen) without
    calling the provider, and a listing cut off by the timeout counts as failed.
    """
    started = time.monotonic()
    try:
        models = await asyncio.wait_for(client.list_models(), request.timeout)
    except ProviderError as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    except TimeoutError:
        ok, detail = False, f"no answer within {request.timeout:g}s"
    else:
        ok, detail = True, f"{len(models)} models listed"
    return ProviderProbed(
        provider=client.name,
        probe_id=request.probe_id,
        ok=ok,
        circuit=client.circuit_state.value,
        detail=detail,
        took_ms=(time.monotonic() - started) * 1000.0,
    )
