"""``/admin models``: per configured provider, the models it listed last and its default.

The list comes from storage's model cache, which a provider's listing fills when someone
opens ``/model``; until then a provider shows only its configured default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from storage import ModelEntry

NOT_LISTED: Final = "not listed yet — open /model once"


def render_models(
    defaults: Mapping[str, str], default_provider: str, cached: Sequence[ModelEntry]
) -> str:
    """The models message, plain text.

    Args:
        defaults: each configured provider's name -> its default model, in config order.
        default_provider: the provider new chats use.
        cached: the model cache (providers not configured any more are left out).
    """
    if not defaults:
        return "No provider is configured with an API key."
    listed: dict[str, list[str]] = {}
    for entry in cached:
        listed.setdefault(entry.provider, []).append(entry.model_id)
    lines = ["Models (✓ = the provider's default)"]
    for provider, default in defaults.items():
        mark = " — default provider" if provider == default_provider else ""
        lines += ["", f"{provider}{mark}"]
        models = listed.get(provider, [])
        if default not in models:
            lines.append(f"  ✓ {default}" + (" (not in the last listing)" if models else ""))
        lines.extend(f"  {'✓' if model == default else '·'} {model}" for model in models)
        if not models:
            lines.append(f"  {NOT_LISTED}")
    return "\n".join(lines)
