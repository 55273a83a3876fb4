"""A session's memory of one conversation: the turns kept for the next prompt, and their cost.

Plain values and functions a :class:`~actors.chat.session.ChatSession` holds, testable
without threads. Each :class:`Remembered` turn is what storage keeps (``storage/context.py``)
and carries its token count, so the context is trimmed to the budget the same way in memory
as in storage.

A user turn about a photo or a voice message a model read as itself keeps a :class:`FileRef`
to the stored file. :func:`recall` makes the turns for one prompt: the most recent
:data:`REATTACH_MOST` of those files go with their turn again when the model in use reads
their type, to bound the request's size; every other turn is its remembered text alone
("[Image sent to the model: photo.jpg]" and the answer about it), as is a file that is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from actors.llm.wire import Attachment, Role
from actors.llm.wire import Turn as LlmTurn
from storage import Turn

REATTACH_MOST: Final = 3
"""How many of the context's files, newest first, a prompt sends again at most."""


@dataclass(frozen=True, kw_only=True)
class FileRef:
    """A stored file a turn was about: its path under ``[storage] files_dir``, its type."""

    path: str
    mime_type: str


@dataclass(frozen=True, kw_only=True)
class Remembered:
    """One turn of the context: ``tokens`` counts its text and, for a file, the file's estimate."""

    role: Role
    text: str
    tokens: int
    file: FileRef | None = None


def from_stored(turn: Turn) -> Remembered:
    """The turn as storage loaded it."""
    file = (
        FileRef(path=turn.file_path, mime_type=turn.file_mime)
        if turn.file_path is not None and turn.file_mime is not None
        else None
    )
    return Remembered(role=turn.role, text=turn.text, tokens=turn.tokens, file=file)


def remembered(turns: Iterable[Turn]) -> list[Remembered]:
    """A context as storage loaded it, oldest first."""
    return [from_stored(turn) for turn in turns]


def trim(turns: list[Remembered], budget: int) -> None:
    """Drop the oldest turns until the rest fit ``budget`` tokens (as storage trims)."""
    total = sum(turn.tokens for turn in turns)
    while turns and total > budget:
        total -= turns.pop(0).tokens


def recall(
    turns: Sequence[Remembered],
    *,
    reads: Callable[[str], bool],
    load: Callable[[str], bytes | None],
    most: int = REATTACH_MOST,
) -> list[LlmTurn]:
    """The turns to send, oldest first, the newest ``most`` files the model reads attached.

    Args:
        turns: The context.
        reads: Whether the model in use reads a MIME type as itself.
        load: A stored file's bytes by path; None when it is gone (the text stands alone).
        most: How many files to attach at most.
    """
    recalled: list[LlmTurn] = []
    left = most
    for turn in reversed(turns):
        file = turn.file
        data = load(file.path) if file is not None and left > 0 and reads(file.mime_type) else None
        if file is not None and data is not None:
            left -= 1
            attachment = Attachment(mime_type=file.mime_type, data=data)
            recalled.append(LlmTurn(role=turn.role, text=turn.text, attachments=(attachment,)))
        else:
            recalled.append(LlmTurn(role=turn.role, text=turn.text))
    recalled.reverse()
    return recalled
