"""The HTTP side shared by the LLM emulators: an :class:`LLMScript` served on 127.0.0.1.

Both emulators derive from :class:`LLMEmulator`, so a test scripts either one through the same
methods; each subclass only adds its routes and translates an :class:`Answer`, a
:class:`Fail` or a :class:`Malformed` into its wire format.
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import TYPE_CHECKING, Any, Self

from tests.emulators._http import EventStream, HttpServer
from tests.emulators.llm_script import (
    Answer,
    Cut,
    Disconnect,
    Fail,
    Hang,
    LLMScript,
    Malformed,
    RecordedRequest,
    Reply,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from tests.emulators._http import Drop, Request, ServerSentEvent
    from tests.emulators._http import Reply as HttpReply


class LLMEmulator(LLMScript):
    """An :class:`LLMScript` served over HTTP on 127.0.0.1: the base of both LLM emulators.

    Subclasses add their routes to ``self.server`` and translate; this base owns the server's
    lifecycle (``with emulator:`` or ``start()``/``close()``), the API key, and what every
    handler shares: recording, global latency, in-flight counting, outcome playing, and
    sleeping in a way that closing the server interrupts.

    Args:
        api_key: The only key accepted; may be changed at run time.
        models: Model ids offered at start.
        name: Thread-name prefix, so a leaked thread says whose it is.
        prefix: Path of the API root (``/v1``, ``/v1beta``); :attr:`base_url` ends with it.
        host: Address to bind; loopback only makes sense.
        port: Port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        api_key: str,
        models: Sequence[str],
        name: str,
        prefix: str,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(models)
        self.api_key = api_key
        self.prefix = prefix
        self.server = HttpServer(host=host, port=port, name=name)

    @property
    def base_url(self) -> str:
        """The API root a client is configured with, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url + self.prefix

    def start(self) -> Self:
        """Bind a free port and serve on background threads."""
        self.server.start()
        return self

    def close(self) -> None:
        """Stop serving, interrupt hanging and streaming handlers, join every thread."""
        self.server.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- for subclasses ---------------------------------------------------------------------

    def pause(self, seconds: float) -> bool:
        """Sleep in a handler; False if the server began closing meanwhile (stop answering)."""
        return self.server.sleep(seconds)

    def counted(self, handler: Callable[[Request], HttpReply]) -> Callable[[Request], HttpReply]:
        """Wrap a generation handler so its request counts as in flight until fully answered.

        For a stream that is until the stream ends, is dropped, or is abandoned unstarted
        (a finalizer covers that case, where a generator's ``finally`` would never run).
        """

        def run(request: Request) -> HttpReply:
            release = self._arrive()
            try:
                reply = handler(request)
            except BaseException:
                release()
                raise
            if not isinstance(reply, EventStream):
                release()
                return reply
            events = _released_after(reply.events, release)
            weakref.finalize(events, release)
            return dataclasses.replace(reply, events=events)

        return run

    def begin(self, request: Request, **fields: Any) -> RecordedRequest:
        """Record ``request``, then apply the global latency; ``fields`` fill in the rest."""
        try:
            body = request.json() if request.body else None
        except ValueError:
            body = None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            at=time.monotonic(),
            **fields,
        )
        self.record(recorded)
        self.pause(self.latency)
        return recorded

    def play_listing(self, recorded: RecordedRequest) -> Fail | Malformed | None:
        """The scripted outcome for a model listing: an error, garbage, or None for normal."""
        outcome = self.next_outcome(recorded)
        if isinstance(outcome, Hang):
            self.pause(outcome.seconds)
            return None
        return outcome if isinstance(outcome, Fail | Malformed) else None

    def play(
        self, recorded: RecordedRequest, *, default_reasoning: bool
    ) -> Answer | Fail | Malformed | None:
        """Take the next outcome for a valid generation request and wait out its delays.

        Returns what to render: an :class:`Answer` (with ``cut_after`` for a cut stream), a
        :class:`Fail` or :class:`Malformed`, or None if the connection is to be dropped (a
        scripted :class:`Disconnect`, or the server began closing meanwhile).
        """
        outcome = self.next_outcome(recorded) or Reply(text=None)
        if isinstance(outcome, Disconnect):
            return None
        if isinstance(outcome, Hang):
            if not self.pause(outcome.seconds):
                return None
            outcome = Reply(text=None)
        if isinstance(outcome, Fail | Malformed):
            return outcome
        if isinstance(outcome, Cut):
            answer = self.answer(Reply(text=None), recorded, default_reasoning=default_reasoning)
            return dataclasses.replace(answer, cut_after=outcome.after_chunks)
        answer = self.answer(outcome, recorded, default_reasoning=default_reasoning)
        return answer if self.pause(answer.delay) else None

    def paced(self, answer: Answer) -> Iterator[tuple[str, str] | None]:
        """Reasoning then text chunks as ``(kind, text)``, with the answer's pacing applied.

        Yields None, and stops, where the connection must be dropped: after ``cut_after``
        chunks of a cut stream, or when the server starts closing.
        """
        pieces = [("reasoning", c) for c in answer.reasoning_chunks]
        pieces += [("text", c) for c in answer.text_chunks]
        for index, pair in enumerate(pieces):
            cut = answer.cut_after is not None and index >= answer.cut_after
            if cut or (index and not self.pause(answer.chunk_delay)):
                yield None
                return
            yield pair
        if answer.cut_after is not None:
            yield None


def _released_after(
    events: Iterable[ServerSentEvent | bytes | Drop], release: Callable[[], None]
) -> Iterator[ServerSentEvent | bytes | Drop]:
    try:
        yield from events
    finally:
        release()
