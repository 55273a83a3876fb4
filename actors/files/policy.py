"""Whether to take a file a user sent, decided from what the update announces, before download.

Telegram tells us a file's kind, name, MIME type and size in the update itself, so a file we
would refuse is never downloaded, let alone stored. The decision is a pure function of that
announcement, the ``[files]`` limits and how many files the user sent in the last day; a
refusal carries the one line the user reads.

The MIME type a client declares is often vague (``application/octet-stream`` for a ``.py``
file) or an alias (``application/x-yaml``): :func:`effective_mime` settles on one type from
the declared type and the file name, and everything else uses that.
"""

from __future__ import annotations

import mimetypes
from typing import Final, Literal

import msgspec

from actors.config import FilesConfig

FileKind = Literal["document", "photo", "voice"]

DEFAULT_INSTRUCTION: Final = "Summarise this."
"""What the model is asked when a file comes without a caption."""

_KILO: Final = 1024
_VAGUE: Final = frozenset({"", "application/octet-stream", "binary/octet-stream"})

# Types clients send for source and data files, mapped to the ``text/`` type we treat them as.
_ALIASES: Final = {
    "application/javascript": "text/javascript",
    "application/x-javascript": "text/javascript",
    "application/typescript": "text/x-typescript",
    "application/x-python": "text/x-python",
    "application/x-python-code": "text/x-python",
    "application/x-sh": "text/x-shellscript",
    "application/x-shellscript": "text/x-shellscript",
    "application/x-yaml": "text/yaml",
    "application/yaml": "text/yaml",
    "application/toml": "text/x-toml",
    "application/sql": "text/x-sql",
    "application/xml": "text/xml",
    "application/x-httpd-php": "text/x-php",
    "application/x-tex": "text/x-tex",
    "audio/opus": "audio/ogg",
    "image/jpg": "image/jpeg",
}

# Extensions ``mimetypes`` does not know (or maps to an application/ type), for vague types.
_EXTENSIONS: Final = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".py": "text/x-python",
    ".pyi": "text/x-python",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".ts": "text/x-typescript",
    ".tsx": "text/x-typescript",
    ".jsx": "text/javascript",
    ".go": "text/x-go",
    ".rs": "text/x-rust",
    ".java": "text/x-java",
    ".kt": "text/x-kotlin",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cc": "text/x-c++",
    ".cpp": "text/x-c++",
    ".hpp": "text/x-c++",
    ".cs": "text/x-csharp",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".swift": "text/x-swift",
    ".sh": "text/x-shellscript",
    ".sql": "text/x-sql",
    ".toml": "text/x-toml",
    ".yaml": "text/yaml",
    ".yml": "text/yaml",
    ".ini": "text/plain",
    ".cfg": "text/plain",
    ".xml": "text/xml",
    ".html": "text/html",
    ".css": "text/css",
    ".tex": "text/x-tex",
    ".pdf": "application/pdf",
}

_KIND_DEFAULTS: Final[dict[FileKind, str]] = {"photo": "image/jpeg", "voice": "audio/ogg"}


class Announced(msgspec.Struct, frozen=True, kw_only=True):
    """A file as the update describes it: nothing here has been downloaded yet.

    ``size`` is None when Telegram did not say; the download then checks the real size.
    """

    kind: FileKind
    file_name: str | None
    mime_type: str | None
    size: int | None


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """Take the file; ``mime_type`` is the effective type to store and reason about."""

    mime_type: str


class Refused(msgspec.Struct, frozen=True, kw_only=True):
    """Do not download the file; ``reason`` is the one line the user reads."""

    reason: str


Decision = Accepted | Refused


def effective_mime(kind: FileKind, declared: str | None, file_name: str | None) -> str:
    """The one MIME type we go by: declared if it says something, else guessed from the name.

    Parameters (``; charset=...``) and case are dropped, aliases mapped to their ``text/``
    form. A photo is a JPEG and a voice message an OGG/Opus clip whatever they declare.
    """
    if kind in _KIND_DEFAULTS:
        return _KIND_DEFAULTS[kind]
    mime = (declared or "").split(";", 1)[0].strip().lower()
    if mime in _VAGUE:
        mime = _guess(file_name)
    return _ALIASES.get(mime, mime)


def _guess(file_name: str | None) -> str:
    if not file_name or "." not in file_name:
        return "application/octet-stream"
    extension = "." + file_name.rsplit(".", 1)[1].lower()
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    guessed, _ = mimetypes.guess_type(f"file{extension}", strict=False)
    return guessed or "application/octet-stream"


def mime_allowed(mime: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``mime`` matches one of ``patterns``: exact types or ``type/*``."""
    major = mime.split("/", 1)[0]
    return any(p == mime or (p.endswith("/*") and p[:-2] == major) for p in patterns)


def is_text(mime: str) -> bool:
    """Whether a file of this type is text we can decode and send as it is."""
    return (
        mime.startswith("text/") or mime == "application/json" or mime.endswith(("+json", "+xml"))
    )


def decide(announced: Announced, limits: FilesConfig, *, sent_today: int) -> Decision:
    """Accept or refuse a file before downloading it.

    Checked in the order a user can act on: the type (send another kind of file), the size
    (send a smaller one), then the daily quota (wait).

    Args:
        announced: What the update says about the file.
        limits: The ``[files]`` section.
        sent_today: Files this user had accepted in the last 24 hours.
    """
    mime = effective_mime(announced.kind, announced.mime_type, announced.file_name)
    if not mime_allowed(mime, limits.allowed_mime_types):
        return Refused(
            reason=f"I can't take {_describe(announced, mime)}. "
            f"I can read: {', '.join(_readable(limits.allowed_mime_types))}."
        )
    if announced.size is not None and announced.size > limits.max_bytes:
        return Refused(reason=size_refusal(announced.size, limits.max_bytes))
    if sent_today >= limits.per_user_per_day:
        return Refused(
            reason=f"You have sent {_count(limits.per_user_per_day, 'file')} in the last 24 "
            "hours, the most I take in a day. Please try again later."
        )
    return Accepted(mime_type=mime)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def size_refusal(size: int, limit: int) -> str:
    """The line for a file over the limit, also used when the download turns out bigger."""
    return f"This file is {format_size(size)}; the most I take is {format_size(limit)}."


def format_size(size: int) -> str:
    """``10485760`` -> ``10 MB``; ``1536`` -> ``1.5 KB``: sizes as people read them."""
    if size < _KILO:
        return f"{size} bytes"
    value, unit = size / _KILO, "KB"
    if value >= _KILO:
        value, unit = value / _KILO, "MB"
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _describe(announced: Announced, mime: str) -> str:
    """What the user sent, in their words: "voice messages", ".exe files (application/...)"."""
    if announced.kind == "voice":
        return "voice messages"
    if announced.kind == "photo":
        return "photos"
    if announced.file_name and "." in announced.file_name:
        return f".{announced.file_name.rsplit('.', 1)[1].lower()} files ({mime})"
    return f"{mime} files"


_NAMES: Final = {
    "application/pdf": "PDF",
    "text/*": "text, Markdown, CSV and source code",
    "application/json": "JSON",
    "audio/ogg": "voice messages",
}
_MAJOR_NAMES: Final = {"image": "images", "audio": "audio"}


def _readable(patterns: tuple[str, ...]) -> list[str]:
    """The allowed types in words, each once: all image types are just "images"."""
    words: list[str] = []
    for pattern in patterns:
        major = pattern.split("/", 1)[0]
        word = _NAMES.get(pattern) or _MAJOR_NAMES.get(major, pattern)
        if word not in words:
            words.append(word)
    return words
