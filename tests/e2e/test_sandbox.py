"""``python main.py --sandbox`` as a real process, driven through its page's JSON API.

The browser test (tests/browser/) plays the same story through the page itself; this one
needs no browser, so it also runs where Chromium is missing, and checks what a browser does
not see: the exit status, where the data went, and that a bad config still stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import ROOT

ADMIN_ID = 100  # actors/sandbox/people.py


@dataclass
class Sandbox:
    url: str
    workdir: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client

    def send(self, user_id: int, text: str) -> None:
        self.client.post("/api/send", json={"user_id": user_id, "text": text}).raise_for_status()

    def wait_for(self, chat_id: int, containing: str, *, done: str | None = None) -> Any:
        """Long-poll a chat until a message holds ``containing`` (and ``done``, if given)."""
        revision = ""
        for _ in range(40):
            view = self.client.get(
                f"/api/chats/{chat_id}", params={"since": revision, "wait": 5}
            ).json()
            revision = view["revision"]
            for message in reversed(view["messages"]):
                if containing in message["text"] and (done is None or done in message["text"]):
                    return message
        raise AssertionError(f"no message with {containing!r} in chat {chat_id}: {view}")

    def log(self) -> str:
        return (self.workdir / "sandbox.log").read_text(encoding="utf-8", errors="replace")


def start(workdir: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_KEY") and key != "TELEGRAM_BOT_TOKEN"
    }
    env["PYTHONUNBUFFERED"] = "1"
    config = workdir / "config.toml"
    with (workdir / "sandbox.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "main.py", "--sandbox", "--config", str(config), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    process = start(tmp_path, "--sandbox-port", "0")
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    try:
        assert "Sandbox ready: open http://127.0.0.1:" in line, line
        url = line.split("open ", 1)[1].split()[0]
        with httpx.Client(base_url=url, timeout=10.0) as client:
            yield Sandbox(url=url, workdir=tmp_path, process=process, client=client)
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(30)
        process.stdout.close()
    assert status == 0, (tmp_path / "sandbox.log").read_text()


def test_the_sandbox_runs_the_real_bot_with_an_offline_demo_model_and_its_own_storage(
    sandbox: Sandbox,
) -> None:
    alice = sandbox.client.post("/api/users", json={"name": "Alice"}).json()["id"]
    sandbox.send(alice, "/start")
    request = sandbox.wait_for(ADMIN_ID, f"id {alice}")
    sandbox.client.post(
        "/api/press",
        json={"user_id": ADMIN_ID, "message_id": request["id"], "data": f"a:approve:{alice}"},
    ).raise_for_status()
    sandbox.wait_for(alice, "You're in")

    sandbox.send(alice, "Hello, sandbox")
    answer = sandbox.wait_for(alice, "Offline demo model", done="real model")

    assert answer["edits"] >= 1  # streamed: edited in place
    assert "<b>Offline demo model</b>" in answer["html"]
    assert (sandbox.workdir / "data" / "sandbox" / "bot.sqlite3").exists()
    assert not (sandbox.workdir / "data" / "bot.sqlite3").exists()
    assert "storage in" in sandbox.log()


def test_a_taken_port_gives_the_page_another_one(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(tmp_path, "--sandbox-port", str(port))
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        process.stdout.close()
        process.send_signal(signal.SIGINT)  # at once: the bot may not have started yet
        status = process.wait(30)

    assert "Sandbox ready: open http://127.0.0.1:" in line
    assert f":{port}/" not in line
    assert status == 0, (tmp_path / "sandbox.log").read_text()


def test_a_bad_config_stops_the_sandbox_with_one_line_and_status_2(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[sessions]\nmax_alive = -1\n", encoding="utf-8")

    process = start(tmp_path)
    assert process.stdout is not None

    assert process.wait(30) == 2
    process.stdout.close()
    assert "max_alive" in (tmp_path / "sandbox.log").read_text()
