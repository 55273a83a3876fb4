"""Map HTTP statuses and transport failures onto the ``actors.errors`` tree.

Both provider dialects share this, so a 429 or a dropped connection means the same thing to
the retry loop whichever API produced it. Messages are built from what the provider said,
scrubbed of the API key (OpenAI echoes a masked key on 401, proxies echo whole URLs).
"""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from actors.errors import (
    AuthenticationFailed,
    BadProviderResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

_MAX_MESSAGE = 300
_MIN_ECHO = 8
_HTTP_UNAUTHORIZED = 401
_HTTP_FORBIDDEN = 403
_HTTP_REQUEST_TIMEOUT = 408
_HTTP_TOO_MANY_REQUESTS = 429
_HTTP_SERVER_ERROR = 500


def status_error(
    provider: str,
    status: int,
    message: str,
    *,
    retry_after: float | None = None,
) -> ProviderError:
    """The error for a non-2xx answer; ``message`` is the provider's own explanation."""
    text = f"{provider}: HTTP {status}: {message}" if message else f"{provider}: HTTP {status}"
    if status in {_HTTP_UNAUTHORIZED, _HTTP_FORBIDDEN}:
        return AuthenticationFailed(text, provider=provider)
    if status == _HTTP_TOO_MANY_REQUESTS:
        return RateLimited(text, provider=provider, retry_after=retry_after)
    if status == _HTTP_REQUEST_TIMEOUT:
        return ProviderTimeout(text, provider=provider)
    if status >= _HTTP_SERVER_ERROR:
        return ProviderUnavailable(text, provider=provider)
    return RequestRejected(text, provider=provider)


def transport_error(provider: str, exc: httpx.TransportError) -> ProviderError:
    """The error for a failure below HTTP: timeouts, refused or dropped connections."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"{provider}: no answer in time ({kind})", provider=provider)
    return ProviderUnavailable(f"{provider}: connection failed ({kind})", provider=provider)


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> float | None:
    """Seconds the provider asks us to wait, from ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be a number of seconds or an HTTP date; anything unparsable counts as
    no hint rather than an error, since the answer is an error already.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_body(body: bytes) -> dict[str, Any]:
    """The ``error`` object both OpenAI and Google put in error bodies, or empty if absent."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    if isinstance(decoded, list) and decoded:  # Google wraps some errors in a list
        decoded = decoded[0]
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        return dict(decoded["error"])
    return {}


def body_excerpt(body: bytes) -> str:
    """A short, single-line piece of a body that is not the JSON error we expected."""
    text = body.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:_MAX_MESSAGE]


def bad_response(provider: str, what: str) -> BadProviderResponse:
    """The error for an answer we cannot parse; ``what`` says which part and why."""
    message = f"{provider}: unreadable answer: {what}"
    return BadProviderResponse(message[:_MAX_MESSAGE], provider=provider)


def redact(text: str, secret: str) -> str:
    """``text`` with the secret, or any echo of its first 8+ characters, replaced by ``***``.

    Providers echo keys partly masked (OpenAI: ``sk-abc***...wxyz``): the start of a key
    identifies it as well as the whole, so every run of at least ``_MIN_ECHO`` characters that
    matches the key's beginning goes, however far it continues.
    """
    if not secret:
        return text
    if len(secret) < _MIN_ECHO:
        return text.replace(secret, "***")
    probe = secret[:_MIN_ECHO]
    pieces: list[str] = []
    position = 0
    while (start := text.find(probe, position)) >= 0:
        end = start + len(probe)
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        pieces += [text[position:start], "***"]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
