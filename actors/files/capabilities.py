"""What each configured model reads natively, and which one to suggest for what another cannot.

Gemini reads PDFs, images and audio sent inline with the request. An OpenAI-compatible API
reads images (as ``data:`` URLs) only on vision models, and nothing tells us which those are:
DeepSeek's chat model rejects an image part, GPT-4o takes it. So it is configured, per
provider, as ``vision_models``; any other model of that kind reads text only, and the files it
cannot read are turned into text (``actors.files.extract``) or refused with a suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from actors.config import ProviderConfig
from actors.files.policy import mime_allowed

GEMINI_NATIVE: Final = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "audio/wav",
    "audio/mp3",
    "audio/mpeg",
    "audio/aiff",
    "audio/aac",
    "audio/ogg",
    "audio/flac",
)
"""Inline types the Gemini API documents for its multimodal models."""

OPENAI_VISION_NATIVE: Final = ("image/png", "image/jpeg", "image/webp", "image/gif")
"""The image types OpenAI's vision models take as ``image_url``."""


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """The MIME types (exact, or ``type/*``) one model reads as themselves, not as text."""

    native: tuple[str, ...] = ()

    def reads(self, mime_type: str) -> bool:
        """Whether a file of this type can be sent to the model as it is."""
        return mime_allowed(mime_type, self.native)


class ModelChoice(msgspec.Struct, frozen=True, kw_only=True):
    """A provider and one of its models, as the user picks them with /model."""

    provider: str
    model: str


def capabilities_of(provider: ProviderConfig, model: str) -> Capabilities:
    """What ``model`` of ``provider`` reads natively."""
    if provider.kind == "gemini":
        return Capabilities(native=GEMINI_NATIVE)
    if model in provider.vision_models:
        return Capabilities(native=OPENAI_VISION_NATIVE)
    return Capabilities()


def model_that_reads(
    mime_type: str, providers: Mapping[str, ProviderConfig], *, besides: ModelChoice | None = None
) -> ModelChoice | None:
    """The first configured model, other than ``besides``, that reads ``mime_type`` natively.

    Each provider's default model is tried first, then its vision models, in file order, so
    the suggestion is the one a user is likeliest to have heard of.
    """
    for name, provider in providers.items():
        for model in (provider.default_model, *provider.vision_models):
            choice = ModelChoice(provider=name, model=model)
            if choice != besides and capabilities_of(provider, model).reads(mime_type):
                return choice
    return None
