"""What each configured model reads natively, and who to suggest instead."""

from __future__ import annotations

from actors.config import ProviderConfig
from actors.files import ModelChoice, capabilities_of, model_that_reads

DEEPSEEK = ProviderConfig(
    name="deepseek", kind="openai", base_url="http://x/v1", default_model="deepseek-chat"
)
OPENAI = ProviderConfig(
    name="openai",
    kind="openai",
    base_url="http://y/v1",
    default_model="gpt-4o-mini",
    vision_models=("gpt-4o-mini",),
)
GEMINI = ProviderConfig(
    name="gemini", kind="gemini", base_url="http://z/v1beta", default_model="gemini-2.5-flash"
)


def test_gemini_reads_pdfs_images_and_voice_natively() -> None:
    reads = capabilities_of(GEMINI, "gemini-2.5-flash").reads

    assert reads("application/pdf")
    assert reads("image/jpeg")
    assert reads("audio/ogg")
    assert not reads("text/plain")


def test_an_openai_model_reads_images_only_when_configured_as_a_vision_model() -> None:
    assert capabilities_of(OPENAI, "gpt-4o-mini").reads("image/png")
    assert not capabilities_of(OPENAI, "gpt-4o-mini").reads("application/pdf")
    assert not capabilities_of(OPENAI, "o3-mini").reads("image/png")
    assert not capabilities_of(DEEPSEEK, "deepseek-chat").reads("image/png")


def test_the_suggestion_is_the_first_configured_model_that_reads_the_type() -> None:
    providers = {"deepseek": DEEPSEEK, "openai": OPENAI, "gemini": GEMINI}

    assert model_that_reads("image/jpeg", providers) == ModelChoice(
        provider="openai", model="gpt-4o-mini"
    )
    assert model_that_reads("audio/ogg", providers) == ModelChoice(
        provider="gemini", model="gemini-2.5-flash"
    )
    assert model_that_reads("audio/ogg", {"deepseek": DEEPSEEK}) is None


def test_the_model_in_use_is_not_suggested_to_itself() -> None:
    current = ModelChoice(provider="gemini", model="gemini-2.5-flash")

    assert model_that_reads("image/png", {"gemini": GEMINI}, besides=current) is None
