"""What a provider API module must provide so :class:`ProviderClient` can drive it.

A dialect is pure translation, with no I/O: neutral turns to a request body, response bytes
and stream events back to neutral items, an error body to an error. The client owns the HTTP,
the retries and the circuit breaker, so each wire format is tested as plain data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from actors.errors import ProviderError
    from actors.llm.wire import ModelInfo, StreamItem, Turn


class StreamDecoder(Protocol):
    """Decodes the events of one streamed answer; a fresh one for every attempt."""

    def feed(self, data: str) -> list[StreamItem]:
        """Items carried by one event's data.

        Raises:
            BadProviderResponse: The data is not what this API sends.
            ProviderError: The provider reported an error inside the stream.
        """
        ...

    def finish(self) -> list[StreamItem]:
        """Items held back until the end (usage, text held as a possible tag).

        Raises:
            StreamInterrupted: The stream ended before the provider marked the answer done.
        """
        ...


class Dialect(Protocol):
    """One provider API's wire format."""

    def headers(self) -> dict[str, str]:
        """Headers for every request, authentication included."""
        ...

    def models_request(self, page_token: str | None) -> tuple[str, dict[str, str]]:
        """Path (relative to the base URL) and query parameters for one page of models."""
        ...

    def parse_models(self, body: bytes) -> tuple[tuple[ModelInfo, ...], str | None]:
        """Models on one page and the token of the next page, if any.

        Raises:
            BadProviderResponse: The body is not a model list.
        """
        ...

    def stream_request(self, model: str, turns: Sequence[Turn]) -> tuple[str, dict[str, Any]]:
        """Path, relative to the base URL, and JSON body that stream an answer."""
        ...

    def stream_decoder(self) -> StreamDecoder:
        """A decoder for one streamed answer."""
        ...

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """The error for a non-2xx answer."""
        ...
