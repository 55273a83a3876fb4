from __future__ import annotations

from actors.admin.models import NOT_LISTED, render_models
from storage import ModelEntry


def entry(provider: str, model_id: str) -> ModelEntry:
    return ModelEntry(provider=provider, model_id=model_id, display_name=model_id, seen_at=0.0)


DEFAULTS = {"deepseek": "deepseek-chat", "gemini": "gemini-2.5-flash"}


def test_each_provider_lists_its_cached_models_with_the_default_marked() -> None:
    cached = [entry("deepseek", "deepseek-chat"), entry("deepseek", "deepseek-reasoner")]

    assert render_models(DEFAULTS, "deepseek", cached).splitlines() == [
        "Models (✓ = the provider's default)",
        "",
        "deepseek — default provider",
        "  ✓ deepseek-chat",
        "  · deepseek-reasoner",
        "",
        "gemini",
        "  ✓ gemini-2.5-flash",
        f"  {NOT_LISTED}",
    ]


def test_a_default_missing_from_the_listing_is_still_shown_and_flagged() -> None:
    text = render_models({"gemini": "gemini-x"}, "gemini", [entry("gemini", "gemini-y")])

    assert "  ✓ gemini-x (not in the last listing)" in text.splitlines()
    assert "  · gemini-y" in text.splitlines()


def test_providers_no_longer_configured_are_left_out() -> None:
    text = render_models(DEFAULTS, "deepseek", [entry("mistral", "mistral-large")])

    assert "mistral" not in text


def test_without_providers_it_says_none_is_configured() -> None:
    assert render_models({}, "deepseek", []) == "No provider is configured with an API key."
