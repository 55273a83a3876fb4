"""Files users sent, on disk under ``[storage] files_dir``, each under a name we made up.

The user's file name never reaches the file system: it could hold ``../``, a reserved name or
characters the disk does not take, and it would tell anyone listing the directory what people
sent. Each file is ``YYYY/MM/DD/<32 hex digits>.<extension of its MIME type>``; the day
directories keep any one directory small and let retention (``storage/files.py``) sweep old
ones. A file is written to a temporary name and renamed, so a crash mid-write never leaves a
half file under a real name. Paths handed out are relative to the root, so the database does
not depend on where the directory is mounted.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Final

import msgspec

_EXTENSIONS: Final = {
    "application/pdf": ".pdf",
    "application/json": ".json",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/csv": ".csv",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
}
_DIRECTORY_MODE: Final = 0o700
_FILE_MODE: Final = 0o600


class StoredFile(msgspec.Struct, frozen=True, kw_only=True):
    """Where a file went (relative to the root, ``/``-separated), its size and its SHA-256."""

    path: str
    size: int
    sha256: str


def _random_name() -> str:
    return secrets.token_hex(16)


class FileStore:
    """Writes, reads and removes files under one root directory.

    Holds no open file between calls: every file is opened and closed inside the call that
    needs it. Not tied to a thread; the root is created on the first write.

    Args:
        root: ``[storage] files_dir`` (absolute after the config is loaded).
        clock: Epoch seconds, for the day directory.
        names: Makes the random part of a name; injected so tests can collide on purpose.
    """

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], float] = time.time,
        names: Callable[[], str] = _random_name,
    ) -> None:
        self._root = root
        self._clock = clock
        self._names = names

    @property
    def root(self) -> Path:
        """The directory every stored path is relative to."""
        return self._root

    def save(self, data: bytes, mime_type: str) -> StoredFile:
        """Write ``data`` under a new name and return where, with its size and SHA-256.

        Raises:
            OSError: The disk refused (full, read-only, no permission); nothing is left behind.
        """
        day = time.strftime("%Y/%m/%d", time.gmtime(self._clock()))
        directory = self._root / day
        directory.mkdir(mode=_DIRECTORY_MODE, parents=True, exist_ok=True)
        while True:
            name = f"{self._names()}{extension_for(mime_type)}"
            final = directory / name
            if not final.exists():
                break
        temporary = directory / f".{name}.part"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(
            path=f"{day}/{name}", size=len(data), sha256=hashlib.sha256(data).hexdigest()
        )

    def read(self, path: str) -> bytes:
        """The bytes of a stored file.

        Raises:
            ValueError: ``path`` points outside the root (it did not come from :meth:`save`).
            FileNotFoundError: The file is gone (retention removed it).
        """
        return self._resolve(path).read_bytes()

    def remove(self, path: str) -> None:
        """Delete a stored file; one already gone is not an error.

        Raises:
            ValueError: ``path`` points outside the root.
        """
        self._resolve(path).unlink(missing_ok=True)

    def _resolve(self, path: str) -> Path:
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"not a stored file's path: {path!r}")
        return self._root.joinpath(*relative.parts)


def extension_for(mime_type: str) -> str:
    """A file extension for a MIME type: ours for the common ones, ``.bin`` when unknown."""
    if mime_type in _EXTENSIONS:
        return _EXTENSIONS[mime_type]
    guessed = mimetypes.guess_extension(mime_type, strict=False)
    if guessed:
        return guessed
    return ".txt" if mime_type.startswith("text/") else ".bin"
