"""LLM providers behind one neutral interface: turns in, a stream of text and reasoning out.

:class:`ProviderClient` is the whole surface a session needs; failures are the
``ProviderError`` tree of ``actors.errors``.
"""

from actors.llm.client import ProviderClient
from actors.llm.resilience import CircuitBreaker, CircuitSettings, CircuitState, RetryPolicy
from actors.llm.think import ThinkSplitter
from actors.llm.wire import (
    Attachment,
    ModelInfo,
    ReasoningDelta,
    Role,
    StreamItem,
    TextDelta,
    Turn,
    Usage,
)

__all__ = [
    "Attachment",
    "CircuitBreaker",
    "CircuitSettings",
    "CircuitState",
    "ModelInfo",
    "ProviderClient",
    "ReasoningDelta",
    "RetryPolicy",
    "Role",
    "StreamItem",
    "TextDelta",
    "ThinkSplitter",
    "Turn",
    "Usage",
]
