"""The provider-neutral vocabulary the rest of the bot speaks to every LLM provider.

Each provider module translates these to and from its own wire format, so sessions, storage and
the gateway never see a JSON body. Everything is a frozen, keyword-only Struct with tuple fields,
so a value handed to another actor cannot be changed behind its back.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Role = Literal["system", "user", "assistant"]


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    """A file sent to the model as itself, not as text: a PDF, an image, a voice message.

    Only a provider that reads ``mime_type`` natively is given one (``actors.files`` decides);
    each dialect encodes it in its own way (a ``data:`` URL, an ``inline_data`` part).
    """

    mime_type: str
    data: bytes
    name: str = ""  # what the user called it, for logs and the model; never a path


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the conversation sent to the model.

    ``attachments`` travel with the turn's text, after it; the empty default keeps every
    ``Turn(role=..., text=...)`` valid.
    """

    role: Role
    text: str
    attachments: tuple[Attachment, ...] = ()


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
