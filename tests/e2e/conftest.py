"""Fixtures for end-to-end tests: emulators on 127.0.0.1 and the bot as a real process."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import ADMIN_ID, DEEPSEEK_KEY, GEMINI_KEY, TOKEN, BotProcess
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_compat import OpenAIEmulator
from tests.emulators.telegram import SimUser, TelegramEmulator


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def deepseek() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(api_key=DEEPSEEK_KEY) as emulator:
        yield emulator


@pytest.fixture
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=GEMINI_KEY) as emulator:
        yield emulator


@pytest.fixture
def bot_process(
    tmp_path: Path,
    telegram: TelegramEmulator,
    deepseek: OpenAIEmulator,
    gemini: GeminiEmulator,
    request: pytest.FixtureRequest,
) -> Iterator[BotProcess]:
    """A configured, not yet started bot; whatever a test starts is stopped (exit 0 checked)."""
    process = BotProcess(workdir=tmp_path, telegram=telegram, deepseek=deepseek, gemini=gemini)
    yield process
    running = process.process is not None
    status = process.stop() if running else 0
    failed = request.node.stash.get(_failed_key, False)
    if failed or status != 0:
        print(f"--- bot log ---\n{process.log()}")  # noqa: T201 - shown by pytest on failure
    assert status == 0, f"bot exited with {status}"


@pytest.fixture
def bot(bot_process: BotProcess) -> BotProcess:
    """The bot, running."""
    return bot_process.start()


@pytest.fixture
def admin(telegram: TelegramEmulator) -> SimUser:
    return telegram.user(ADMIN_ID, "Ada", "ada")


@pytest.fixture
def alice(telegram: TelegramEmulator) -> SimUser:
    return telegram.user(2001, "Alice", "alice")


_failed_key = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_failed_key] = True
    return report
