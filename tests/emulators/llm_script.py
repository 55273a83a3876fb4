"""Scripted behaviour shared by the LLM API emulators: what to answer, and what was asked.

The emulators only translate to their wire format; this module decides. A test (or a
benchmark, or the local sandbox) queues outcomes, each consumed by one request:
``reply``, ``error``, ``malformed``, ``cut_stream``, ``hang``, ``disconnect`` (errors,
malformed bodies and hangs can target the model listing instead with ``on="models"``); adds
standing rules matched on the last user message (``slow_when(contains="slow", delay=5.0)``)
and a global latency; and reads back every request received (``requests``,
``wait_for_requests``). Without a script the answer is ``"Echo: <last user text>"``, streamed
one word per chunk, so a test can recognise it.

:class:`LLMScript` holds that state behind one lock, because the HTTP server answers each
connection on its own thread; ``_llm_server.LLMEmulator`` serves it over HTTP and is the base
of both emulators, so they share one control API.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

RequestKind = Literal["models", "generate", "other"]
Target = Literal["generate", "models"]


@dataclass(frozen=True, kw_only=True)
class Reply:
    """Answer normally; ``text=None`` means the default echo (used by rules)."""

    text: str | None
    reasoning: str | None = None
    chunks: int | tuple[str, ...] | None = None
    delay: float = 0.0
    chunk_delay: float | None = None


@dataclass(frozen=True, kw_only=True)
class Fail:
    """Answer with an HTTP error in the API's own error shape."""

    status: int
    retry_after: float | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Malformed:
    """Answer 200 with a body (or a first stream chunk) that is not valid JSON."""


@dataclass(frozen=True, kw_only=True)
class Cut:
    """Start streaming the default answer, then drop the connection after some chunks."""

    after_chunks: int


@dataclass(frozen=True, kw_only=True)
class Hang:
    """Say nothing for ``seconds`` (cut short when the emulator closes), then answer."""

    seconds: float


@dataclass(frozen=True, kw_only=True)
class Disconnect:
    """Close the connection without sending a byte (a reset or an overloaded proxy)."""


Outcome = Reply | Fail | Malformed | Cut | Hang | Disconnect


@dataclass(frozen=True, kw_only=True)
class SeenAttachment:
    """A file a generation request carried (an image, a PDF, audio), decoded from base64.

    ``role`` is the message it came in; ``name`` is the file name, when the wire format has one.
    """

    role: str
    mime_type: str
    data: bytes
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """One request as the emulator received it; ``headers`` keys are lower-case.

    ``body`` is the parsed JSON (None if there was none or it was invalid); ``at`` is
    ``time.monotonic()`` on arrival; ``model``, ``last_user_text``, ``streamed`` and
    ``attachments`` (every file the request carried, in order) are filled in by the emulator
    for generation requests.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    at: float
    kind: RequestKind
    model: str | None = None
    last_user_text: str = ""
    streamed: bool = False
    attachments: tuple[SeenAttachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A :class:`Reply` resolved into exactly what to send."""

    text_chunks: tuple[str, ...]
    reasoning_chunks: tuple[str, ...]
    delay: float
    chunk_delay: float
    cut_after: int | None = None
    usage: tuple[int, int] | None = None  # (prompt, completion) to report, else estimated

    @property
    def text(self) -> str:
        """The whole answer text."""
        return "".join(self.text_chunks)

    @property
    def reasoning(self) -> str:
        """The whole reasoning text."""
        return "".join(self.reasoning_chunks)


