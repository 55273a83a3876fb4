"""Run the real bot (``main.py`` in a subprocess) against the emulators.

A :class:`BotProcess` writes a config.toml pointing at the emulators, starts the bot, waits
until it polls, and stops it with SIGTERM, checking that it exits 0. Its log is kept and
shown when a test fails.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_compat import OpenAIEmulator
from tests.emulators.telegram import ApiCall, SimUser, TelegramEmulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-TOKEN-e2e"
DEEPSEEK_KEY = "sk-test"
GEMINI_KEY = "gemini-test-key"
ADMIN_ID = 1000
RUNNING_LINE = b"bot running"

TomlValue = str | int | float | bool | list[int] | list[str]


def _toml(value: TomlValue) -> str:
    """``value`` as a TOML literal (JSON's strings, numbers and arrays are TOML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@dataclass(kw_only=True)
class BotProcess:
    """The bot under test, with its emulators and its own data directory."""

    workdir: Path
    telegram: TelegramEmulator
    deepseek: OpenAIEmulator
    gemini: GeminiEmulator
    extra_config: str = ""
    overrides: dict[str, dict[str, TomlValue]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "bot.log"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.toml"

    def settings(self) -> dict[str, dict[str, TomlValue]]:
        """The config.toml tables the bot gets: these defaults, then :attr:`overrides`."""
        tables: dict[str, dict[str, TomlValue]] = {
            "telegram": {
                "api_base_url": self.telegram.base_url,
                "admin_ids": [ADMIN_ID],
                "poll_timeout": 1,
                "edit_interval": 0.2,
                "per_chat_rate": 50.0,
                "global_rate": 200.0,
                "request_timeout": 5.0,
            },
            "storage": {"path": "data/bot.sqlite3", "files_dir": "data/files"},
            "llm": {"default_provider": "deepseek"},
            "providers.deepseek": {
                "kind": "openai",
                "base_url": self.deepseek.base_url,
                "default_model": "deepseek-chat",
                "timeout": 5.0,
                "max_retries": 2,
            },
            "providers.gemini": {
                "kind": "gemini",
                "base_url": self.gemini.base_url,
                "default_model": "gemini-2.5-flash",
                "timeout": 5.0,
                "max_retries": 2,
            },
            "shutdown": {"grace_seconds": 5.0},
            # Off unless a test turns it on: test bots must not compete for port 9464.
            "ops": {"listen": ""},
            # Health probes (model listings, getMe) would add to the emulators' request logs
            # that tests count: none within a test unless it sets a short interval.
            "health": {"interval_seconds": 3600.0},
        }
        for table, values in self.overrides.items():
            tables.setdefault(table, {}).update(values)
        return tables

    def configure(self, table: str, **values: TomlValue) -> Self:
        """Override keys of one config table (``"telegram"``, ``"providers.deepseek"``, ...).

        Takes effect at the next :meth:`start` or :meth:`run_once`; returns ``self``.
        """
        self.overrides.setdefault(table, {}).update(values)
        return self

    def write_config(self) -> None:
        body = "\n".join(
            f"[{table}]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())
            for table, values in self.settings().items()
        )
        self.config_path.write_text(f"{body}\n{self.extra_config}\n", encoding="utf-8")

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
        """Start ``main.py`` and return once it runs: signal handlers set, polling started."""
        self.write_config()
        polls_before = len(self.telegram.calls("getUpdates"))
        log_before = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--config", str(self.config_path)],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        log.close()

        def running() -> bool:
            # main.py logs this once the tree (the poller included) runs and SIGTERM is
            # handled; a finished getUpdates call says the same, a long poll later.
            with self.log_path.open("rb") as new_log:
                new_log.seek(log_before)
                if RUNNING_LINE in new_log.read():
                    return True
            return len(self.telegram.calls("getUpdates")) > polls_before

        deadline = time.monotonic() + 30.0
        while not running():
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot did not start polling:\n{self.log()}")
            time.sleep(0.02)
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

    def restart(self) -> Self:
        """Stop the bot (it must exit 0) and start it again on the same data directory."""
        status = self.stop()
        if status != 0:
            raise RuntimeError(f"bot exited with {status} when stopped:\n{self.log()}")
        return self.start()

    def update_done(self, update_id: int, timeout: float = 5.0) -> bool:
        """Whether the durable inbox records ``update_id`` as done within ``timeout``.

        Read from the bot's database file, read-only, as an operator would.
        """
        uri = f"file:{self.workdir / 'data' / 'bot.sqlite3'}?mode=ro"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with closing(sqlite3.connect(uri, uri=True)) as db:
                row = db.execute("SELECT done_at FROM inbox WHERE update_id = ?", (update_id,))
                found = row.fetchone()
            if found is not None and found[0] is not None:
                return True
            time.sleep(0.05)
        return False

    def log_lines(self, containing: str) -> list[str]:
        """Lines of the bot's log that contain ``containing``."""
        return [line for line in self.log().splitlines() if containing in line]

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


def calls_to(telegram: TelegramEmulator, method: str, chat_id: int) -> list[ApiCall]:
    """The Bot API calls of ``method`` the bot made for one chat, oldest first."""
    return [
        call for call in telegram.calls(method) if str(call.params.get("chat_id")) == str(chat_id)
    ]


def shown_texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    """Every text the bot ever showed in a chat: each message's earlier versions and its last."""
    return [
        text
        for message in telegram.bot_messages(chat_id)
        for text in (*(version.text for version in message.history), message.text)
    ]


def approve(telegram: TelegramEmulator, user: SimUser, admin: SimUser) -> None:
    """Take ``user`` through /start and the admin's Approve button."""
    telegram.send_text(user, "/start")
    request = telegram.wait_for_message(admin.id, containing=f"id {user.id}")[-1]
    telegram.press_button(admin, request, f"a:approve:{user.id}")
    telegram.wait_for_message(user.id, containing="approved")
