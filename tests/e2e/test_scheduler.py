"""The model refresh: ``/admin refresh`` on demand, and the scheduled run after a missed one.

The scheduled run is made due by moving the stored job's next run time into the past while
the bot is down, as if the bot had been stopped over its daily run: at the next start the
scheduler fires it once (APScheduler's misfire rules), without waiting for the crontab.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.actors.scheduler.support import set_next_run
from tests.e2e.harness import BotProcess
from tests.emulators.telegram import SimUser, TelegramEmulator

REPORT = "Model refresh"
NOTICE = "Model lists changed"
REFRESHED_LOG = "catalog: refreshed"


def refresh(telegram: TelegramEmulator, admin: SimUser) -> list[str]:
    """The admin sends /admin refresh; the lines of the report that comes back."""
    count = sum(REPORT in m.text for m in telegram.bot_messages(admin.id))
    telegram.send_text(admin, "/admin refresh")
    reports = telegram.wait_for_message(admin.id, containing=REPORT, count=count + 1)
    return reports[-1].text.splitlines()


def miss_the_daily_refresh(bot: BotProcess) -> None:
    """Stop the bot, with its refresh job due a minute ago when it starts again."""
    bot.stop()
    jobstore = Path(bot.workdir) / "data" / "bot.scheduler.sqlite3"
    set_next_run(jobstore, "refresh_models", time.time() - 60)


def wait_for_log(bot: BotProcess, containing: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(bot.log_lines(containing)) < count:
        assert time.monotonic() < deadline, f"no {count} log lines with {containing!r}"
        time.sleep(0.05)


def test_admin_refresh_reports_added_and_removed_models_and_failed_providers(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    first = refresh(telegram, admin)
    assert first[0] == "Model refresh: no changes."
    assert "deepseek: listed for the first time (2 models)" in first

    bot.deepseek.set_models(("deepseek-chat", "deepseek-v4"))
    bot.gemini.error(401, on="models")
    second = refresh(telegram, admin)

    assert second[0] == "Model refresh: 1 provider(s) changed, 1 failed."
    assert "deepseek: 1 added, 1 removed (2 models)" in second
    assert "  + deepseek-v4" in second
    assert "  \N{MINUS SIGN} deepseek-reasoner" in second
    assert any(line.startswith("gemini: failed — ") for line in second)

    third = refresh(telegram, admin)
    assert third[0] == "Model refresh: no changes."
    assert "deepseek: no changes (2 models)" in third
    assert any(line.startswith("gemini: no changes (") for line in third)


def test_a_refresh_missed_while_the_bot_was_down_runs_at_start_and_tells_admins_the_diff(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    refresh(telegram, admin)  # the first listing: stored, not announced
    miss_the_daily_refresh(bot)
    bot.deepseek.set_models(("deepseek-chat", "deepseek-v4"))

    bot.start()

    notice = telegram.wait_for_message(admin.id, containing=NOTICE)[-1].text
    assert notice.splitlines() == [
        "Model lists changed:",
        "deepseek",
        "  + deepseek-v4",
        "  \N{MINUS SIGN} deepseek-reasoner",
    ]
    assert len(bot.log_lines(REFRESHED_LOG)) == 2  # /admin refresh, then one scheduled run


def test_the_scheduled_refresh_tells_admins_nothing_when_nothing_changed(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    refresh(telegram, admin)
    miss_the_daily_refresh(bot)

    bot.start()

    wait_for_log(bot, REFRESHED_LOG, count=2)
    time.sleep(0.5)  # what the admin actor would send, it has sent by now
    assert not [m for m in telegram.bot_messages(admin.id) if NOTICE in m.text]
