"""Text out of a file, for a model that cannot read the file itself, cut to a token budget.

PDFs go through pypdf (pure Python: nothing to install on the host); text formats (plain,
Markdown, CSV, JSON, source code) are decoded: a byte-order mark wins, then UTF-8, then
Windows-1252 and finally Latin-1, which decodes anything, so a file saved by an old editor
still reads. What is too long is cut at a line break near the budget and says so in a
``[truncated: ...]`` line, so neither the model nor the user takes part of a file for all of it.
"""

from __future__ import annotations

import codecs
import io
from typing import Final

import msgspec
import pypdf
from pypdf.errors import FileNotDecryptedError

from actors.errors import FileUnreadable
from actors.files.policy import is_text
from storage import estimate_tokens
from storage.context import BYTES_PER_TOKEN

PDF: Final = "application/pdf"
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL_SHARE: Final = 0.1  # more control characters than this: binary, not text
_BREAK_WINDOW: Final = 0.2  # look this far back from the cut for a line break


class Extracted(msgspec.Struct, frozen=True, kw_only=True):
    """A file's text, possibly cut; ``total_tokens`` is the estimate for the whole text."""

    text: str
    truncated: bool
    total_tokens: int


def can_extract(mime_type: str) -> bool:
    """Whether :func:`extract_text` knows this type."""
    return mime_type == PDF or is_text(mime_type)


def extract_text(data: bytes, mime_type: str, *, max_tokens: int) -> Extracted:
    """The text of a PDF or text file, cut to about ``max_tokens``.

    Raises:
        FileUnreadable: The type is not one we extract, the PDF is broken or encrypted or has
            no text layer (a scan), or a "text" file is binary. The message is for the user.
    """
    if mime_type == PDF:
        text = _pdf_text(data)
    elif is_text(mime_type):
        text = decode_text(data)
    else:
        raise FileUnreadable(f"I can't read text out of {mime_type} files.")
    return truncate(text, max_tokens)


def _pdf_text(data: bytes) -> str:
    locked = "This PDF is password-protected, so I can't read it."
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileUnreadable(locked)  # noqa: TRY301 - the same answer as pypdf's own error
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileUnreadable:
        raise
    except FileNotDecryptedError:
        raise FileUnreadable(locked) from None
    except Exception as exc:  # boundary: pypdf raises many types on malformed input
        raise FileUnreadable("This PDF seems damaged, so I can't read it.") from exc
    chunks = [page.strip() for page in pages]
    if not any(chunks):
        raise FileUnreadable("This PDF has no text in it (is it a scan?), so I can't read it.")
    if len(chunks) == 1:
        return chunks[0]
    return "\n\n".join(f"[page {n}]\n{chunk}" for n, chunk in enumerate(chunks, 1) if chunk)


def decode_text(data: bytes) -> str:
    """Bytes of a text file as text: BOM, UTF-8, Windows-1252, then Latin-1.

    Raises:
        FileUnreadable: It is not text (NUL bytes, or mostly control characters).
    """
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    if text is None:
        if b"\x00" in data:
            raise FileUnreadable("This file looks binary, not text, so I can't read it.")
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    assert text is not None  # Latin-1 decodes any bytes
    text = text.removeprefix("\ufeff")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")  # noqa: PLR2004
    if text and controls > len(text) * _CONTROL_SHARE:
        raise FileUnreadable("This file looks binary, not text, so I can't read it.")
    return text


def truncate(text: str, max_tokens: int) -> Extracted:
    """``text`` cut to about ``max_tokens`` (by :func:`storage.estimate_tokens`), noted if cut.

    The cut falls at the last line break in the final fifth of the kept part if there is one,
    so a line (a CSV row, a line of code) is not split in two.
    """
    total = estimate_tokens(text)
    if total <= max_tokens:
        return Extracted(text=text, truncated=False, total_tokens=total)
    budget = max(0, max_tokens * BYTES_PER_TOKEN - 120)  # room for the note
    kept = text.encode()[:budget].decode("utf-8", errors="ignore")
    cut = kept.rfind("\n")
    if cut >= len(kept) * (1 - _BREAK_WINDOW):
        kept = kept[:cut]
    shown = estimate_tokens(kept)
    percent = max(1, round(100 * shown / total)) if total else 100
    note = (
        f"[truncated: only the first {percent}% of the file (about {shown} of {total} tokens) "
        "is included here]"
    )
    return Extracted(text=f"{kept.rstrip()}\n\n{note}", truncated=True, total_tokens=total)
