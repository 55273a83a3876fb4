"""The session's side of files users send: admit, await the download, keep, make the question.

:class:`FileDesk` is plain logic a :class:`~actors.chat.session.ChatSession` holds, so the
whole path is testable without threads. The session does the messaging around it::

    IncomingFile --admit()--> Refused: one line to the user, nothing fetched or kept
                          \\-> Accepted: DownloadFile to the gateway, expect(ticket)
    FileDownloaded --take(ticket)--> question_for(): CannotRead -> one line, nothing kept
                                                  \\-> FileTurn -> keep() (disk + row), queue

A file the model cannot take is refused before it is written, so "nothing is stored" holds
for every refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from actors.chat.context import FileRef
from actors.chat.messages import IncomingFile, UserRef
from actors.config import FilesConfig, ProviderConfig
from actors.files import (
    Announced,
    CannotRead,
    Capabilities,
    FileContent,
    FileStore,
    FileTurn,
    ModelChoice,
    capabilities_of,
    decide,
    model_that_reads,
    prepare,
)
from actors.files.policy import Decision
from actors.llm.wire import Turn
from storage.uploads import NewFile

DAY_SECONDS = 86_400.0
_DEFAULT_NAMES = {"photo": "photo.jpg", "voice": "voice.ogg", "document": "file"}


@dataclass(frozen=True, kw_only=True)
class FileSettings:
    """What the session needs to take files: limits, where they go, what models read.

    Args:
        limits: The ``[files]`` section.
        files_dir: ``[storage] files_dir``.
        providers: Every usable provider's section, to know what each model reads and to
            name one that reads what the current one cannot.
        max_text_tokens: Budget for text extracted from one file; the tree keeps it under
            the context budget.
    """

    limits: FilesConfig
    files_dir: Path
    providers: Mapping[str, ProviderConfig]
    max_text_tokens: int


@dataclass(frozen=True, kw_only=True)
class FileQuestion:
    """A file made into a question, queued like a text: the fields the queue relies on.

    ``text`` is what the context keeps for follow-ups (the question's stored form); ``turn``
    is what is sent now, attachments included. ``file`` is the kept file when follow-ups
    need it (``text`` does not carry its content), and ``file_tokens`` its estimated cost.
    """

    update_id: int
    message_id: int
    user: UserRef
    text: str
    turn: Turn
    topic_id: int = 0
    file: FileRef | None = None
    file_tokens: int = 0


@dataclass(kw_only=True)
class _Pending:
    message: IncomingFile
    mime_type: str


class FileDesk:
    """Files of one chat between their update and their question; see the module docstring."""

    def __init__(self, settings: FileSettings) -> None:
        self.settings = settings
        self._store = FileStore(settings.files_dir)
        self._pending: dict[str, _Pending] = {}

    @property
    def waiting(self) -> tuple[int, ...]:
        """Update ids of files being downloaded (the session is busy while there are any)."""
        return tuple(p.message.update_id for p in self._pending.values())

    def admit(self, message: IncomingFile, *, sent_today: int) -> Decision:
        """Accept or refuse ``message``'s file from what its update announces."""
        announced = Announced(
            kind=message.kind,
            file_name=message.file_name,
            mime_type=message.mime_type,
            size=message.size,
        )
        return decide(announced, self.settings.limits, sent_today=sent_today)

    def expect(self, ticket: str, message: IncomingFile, mime_type: str) -> None:
        """Remember an accepted file until its download (ticketed) comes back."""
        self._pending[ticket] = _Pending(message=message, mime_type=mime_type)

    def take(self, ticket: str) -> tuple[IncomingFile, str] | None:
        """The file and effective type a download was for, or None if it is not ours."""
        pending = self._pending.pop(ticket, None)
        return None if pending is None else (pending.message, pending.mime_type)

    def question_for(
        self, message: IncomingFile, mime_type: str, data: bytes, *, provider: str, model: str
    ) -> FileTurn | CannotRead:
        """The question ``model`` of ``provider`` can take about this file, or why not."""
        current = ModelChoice(provider=provider, model=model)
        config = self.settings.providers.get(provider)
        if config is None:
            return CannotRead(reason="No model is available to read this file.")
        content = FileContent(
            name=message.file_name or _DEFAULT_NAMES[message.kind], mime_type=mime_type, data=data
        )
        return prepare(
            content,
            message.caption,
            model=current,
            capabilities=capabilities_of(config, model),
            max_tokens=self.settings.max_text_tokens,
            alternative=model_that_reads(mime_type, self.settings.providers, besides=current),
        )

    def keep(
        self, message: IncomingFile, mime_type: str, data: bytes, *, correlation_id: str | None
    ) -> NewFile:
        """Write the file under a generated name; return the row to record for it.

        Raises:
            OSError: The disk refused; nothing is left behind.
        """
        stored = self._store.save(data, mime_type)
        return NewFile(
            chat_id=message.chat_id,
            user_id=message.user.id,
            correlation_id=correlation_id,
            original_name=message.file_name,
            mime_type=mime_type,
            size=stored.size,
            sha256=stored.sha256,
            path=stored.path,
        )

    def capabilities(self, provider: str, model: str) -> Capabilities:
        """What ``model`` of ``provider`` reads as itself; nothing for an unknown provider."""
        config = self.settings.providers.get(provider)
        return Capabilities() if config is None else capabilities_of(config, model)

    def recall(self, path: str) -> bytes | None:
        """A kept file's bytes, or None if it is gone (retention) or unreadable.

        Never raises: a follow-up then goes with the turn's remembered text alone.
        """
        try:
            return self._store.read(path)
        except (OSError, ValueError) as exc:
            logger.debug("kept file {} not sent again: {}", path, exc)
            return None

    def forget(self, path: str) -> None:
        """Remove a kept file whose row could not be recorded."""
        self._store.remove(path)
