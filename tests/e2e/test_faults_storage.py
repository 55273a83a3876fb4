"""The database locked by someone else, or made read-only, while the bot runs.

SQLite is one file that other programs may open too: a backup, an operator's ``sqlite3``
shell. The storage actor waits out a lock (``busy_timeout``, then ``@patient`` retries) on
its own thread, keeping writes in order; messages sent meanwhile are answered once the lock
goes (answers may wait for it: updates are written down before they are handled), each
exactly once, and every turn is written exactly once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.e2e.faults import assert_answered_once, assert_still_serving, mark
from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def database(bot: BotProcess) -> Path:
    return bot.workdir / "data" / "bot.sqlite3"


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold SQLite's write lock on ``path`` from another connection, as a backup tool does."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("COMMIT")


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files immutable (``chattr +i``): writes fail, through open descriptors too.

    chmod would not do: the bot's connection is open already, and root ignores modes. The
    ``-shm`` index stays writable: it is memory-mapped, and an immutable one is a SIGBUS, not
    a read-only database.
    """
    names = [str(path) for path in paths if path.exists()]
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("making an open file read-only needs root and chattr")
    if subprocess.run(["chattr", "+i", *names], capture_output=True, check=False).returncode:
        pytest.skip("this file system does not support chattr +i")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *names], check=True)


def turns(path: Path, chat_id: int) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT role, text FROM turns WHERE chat_id = ? ORDER BY id", (chat_id,)
        ).fetchall()
    return [(str(role), str(text)) for role, text in rows]


def test_a_lock_held_past_the_busy_timeout_delays_writes_and_loses_none(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bob = telegram.user(2002, "Bob", "bob")
    approve(telegram, alice, admin)
    approve(telegram, bob, admin)
    telegram.send_text(alice, "before the lock")
    telegram.wait_for_message(alice.id, containing="Echo: before the lock")
    alice_mark, bob_mark = mark(telegram, alice.id), mark(telegram, bob.id)

    with exclusive_lock(database(bot)):
        telegram.send_text(alice, "during the lock")
        telegram.send_text(bob, "bob during the lock")
        # Past the storage actor's busy_timeout (5 s): its @patient retries take over.
        time.sleep(7.0)

    telegram.wait_for_message(alice.id, containing="Echo: during the lock", timeout=15)
    telegram.wait_for_message(bob.id, containing="Echo: bob during the lock", timeout=15)
    assert_answered_once(bot, telegram, alice, alice_mark, ["Echo: during the lock"])
    assert_answered_once(bot, telegram, bob, bob_mark, ["Echo: bob during the lock"])
    assert bot.log_lines("storage unavailable"), "the lock outlasted busy_timeout"
    telegram.wait_for(lambda: len(turns(database(bot), alice.id)) == 4)
    assert turns(database(bot), alice.id) == [
        ("user", "before the lock"),
        ("assistant", "Echo: before the lock"),
        ("user", "during the lock"),
        ("assistant", "Echo: during the lock"),
    ]
    assert_still_serving(bot, telegram, bob)


def test_a_database_made_read_only_for_a_while_delays_answers_and_loses_none(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    since = mark(telegram, alice.id)
    path = database(bot)

    with read_only(path, path.with_name(path.name + "-wal")):
        telegram.send_text(alice, "while storage is read-only")
        time.sleep(6.0)

    telegram.wait_for_message(alice.id, containing="Echo: while storage is read-only", timeout=15)
    assert_answered_once(bot, telegram, alice, since, ["Echo: while storage is read-only"])
    assert bot.log_lines("storage unavailable"), "the writes did fail meanwhile"
    telegram.wait_for(lambda: len(turns(path, alice.id)) == 2)
    assert turns(path, alice.id) == [
        ("user", "while storage is read-only"),
        ("assistant", "Echo: while storage is read-only"),
    ]


def test_a_file_that_is_not_a_database_stops_the_bot_at_start_with_the_reason_and_status_1(
    bot_process: BotProcess,
) -> None:
    path = database(bot_process)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database, a text file put here by mistake\n" * 100)

    started = time.monotonic()
    result = bot_process.run_once(timeout=10.0)  # raises TimeoutExpired if it hangs on

    assert result.returncode == 1
    assert time.monotonic() - started < 10.0
    reasons = [line for line in result.stderr.splitlines() if "could not start" in line]
    assert reasons, result.stderr[-2000:]
    assert "not a database" in reasons[-1] or "not a SQLite database" in reasons[-1]
