"""What a file sent as itself costs in tokens, estimated without asking the provider.

The context budget counts tokens, and a photo or a voice message kept for follow-ups is sent
again with each of them, so it must count too, or a context of many photos would never be
trimmed. Providers count files their own way; these are simple, documented guesses after
Gemini's rules, which err on the side of counting more:

- an image: :data:`IMAGE_TOKENS`, whatever its size (Gemini: 258 for an image up to
  384 px a side, tiles of 258 beyond; Telegram photos are mostly one or a few tiles);
- audio: :data:`AUDIO_TOKENS_PER_SECOND` for each second, the length guessed from the size
  at :data:`AUDIO_BYTES_PER_SECOND` (a Telegram voice message is Opus at ~16 kbit/s);
- anything else (a PDF): :data:`IMAGE_TOKENS` a page, one page per started
  :data:`BYTES_PER_PAGE`.
"""

from __future__ import annotations

from typing import Final

IMAGE_TOKENS: Final = 258
AUDIO_TOKENS_PER_SECOND: Final = 32
AUDIO_BYTES_PER_SECOND: Final = 2_000
BYTES_PER_PAGE: Final = 65_536


def attachment_tokens(mime_type: str, size: int) -> int:
    """The estimated tokens of a ``size``-byte file of ``mime_type`` sent as itself."""
    major = mime_type.split("/", 1)[0]
    if major == "image":
        return IMAGE_TOKENS
    if major == "audio":
        seconds = -(-size // AUDIO_BYTES_PER_SECOND)
        return max(1, seconds) * AUDIO_TOKENS_PER_SECOND
    pages = -(-size // BYTES_PER_PAGE)
    return max(1, pages) * IMAGE_TOKENS