@dataclass
class _State:
    models: tuple[str, ...]
    queues: dict[Target, deque[Outcome]] = field(
        default_factory=lambda: {"generate": deque(), "models": deque()}
    )
    rules: list[tuple[str, Outcome]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    latency: float = 0.0
    chunk_delay: float = 0.0
    usage: tuple[int, int] | None = None
    in_flight: int = 0
    max_in_flight: int = 0


class LLMScript:
    """Thread-safe script and request log of one emulator.

    Args:
        models: Model ids the emulator lists and accepts.
    """

    def __init__(self, models: Sequence[str]) -> None:
        self._changed = threading.Condition()
        self._state = _State(models=tuple(models))

    # --- scripting --------------------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        """Model ids currently offered."""
        with self._changed:
            return self._state.models

    def set_models(self, models: Sequence[str]) -> None:
        """Change the offered models at run time (the listing and validation both follow)."""
        with self._changed:
            self._state.models = tuple(models)

    def reply(
        self,
        text: str,
        *,
        reasoning: str | None = None,
        chunks: int | Sequence[str] | None = None,
        delay: float = 0.0,
        chunk_delay: float | None = None,
    ) -> None:
        """Queue an answer for the next generation request.

        Args:
            text: The answer.
            reasoning: Reasoning sent before it (``reasoning_content``, or thought parts when
                the Gemini request asks for thoughts).
            chunks: None: one chunk per word; an int: that many near-equal chunks; strings:
                exactly these chunks, which must join to ``text`` (to split tags on purpose).
            delay: Seconds before the first byte.
            chunk_delay: Seconds between chunks; None uses the global setting.

        Raises:
            ValueError: ``chunks`` do not join to ``text``.
        """
        if chunks is not None and not isinstance(chunks, int):
            chunks = tuple(chunks)
            if "".join(chunks) != text:
                raise ValueError("reply chunks must join to the reply text")
        outcome = Reply(
            text=text, reasoning=reasoning, chunks=chunks, delay=delay, chunk_delay=chunk_delay
        )
        self._enqueue(outcome, "generate")

    def error(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        message: str | None = None,
        on: Target = "generate",
    ) -> None:
        """Queue an HTTP error in the API's shape; ``retry_after`` is in seconds."""
        self._enqueue(Fail(status=status, retry_after=retry_after, message=message), on)

    def malformed(self, *, on: Target = "generate") -> None:
        """Queue a 200 whose body, or first stream chunk, is not valid JSON."""
        self._enqueue(Malformed(), on)

    def cut_stream(self, after_chunks: int) -> None:
        """Queue a default answer dropped (no terminating chunk) after ``after_chunks`` chunks.

        Reasoning and text chunks both count; a non-streamed answer is cut mid-body.
        """
        self._enqueue(Cut(after_chunks=after_chunks), "generate")

    def hang(self, seconds: float, *, on: Target = "generate") -> None:
        """Queue a request that gets no answer for ``seconds``, then the default one."""
        self._enqueue(Hang(seconds=seconds), on)

    def disconnect(self) -> None:
        """Queue a generation request whose connection is closed before any answer."""
        self._enqueue(Disconnect(), "generate")

    def when(self, contains: str, outcome: Outcome) -> None:
        """Standing rule for generation requests whose last user message contains a text.

        Queued outcomes go first; the first matching rule wins over the default echo.
        """
        with self._changed:
            self._state.rules.append((contains, outcome))

    def slow_when(self, *, contains: str, delay: float) -> None:
        """Standing rule: echo as usual, but only after ``delay`` seconds (for load tests)."""
        self.when(contains, Reply(text=None, delay=delay))

    def set_usage(self, tokens_in: int, tokens_out: int) -> None:
        """Report these token counts for every answer from now on, instead of estimates.

        For tests of usage accounting, which compare the bot's figures with the provider's.
        """
        with self._changed:
            self._state.usage = (tokens_in, tokens_out)

    def set_latency(self, seconds: float, *, chunk_delay: float = 0.0) -> None:
        """Delay before answering every request, and between stream chunks by default."""
        with self._changed:
            self._state.latency = seconds
            self._state.chunk_delay = chunk_delay

    def reset(self) -> None:
        """Forget queued outcomes, rules, latency and recorded requests (models stay)."""
        with self._changed:
            self._state = _State(models=self._state.models)

    # --- observing --------------------------------------------------------------------------

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far, in arrival order."""
        with self._changed:
            return tuple(self._state.requests)

    @property
    def generate_requests(self) -> tuple[RecordedRequest, ...]:
        """Only the requests that asked for an answer."""
        return tuple(r for r in self.requests if r.kind == "generate")

    @property
    def pending_outcomes(self) -> int:
        """Queued outcomes not consumed yet."""
        with self._changed:
            return sum(len(queue) for queue in self._state.queues.values())

    @property
    def in_flight(self) -> int:
        """Generation requests being answered right now."""
        with self._changed:
            return self._state.in_flight

    @property
    def max_in_flight(self) -> int:
        """Most generation requests ever answered at once (to check concurrency limits)."""
        with self._changed:
            return self._state.max_in_flight

    @property
    def latency(self) -> float:
        """The global delay before every answer."""
        with self._changed:
            return self._state.latency

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> tuple[RecordedRequest, ...]:
        """Block until ``n`` requests have arrived; returns all received so far.

        Raises:
            TimeoutError: Fewer than ``n`` arrived within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._state.requests) >= n, timeout):
                got = len(self._state.requests)
                raise TimeoutError(f"expected {n} requests within {timeout}s, got {got}")
            return tuple(self._state.requests)

    # --- used by the emulators --------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Log a request before it is answered, so waiters see hanging ones too."""
        with self._changed:
            self._state.requests.append(request)
            self._changed.notify_all()

    def next_outcome(self, request: RecordedRequest) -> Outcome | None:
        """The queued outcome for this kind of request, else a matching rule, else None."""
        target: Target = "models" if request.kind == "models" else "generate"
        with self._changed:
            queue = self._state.queues[target]
            if queue:
                return queue.popleft()
            if target == "generate":
                for contains, outcome in self._state.rules:
                    if contains in request.last_user_text:
                        return outcome
        return None

    def answer(self, reply: Reply, request: RecordedRequest, *, default_reasoning: bool) -> Answer:
        """Resolve a :class:`Reply` against the request and the global settings."""
        with self._changed:
            chunk_delay = self._state.chunk_delay
            usage = self._state.usage
        if reply.text is None:
            text = f"Echo: {request.last_user_text}"
            reasoning = f"Thinking about: {request.last_user_text}" if default_reasoning else None
        else:
            text, reasoning = reply.text, reply.reasoning
        return Answer(
            text_chunks=split_chunks(text, reply.chunks),
            reasoning_chunks=split_chunks(reasoning, None) if reasoning else (),
            delay=reply.delay,
            chunk_delay=chunk_delay if reply.chunk_delay is None else reply.chunk_delay,
            usage=usage,
        )

    def _arrive(self) -> Callable[[], None]:
        """Count a request in flight; returns its idempotent, thread-safe release."""
        with self._changed:
            self._state.in_flight += 1
            self._state.max_in_flight = max(self._state.max_in_flight, self._state.in_flight)
        released = threading.Event()

        def release() -> None:
            with self._changed:
                if not released.is_set():
                    released.set()
                    self._state.in_flight -= 1

        return release

    def _enqueue(self, outcome: Outcome, target: Target) -> None:
        with self._changed:
            self._state.queues[target].append(outcome)


_WORD = re.compile(r"\S+\s*|\s+")


def split_chunks(text: str, chunks: int | tuple[str, ...] | None) -> tuple[str, ...]:
    """Split ``text`` as :meth:`LLMScript.reply` describes."""
    if isinstance(chunks, tuple):
        return chunks
    if not text:
        return ()
    if chunks is None:
        return tuple(_WORD.findall(text))
    count = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return tuple(pieces)


def estimate_tokens(text: str) -> int:
    """Deterministic stand-in for a tokenizer: about four characters per token."""
    return (len(text) + 3) // 4
