"""The provider-neutral vocabulary the rest of the bot speaks to every LLM provider.

Each provider module translates these to and from its own wire format, so sessions, storage and
the gateway never see a JSON body. Everything is a frozen, keyword-only Struct with tuple fields,
so a value handed to another actor cannot be changed behind its back.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Role = Literal["system", "user", "assistant"]


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the conversation sent to the model.

    Attachments (images, documents) will arrive as a new field with an empty-tuple default, so
    every existing ``Turn(role=..., text=...)`` stays valid.
    """

    role: Role
    text: str


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A model the provider offers, as shown to the user when picking one."""

    id: str
    display_name: str


class TextDelta(msgspec.Struct, frozen=True, kw_only=True):
    """The next piece of the answer the user should read."""

    text: str


class ReasoningDelta(msgspec.Struct, frozen=True, kw_only=True):
    """The next piece of the model's reasoning, kept apart so it can be hidden or folded."""

    text: str


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts as the provider reported them; absent from a stream when it reported none."""

    tokens_in: int
    tokens_out: int


StreamItem = TextDelta | ReasoningDelta | Usage
"""What :meth:`ProviderClient.stream` yields: text and reasoning as they arrive, usage last."""
