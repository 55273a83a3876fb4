"""The sandbox's web page in a real browser: headless Chromium driven by Playwright.

``python main.py --sandbox`` runs as a real process (the offline demo model answers: the
test's environment holds no API key), and Chromium plays one person after the other through
the page: a new user asks for access, the admin approves, the user picks a model from the
/model keyboard and watches a streamed answer being edited in place.

The browser is Debian's ``chromium`` package (``apt-get install chromium``), found at
``/usr/bin/chromium`` or ``$CHROMIUM``; Playwright's own browser downloads are not used. Without
it the test fails rather than skips: a skipped browser test would hide that the page is
untested. A screenshot of the last view is kept at ``tests/browser/artifacts/sandbox.png``
(failing runs too, to show what went wrong).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_ID = 100  # actors/sandbox/people.py
WAIT_MS = 15_000


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    """``main.py --sandbox`` on a free port with a copy of config.toml; yields the page's URL.

    Stopped with SIGINT (Ctrl-C) at the end, which must end it with status 0.
    """
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.toml", config)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_KEY") and key != "TELEGRAM_BOT_TOKEN"
    }
    env["PYTHONUNBUFFERED"] = "1"
    log = (tmp_path / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "main.py", "--sandbox", "--sandbox-port", "0", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    log.close()
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert "Sandbox ready: open http://127.0.0.1:" in line, (
            f"sandbox did not start: {line!r}\n{(tmp_path / 'sandbox.log').read_text()}"
        )
        yield line.split("open ", 1)[1].split()[0]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            status = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            assert process.stdout is not None
            process.stdout.close()
    assert status == 0, (tmp_path / "sandbox.log").read_text()
    assert (tmp_path / "data" / "sandbox" / "bot.sqlite3").exists()
    assert not (tmp_path / "data" / "bot.sqlite3").exists(), "the real database was touched"


def send(page: Page, text: str) -> None:
    page.get_by_test_id("text").fill(text)
    page.get_by_test_id("send").click()


def bot_messages(page: Page) -> Locator:
    return page.locator('[data-testid="message"][data-from="bot"]')


def test_a_new_user_asks_is_approved_picks_a_model_and_sees_a_streamed_answer(
    sandbox: str, tmp_path: Path
) -> None:
    assert CHROMIUM.exists(), (
        f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium) "
        "or point $CHROMIUM at one"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 820},
        )
        page = browser.pages[0] if browser.pages else browser.new_page()
        try:
            page.goto(sandbox)
            expect(page.get_by_test_id("demo-badge")).to_contain_text("Offline demo model")

            # A new user asks for access.
            page.get_by_test_id("new-user-name").fill("Alice")
            page.get_by_test_id("add-user").click()
            expect(page.get_by_test_id("chat-title")).to_contain_text("Alice")
            send(page, "/start")
            expect(bot_messages(page).last).to_contain_text("pending", timeout=WAIT_MS)

            # The admin approves from the request's inline keyboard.
            page.get_by_test_id(f"user-{ADMIN_ID}").click()
            page.get_by_test_id("inline-button").filter(has_text="Approve").click()
            expect(bot_messages(page).last).to_contain_text("Approved", timeout=WAIT_MS)

            # Back to the user, who is in, and picks a model with /model.
            page.get_by_test_id("user-1001").click()
            expect(bot_messages(page).last).to_contain_text("You're in", timeout=WAIT_MS)
            send(page, "/model")
            verbose = page.get_by_test_id("inline-button").filter(has_text="offline-demo-verbose")
            verbose.click(timeout=WAIT_MS)
            expect(page.get_by_test_id("messages")).to_contain_text(
                "Model set: demo · offline-demo-verbose", timeout=WAIT_MS
            )

            # A question; the answer streams in, edited in place, then is complete.
            send(page, "Hello from the browser <b>not bold</b>")
            answer = bot_messages(page).filter(has_text="Offline demo model").last
            expect(answer).to_contain_text("offline-demo-verbose", timeout=WAIT_MS)
            expect(answer).not_to_contain_text("real model")  # caught mid-stream
            expect(answer).to_contain_text("real model", timeout=WAIT_MS)
            assert int(answer.get_attribute("data-edits") or 0) >= 1
            expect(answer.locator("b").first).to_have_text("Offline demo model")
            expect(answer.locator("pre")).to_contain_text("python main.py --sandbox")
            expect(answer.locator("blockquote")).to_contain_text("<b>not bold</b>")
        finally:
            page.screenshot(path=str(ARTIFACTS / "sandbox.png"))
            browser.close()
