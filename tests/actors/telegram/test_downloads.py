"""Fetching a file a user sent, against the Telegram emulator: getFile, size checks, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from actors.telegram.downloads import (
    DownloadFailed,
    DownloadFile,
    FileDownloaded,
    download,
    failure,
)
from runtime import ActorSystem, Address
from tests.emulators.telegram import TelegramEmulator

pytestmark = pytest.mark.anyio
ALICE = 1001


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emu() -> Iterator[TelegramEmulator]:
    with TelegramEmulator() as emulator:
        emulator.user(ALICE, "Alice")
        yield emulator


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.bot_base_url, base_file_url=emu.file_base_url) as bot:
        yield bot


@pytest.fixture
def session() -> Iterator[Address]:
    with ActorSystem() as system:
        yield system.address("/sessions/1001")


def request(file_id: str, session: Address, max_bytes: int = 1024) -> DownloadFile:
    return DownloadFile(ticket="t1", file_id=file_id, max_bytes=max_bytes, reply_to=session)


async def test_a_file_within_the_limit_is_downloaded_whole(
    emu: TelegramEmulator, bot: Bot, session: Address
) -> None:
    info = emu.register_file(b"hello, file", file_name="a.txt", mime_type="text/plain")

    outcome = await download(bot, request(info.file_id, session))

    assert outcome == FileDownloaded(ticket="t1", data=b"hello, file")


async def test_a_file_over_the_limit_is_refused_without_downloading_it(
    emu: TelegramEmulator, bot: Bot, session: Address
) -> None:
    info = emu.register_file(b"x" * 2048, file_name="big.txt", mime_type="text/plain")

    outcome = await download(bot, request(info.file_id, session, max_bytes=1024))

    assert isinstance(outcome, DownloadFailed)
    assert outcome.reason == "This file is 2 KB; the most I take is 1 KB."
    assert [call.method for call in emu.calls("getFile")] == ["getFile"]


async def test_an_unknown_file_raises_for_the_failure_mapper(bot: Bot, session: Address) -> None:
    with pytest.raises(BadRequest):
        await download(bot, request("nonsense", session))


def test_telegrams_own_size_limit_is_explained_to_the_user(session: Address) -> None:
    failed = failure(request("f", session), BadRequest("File is too big"))

    assert failed.reason == "This file is bigger than the 20 MB Telegram lets bots download."


def test_a_network_failure_asks_the_user_to_send_the_file_again(session: Address) -> None:
    failed = failure(request("f", session), NetworkError("connection reset"))

    assert failed.reason == "I couldn't download the file from Telegram; please send it again."
    assert failed.detail == "NetworkError: connection reset"
