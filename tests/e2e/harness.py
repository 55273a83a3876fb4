"""Run the real bot (``main.py`` in a subprocess) against the emulators.

A :class:`BotProcess` writes a config.toml pointing at the emulators, starts the bot, waits
until it polls, and stops it with SIGTERM, checking that it exits 0. Its log is kept and
shown when a test fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_compat import OpenAIEmulator
from tests.emulators.telegram import SimUser, TelegramEmulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-TOKEN-e2e"
DEEPSEEK_KEY = "sk-test"
GEMINI_KEY = "gemini-test-key"
ADMIN_ID = 1000


@dataclass(kw_only=True)
class BotProcess:
    """The bot under test, with its emulators and its own data directory."""

    workdir: Path
    telegram: TelegramEmulator
    deepseek: OpenAIEmulator
    gemini: GeminiEmulator
    extra_config: str = ""
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "bot.log"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.toml"

    def write_config(self) -> None:
        self.config_path.write_text(
            f"""
[telegram]
api_base_url = "{self.telegram.base_url}"
admin_ids = [{ADMIN_ID}]
poll_timeout = 1
edit_interval = 0.2
per_chat_rate = 50.0
global_rate = 200.0
request_timeout = 5.0

[storage]
path = "data/bot.sqlite3"
files_dir = "data/files"

[llm]
default_provider = "deepseek"

[providers.deepseek]
kind = "openai"
base_url = "{self.deepseek.base_url}"
default_model = "deepseek-chat"
timeout = 5.0
max_retries = 2

[providers.gemini]
kind = "gemini"
base_url = "{self.gemini.base_url}"
default_model = "gemini-2.5-flash"
timeout = 5.0
max_retries = 2

[shutdown]
grace_seconds = 5.0
{self.extra_config}
""",
            encoding="utf-8",
        )

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.endswith("_API_KEY") and key != "TELEGRAM_BOT_TOKEN"
        }
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            DEEPSEEK_API_KEY=DEEPSEEK_KEY,
            GEMINI_API_KEY=GEMINI_KEY,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        return env

    def run_once(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run ``main.py`` with ``args`` to completion (e.g. ``--ping``)."""
        self.write_config()
        return subprocess.run(  # noqa: PLW1510 - callers check the status themselves
            [sys.executable, str(ROOT / "main.py"), "--config", str(self.config_path), *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def start(self) -> Self:
        self.write_config()
        self.telegram_calls_before = len(self.telegram.calls("getUpdates"))
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--config", str(self.config_path)],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        log.close()
        deadline = time.monotonic() + 30.0
        while len(self.telegram.calls("getUpdates")) <= self.telegram_calls_before:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot did not start polling:\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait, and return the exit status (killing it if it hangs)."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def approve(telegram: TelegramEmulator, user: SimUser, admin: SimUser) -> None:
    """Take ``user`` through /start and the admin's Approve button."""
    telegram.send_text(user, "/start")
    request = telegram.wait_for_message(admin.id, containing=f"id {user.id}")[-1]
    telegram.press_button(admin, request, f"a:approve:{user.id}")
    telegram.wait_for_message(user.id, containing="approved")
