"""The provider actor: one per configured LLM provider, owning its ProviderClient.

Requests run as coroutines on the shared event loop, so a slow answer for one chat never
delays another (up to the provider's concurrency limit). Every outcome reaches the
asking chat's session as a message: done or failed.

The provider also shows each answer in Telegram as it streams, when the session asks it
to (:class:`AnswerDisplay`): "typing…", drafts, then the final text or a friendly line,
told from the loop to the gateway, whose output is served on the same loop. The session
hears the outcome after it was shown, and keeps the books.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import time

from loguru import logger

from actors.chat.messages import AnswerDone, AnswerFailed, ModelsListed
from actors.chat.texts import EMPTY_ANSWER, provider_failure
from actors.config import ProviderConfig
from actors.errors import ProviderError
from actors.llm.client import ProviderClient
from actors.llm.wire import ModelInfo, TextDelta, Turn, Usage
from actors.loop import let_calls_start
from actors.telegram.messages import FinishAnswer, ShowDraft, ShowTyping
from runtime import Actor, ActorContext, Address, AsyncLoop, Message, receive

MODELS_TTL = 600.0


class AnswerDisplay(Message, frozen=True, kw_only=True):
    """Where and how a provider shows the answer it makes, in Telegram.

    "typing…" at once, a draft with the first words, then at most one every
    ``draft_every`` seconds, and the final text (or what streamed and a friendly line,
    if the call fails). All of it goes from the provider's coroutine to the gateway, both
    on the event loop, so an answer reaches Telegram without crossing to the session's
    thread and back (each crossing a wake-up and a wait for the GIL). The session keeps
    the books when it hears the outcome.
    """

    gateway: Address
    draft_every: float
    reply_to_message_id: int | None = None  # in a group, the question being answered


class Generate(Message, frozen=True, kw_only=True):
    """Answer ``turns`` (system prompt first) for chat ``chat_id``, streaming."""

    request_id: str
    chat_id: int
    model: str | None
    turns: tuple[Turn, ...]
    question: str = ""  # handed back in AnswerDone, for a session that lost track of it
    topic_id: int = 0  # the forum topic asked in, echoed in the answer for the same reason
    display: AnswerDisplay | None = None  # None: show nothing, the asker will


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
        if request.display is not None:
            request.display.gateway.tell(
                ShowTyping(chat_id=request.chat_id, topic_id=request.topic_id)
            )

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            usage = await self._stream(client, model, request, parts)
        except ProviderError as exc:
            logger.warning("{} failed for chat {}: {}", self._config.name, request.chat_id, exc)
            session.tell(self._failed(request, model, exc, elapsed_ms(), parts))
            return
        except asyncio.CancelledError:  # the session gave up on it, or we are stopping
            cancelled = RuntimeError("cancelled")
            session.tell(self._failed(request, model, cancelled, elapsed_ms(), parts, show=False))
            raise
        except Exception as exc:  # noqa: BLE001 - boundary: the user must hear back
            logger.exception(
                "{}: unexpected error answering chat {}", self._config.name, request.chat_id
            )
            session.tell(self._failed(request, model, exc, elapsed_ms(), parts))
            return
        text = "".join(parts)
        done = AnswerDone(
            request_id=request.request_id,
            provider=self._config.name,
            model=model,
            text=text,
            question=request.question,
            topic_id=request.topic_id,
            tokens_in=usage.tokens_in if usage else None,
            tokens_out=usage.tokens_out if usage else None,
            latency_ms=elapsed_ms(),
        )
        if request.display is None:
            session.tell(done)
            return
        shown = text if text.strip() else EMPTY_ANSWER
        request.display.gateway.tell(_final(request, request.display, shown))
        try:
            await let_calls_start()
        finally:  # cancelled meanwhile, the answer is still made and shown: say so
            session.tell(done)

    @staticmethod
    async def _stream(
        client: ProviderClient, model: str, request: Generate, parts: list[str]
    ) -> Usage | None:
        """Stream the answer into ``parts``, drafting it as asked; return the usage reported.

        The first draft goes with the first words, and its call starts before the stream is
        read on; then one at most every ``draft_every``.
        """
        display = request.display
        usage: Usage | None = None
        drafted_at = -math.inf
        async with contextlib.aclosing(client.stream(model, request.turns)) as stream:
            async for item in stream:
                if isinstance(item, TextDelta) and item.text:
                    parts.append(item.text)
                    now = time.monotonic()
                    if display is not None and now - drafted_at >= display.draft_every:
                        first, drafted_at = drafted_at == -math.inf, now
                        display.gateway.tell(_draft(request, display, "".join(parts)))
                        if first:
                            await let_calls_start()
                elif isinstance(item, Usage):
                    usage = item
        return usage

    def _failed(
        self,
        request: Generate,
        model: str,
        exc: BaseException,
        latency_ms: int,
        parts: list[str],
        *,
        show: bool = True,
    ) -> AnswerFailed:
        """The outcome for the session; shown first (what streamed, a friendly line) if asked.

        A cancelled answer is not shown here: either the session gave up on it and said so
        already, or this provider is stopping and the session, told now, says so itself.
        """
        partial = "".join(parts)
        error = type(exc).__name__
        display = request.display
        shown = False
        if show and display is not None:
            display.gateway.tell(_final(request, display, partial, provider_failure(error)))
            shown = True
        return AnswerFailed(
            request_id=request.request_id,
            provider=self._config.name,
            model=model,
            error=error,
            detail=str(exc),
            latency_ms=latency_ms,
            topic_id=request.topic_id,
            partial=partial,
            shown=shown,
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


def _draft(request: Generate, display: AnswerDisplay, markdown: str) -> ShowDraft:
    """The draft of ``request``'s answer showing ``markdown``, the text so far."""
    return ShowDraft(
        chat_id=request.chat_id,
        draft_id=request.request_id,
        markdown=markdown,
        reply_to_message_id=display.reply_to_message_id,
        topic_id=request.topic_id,
    )


def _final(
    request: Generate, display: AnswerDisplay, markdown: str, notice: str = ""
) -> FinishAnswer:
    """The final text of ``request``'s answer (its draft becomes it), ``notice`` appended."""
    return FinishAnswer(
        chat_id=request.chat_id,
        draft_id=request.request_id,
        markdown=markdown,
        notice=notice,
        reply_to_message_id=display.reply_to_message_id,
        topic_id=request.topic_id,
    )
