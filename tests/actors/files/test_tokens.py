"""What a file sent as itself is estimated to cost in the context budget."""

from __future__ import annotations

from actors.files import attachment_tokens
from actors.files.tokens import AUDIO_TOKENS_PER_SECOND, IMAGE_TOKENS


def test_an_image_costs_a_fixed_estimate_whatever_its_size() -> None:
    assert attachment_tokens("image/jpeg", 10) == IMAGE_TOKENS
    assert attachment_tokens("image/png", 5_000_000) == IMAGE_TOKENS


def test_audio_costs_by_its_length_guessed_from_its_size() -> None:
    assert attachment_tokens("audio/ogg", 0) == AUDIO_TOKENS_PER_SECOND
    assert attachment_tokens("audio/ogg", 120_000) == 60 * AUDIO_TOKENS_PER_SECOND


def test_any_other_file_costs_an_image_a_started_page() -> None:
    assert attachment_tokens("application/pdf", 1) == IMAGE_TOKENS
    assert attachment_tokens("application/pdf", 65_537) == 2 * IMAGE_TOKENS
