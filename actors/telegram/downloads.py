"""Fetching a file a user sent: getFile, then the download, on the event loop, never blocking.

A session asks the gateway with :class:`DownloadFile`; the gateway runs :func:`download` on
the shared loop and pipes the outcome back to ``reply_to`` as :class:`FileDownloaded` or
:class:`DownloadFailed`, so neither the session nor the gateway waits for Telegram. The size
is checked twice: against what getFile reports before downloading (the update's announced
size was checked before asking), and against the bytes that came.
"""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from actors.files.policy import size_refusal
from runtime import Address, Message

TOO_BIG_FOR_BOTS = "file is too big"  # getFile's BadRequest past the Bot API's 20 MB


class DownloadFile(Message, frozen=True, kw_only=True):
    """Command: fetch the file ``file_id`` (at most ``max_bytes``) and tell ``reply_to``."""

    ticket: str
    file_id: str
    max_bytes: int
    reply_to: Address


class FileDownloaded(Message, frozen=True, kw_only=True):
    """The file's bytes, for the :class:`DownloadFile` with the same ``ticket``."""

    ticket: str
    data: bytes


class DownloadFailed(Message, frozen=True, kw_only=True):
    """The file could not be had; ``reason`` is the line for the user, ``detail`` for logs."""

    ticket: str
    reason: str
    detail: str


async def download(bot: Bot, request: DownloadFile) -> FileDownloaded | DownloadFailed:
    """getFile, then the bytes; a file bigger than allowed is refused, not downloaded.

    Raises:
        TelegramError: getFile or the download failed (see :func:`failure` for the answer).
    """
    file = await bot.get_file(request.file_id)
    if file.file_size is not None and file.file_size > request.max_bytes:
        return _too_big(request, file.file_size)
    data = bytes(await file.download_as_bytearray())
    if len(data) > request.max_bytes:
        return _too_big(request, len(data))
    return FileDownloaded(ticket=request.ticket, data=data)


def failure(request: DownloadFile, exc: BaseException) -> DownloadFailed:
    """The answer for a download that raised: Telegram's own size limit, or a retry hint."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BadRequest) and TOO_BIG_FOR_BOTS in str(exc).lower():
        reason = "This file is bigger than the 20 MB Telegram lets bots download."
    elif isinstance(exc, TelegramError | TimeoutError | OSError):
        reason = "I couldn't download the file from Telegram; please send it again."
    else:
        reason = "Something went wrong while fetching the file; please send it again."
    return DownloadFailed(ticket=request.ticket, reason=reason, detail=detail)


def _too_big(request: DownloadFile, size: int) -> DownloadFailed:
    return DownloadFailed(
        ticket=request.ticket,
        reason=size_refusal(size, request.max_bytes),
        detail=f"{size} bytes over the {request.max_bytes}-byte limit",
    )
