from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage import Store
from tests.storage.fakes import FakeClock

CHAT_ID = 100


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock) as opened:
        yield opened


@pytest.fixture
def chat_id(store: Store) -> int:
    store.upsert_chat(CHAT_ID, kind="private", title="Ada")
    return CHAT_ID


def _writable(path: Path) -> bool:
    try:
        with path.open("r+b"):
            return True
    except PermissionError:
        return False


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file read-only for the test, even as root (which ignores permission bits).

    As root, falls back to the immutable attribute (``chattr +i``); skips the test where
    neither works. Undoes it all afterwards so tmp_path can be cleaned up.
    """
    changed: list[tuple[Path, bool]] = []

    def make(path: Path) -> None:
        path.chmod(0o444)
        immutable = False
        if _writable(path) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", path], check=False).returncode == 0
        changed.append((path, immutable))
        if _writable(path):
            pytest.skip("cannot make a file read-only here (root without chattr)")

    yield make
    for path, immutable in changed:
        if immutable:
            subprocess.run(["chattr", "-i", path], check=True)
        path.chmod(0o644)
