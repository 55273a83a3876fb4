"""Every way the bot itself can fail, in one tree.

The runtime (``runtime/``) and storage (``storage/``) keep their own roots because they
import nothing of ours; everything the bot raises derives from :class:`BotError`::

    BotError
    ├── ConfigError              bad or missing configuration: names file, key and problem
    ├── ProviderError            an LLM provider call did not produce an answer
    │   ├── ProviderUnavailable  5xx, connection refused or dropped, stream cut mid-answer
    │   │   └── StreamInterrupted    the stream ended before the provider said it was done
    │   ├── ProviderTimeout      no answer within the configured timeout
    │   ├── RateLimited          429; ``retry_after`` holds the provider's hint in seconds
    │   ├── AuthenticationFailed 401/403: the API key is missing, wrong or revoked
    │   ├── RequestRejected      another 4xx: the provider refuses this request as such
    │   ├── BadProviderResponse  the provider answered something we cannot parse
    │   └── CircuitOpen          too many recent failures: we do not call it for a while
    └── FileUnreadable           a file a user sent cannot be turned into text (a broken or
                                 encrypted PDF, binary data sent as text)

Only ``ProviderUnavailable``, ``ProviderTimeout`` and ``RateLimited`` are worth retrying;
the session turns any ``ProviderError`` into one friendly line for the user.
"""

from __future__ import annotations


class BotError(Exception):
    """Root of every error the bot raises on purpose."""


class ConfigError(BotError):
    """The configuration cannot be used; the message names file, key and problem."""


class ProviderError(BotError):
    """An LLM provider call failed; ``provider`` names the configured provider."""

    retryable: bool = False

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered with a server error."""

    retryable = True


class StreamInterrupted(ProviderUnavailable):
    """The answer stream stopped before the provider marked it finished."""


class ProviderTimeout(ProviderError):
    """The provider did not answer within the configured timeout."""

    retryable = True


class RateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429)."""

    retryable = True

    def __init__(
        self, message: str, *, provider: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class AuthenticationFailed(ProviderError):
    """The provider refused our API key."""


class RequestRejected(ProviderError):
    """The provider refused this particular request (a 4xx other than 401/403/429)."""


class BadProviderResponse(ProviderError):
    """The provider's answer could not be parsed."""


class CircuitOpen(ProviderError):
    """Calls to this provider are suspended after repeated failures."""


class FileUnreadable(BotError):
    """A file a user sent cannot be turned into text; the message says why, for the user."""
