"""What the bot benchmarks share: the bots as processes, the emulators, load and /proc.

``bench/bot_bench.py`` (ours against a plain PTB bot) and ``bench/soak.py`` (ours over
time) both run the real processes against the emulators of ``tests/emulators`` on
127.0.0.1, in this process:

* :class:`OurBot` is ``main.py --config <a generated config.toml>`` in a subprocess, with
  its bench users already approved in its database (seeded through :class:`storage.Store`
  before it starts, so no update goes through the approval flow);
* :class:`BaselineBot` is ``bench/baseline_bot.py`` in a subprocess;
* :class:`LlmServer` runs ``bench/llm_server.py``, the OpenAI-compatible emulator in a
  process of its own: every answer is its echo in one chunk; a question containing
  :data:`SLOW` waits, one containing :data:`FAIL` gets HTTP 503;
* :class:`Driver` sends users' messages on a schedule and remembers when (wall clock);
  :func:`reply_latencies` matches each to the first message the bot sent to that chat
  afterwards, from the emulator's own timestamps (``ChatMessage.sent_at``: when it
  received the ``sendMessage``);
* :class:`ProcSampler` samples a process's RSS, threads, open fds and SQLite files from
  /proc on a thread of its own.

Nothing here is a test fixture: it must work from a fresh clone with only ``.venv``.

The Telegram emulators run in the benchmark's own process, one thread per connection.
With CPython's default GIL switch interval (5 ms) a thread that wakes up on I/O waits up
to that long for the GIL while another one computes, which held the emulator to about 90
requests a second; :data:`SWITCH_INTERVAL` (set by the benchmarks' ``main``) lifts that
several times. It changes nothing in the bots, which are other processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from actors.config import DEFAULT_SYSTEM_PROMPT
from storage import Store
from tests.emulators.telegram import TelegramEmulator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TOKEN = "123456:BENCH-TOKEN"
LLM_KEY = "sk-bench"
MODEL = "deepseek-chat"
ADMIN_ID = 999
SLOW = "[slow]"
FAIL = "[fail]"
START_TIMEOUT = 60.0
SWITCH_INTERVAL = 0.0002  # seconds, for this process (the emulators); see above

TomlValue = str | int | float | bool | list[int]


# -- /proc ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcSample:
    """One look at a process: memory in kB, counts of threads, fds and SQLite files open."""

    at: float  # seconds since the sampler started
    rss_kb: int
    hwm_kb: int
    threads: int
    fds: int
    sqlite_db_fds: int  # fds on *.sqlite3 files: one per sqlite3 connection
    sqlite_aux_fds: int  # fds on its -wal and -shm files


def proc_sample(pid: int, at: float = 0.0) -> ProcSample | None:
    """Read /proc/<pid>; None if the process is gone."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in {"VmRSS", "VmHWM", "Threads"}:
                fields[name] = int(value.split()[0])
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except (OSError, ValueError):
        return None
    db = aux = 0
    for fd in fds:
        try:
            target = str(fd.readlink())
        except OSError:
            continue  # closed meanwhile
        if target.endswith(".sqlite3"):
            db += 1
        elif target.endswith((".sqlite3-wal", ".sqlite3-shm")):
            aux += 1
    return ProcSample(
        at=at,
        rss_kb=fields.get("VmRSS", 0),
        hwm_kb=fields.get("VmHWM", 0),
        threads=fields.get("Threads", 0),
        fds=len(fds),
        sqlite_db_fds=db,
        sqlite_aux_fds=aux,
    )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (0.0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcSampler:
    """Samples a process every ``interval`` seconds on a thread; keeps peaks and the series.

    Use as a context manager around the load. ``keep_every`` thins the kept series (the
    peaks still see every sample).
    """

    def __init__(self, pid: int, *, interval: float = 0.05, keep_every: int = 1) -> None:
        self._pid = pid
        self._interval = interval
        self._keep_every = max(1, keep_every)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{pid}", daemon=True)
        self._started = time.monotonic()
        self.series: list[ProcSample] = []
        self.peak_rss_kb = 0
        self.peak_threads = 0
        self.peak_fds = 0
        self.peak_sqlite_db_fds = 0
        self.last: ProcSample | None = None

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> ProcSample | None:
        """Take one sample now (also called by the thread)."""
        found = proc_sample(self._pid, time.monotonic() - self._started)
        if found is None:
            return None
        self.last = found
        self.peak_rss_kb = max(self.peak_rss_kb, found.rss_kb, found.hwm_kb)
        self.peak_threads = max(self.peak_threads, found.threads)
        self.peak_fds = max(self.peak_fds, found.fds)
        self.peak_sqlite_db_fds = max(self.peak_sqlite_db_fds, found.sqlite_db_fds)
        return found

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(self._interval):
            found = self.sample()
            if found is not None and count % self._keep_every == 0:
                self.series.append(found)
            count += 1


# -- the emulated LLM ----------------------------------------------------------------------------


class LlmServer:
    """``bench/llm_server.py`` in a subprocess: the OpenAI-compatible emulator with our rules.

    Use as a context manager; :attr:`base_url` is the API root (``.../v1``) once entered.
    """

    def __init__(self, *, slow_seconds: float, stream_words: bool = False) -> None:
        self._args = ["--slow-seconds", str(slow_seconds), "--api-key", LLM_KEY]
        if stream_words:
            self._args.append("--stream-words")
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> Self:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.llm_server", *self._args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None  # stdout=PIPE above
        line = self.process.stdout.readline()
        if "listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"the LLM emulator did not start: {line!r}")
        self.base_url = line.rsplit(" ", 1)[-1].strip()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


# -- the bots ------------------------------------------------------------------------------------


def _toml(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def telegram_emulator(user_ids: range) -> TelegramEmulator:
    """A started Telegram emulator, rate limits off, knowing every bench user."""
    emu = TelegramEmulator(token=TOKEN, bot_username="bench_bot", call_log_limit=1_000)
    emu.start()
    for user_id in user_ids:
        emu.user(user_id, f"User{user_id}")
    emu.user(ADMIN_ID, "Admin")
    return emu


class BotProcess:
    """A bot in a subprocess: started, waited for until it polls, stopped with SIGTERM."""

    name = "bot"

    def __init__(self, telegram: TelegramEmulator, workdir: Path) -> None:
        self.telegram = telegram
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.endswith("_API_KEY") and key != "TELEGRAM_BOT_TOKEN"
        }
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        return env

    def prepare(self) -> None:
        """Write what the process needs before it starts."""

    def start(self) -> Self:
        self.prepare()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.telegram.polling:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}: {self.tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not start polling: {self.tail()}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, wait, return the exit status (killed, and -9, if it hangs)."""
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -9

    def tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class OurBot(BotProcess):
    """``main.py`` with a generated config.toml and pre-approved users.

    Args:
        telegram: its Telegram emulator.
        llm_url: the LLM emulator's API root (provider ``deepseek``, the only one).
        workdir: holds config.toml, the database and the log.
        users: ids approved in the database before the start.
        overrides: config tables to change, e.g. ``{"sessions": {"max_alive": 200}}``.
        name: names its config, database and log files.
    """

    name = "ours"

    def __init__(
        self,
        telegram: TelegramEmulator,
        llm_url: str,
        workdir: Path,
        *,
        users: range,
        overrides: dict[str, dict[str, TomlValue]] | None = None,
        name: str = "ours",
    ) -> None:
        super().__init__(telegram, workdir)
        self.llm_url = llm_url
        self.users = users
        self.overrides = overrides or {}
        self.name = name

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.name}.toml"

    @property
    def db_path(self) -> Path:
        return self.workdir / f"{self.name}-data" / "bot.sqlite3"

    def settings(self) -> dict[str, dict[str, TomlValue]]:
        """The bench's config: Telegram pacing out of the way (the emulator has no limits)."""
        tables: dict[str, dict[str, TomlValue]] = {
            "telegram": {
                "api_base_url": self.telegram.base_url,
                "admin_ids": [ADMIN_ID],
                "poll_timeout": 10,
                "edit_interval": 1.0,
                "per_chat_rate": 1000.0,
                "global_rate": 100_000.0,
                "request_timeout": 20.0,
            },
            "storage": {
                "path": str(self.db_path),
                "files_dir": str(self.db_path.parent / "files"),
            },
            "llm": {"default_provider": "deepseek"},
            "providers.deepseek": {
                "kind": "openai",
                "base_url": self.llm_url,
                "default_model": MODEL,
                "max_concurrency": 100,
            },
            "shutdown": {"grace_seconds": 10.0},
            "logging": {"level": "INFO"},
            "ops": {"listen": ""},
        }
        for table, values in self.overrides.items():
            tables.setdefault(table, {}).update(values)
        return tables

    def prepare(self) -> None:
        body = "\n".join(
            f"[{table}]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())
            for table, values in self.settings().items()
        )
        self.config_path.write_text(body, encoding="utf-8")
        seed_users(self.db_path, self.users)

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "main.py"), "--config", str(self.config_path)]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["DEEPSEEK_API_KEY"] = LLM_KEY
        return env


def seed_users(path: Path, users: range) -> None:
    """Approve ``users`` in the bot's database (what an admin's Approve button records)."""
    with Store.open(path) as store:
        known = {user.id for user in store.list_users("active", limit=len(users) + 10)}
        for user_id in users:
            if user_id not in known:
                store.upsert_user(user_id, first_name=f"User{user_id}", initial_state="active")


class BaselineBot(BotProcess):
    """``bench/baseline_bot.py``: a plain PTB Application (see its docstring)."""

    name = "baseline"

    def __init__(self, telegram: TelegramEmulator, llm_url: str, workdir: Path) -> None:
        super().__init__(telegram, workdir)
        self.llm_url = llm_url

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.baseline_bot",
            "--telegram",
            self.telegram.base_url,
            "--llm",
            self.llm_url,
            "--model",
            MODEL,
            "--poll-timeout",
            "10",
        ]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(LLM_API_KEY=LLM_KEY, BASELINE_SYSTEM_PROMPT=DEFAULT_SYSTEM_PROMPT)
        return env


def workdir(prefix: str) -> Path:
    """A fresh temporary directory for a bot's config, database and log."""
    return Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))


# -- load ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """A user's message as the driver sent it: to which chat, when (``time.time()``)."""

    chat_id: int
    at: float
    text: str


@dataclass(slots=True)
class Driver:
    """Sends users' messages into one Telegram emulator at planned times."""

    telegram: TelegramEmulator
    sent: list[Sent] = field(default_factory=list)
    started_at: float = 0.0  # time.time() when run() began

    def send(self, chat_id: int, text: str) -> Sent:
        at = time.time()
        self.telegram.send_text(chat_id, text)
        record = Sent(chat_id, at, text)
        self.sent.append(record)
        return record

    def run(self, plan: list[tuple[float, int, str]]) -> list[Sent]:
        """Send each ``(offset seconds, chat id, text)`` at its offset from now, in order."""
        started = time.monotonic()
        self.started_at = time.time()
        sent: list[Sent] = []
        for offset, chat_id, text in sorted(plan):
            wait = started + offset - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sent.append(self.send(chat_id, text))
        return sent


def replies_count(telegram: TelegramEmulator, chats: range | list[int]) -> int:
    """Messages the bot has sent to these chats so far (edits not counted)."""
    return sum(len(telegram.bot_messages(chat_id)) for chat_id in chats)


def wait_for_replies(
    telegram: TelegramEmulator,
    chats: range | list[int],
    expected: int,
    *,
    timeout: float,
    poll: float = 0.1,
) -> int:
    """Wait until the bot has sent ``expected`` messages to ``chats``; return how many it did."""
    deadline = time.monotonic() + timeout
    count = replies_count(telegram, chats)
    while count < expected and time.monotonic() < deadline:
        time.sleep(poll)
        count = replies_count(telegram, chats)
    return count


def reply_latencies(telegram: TelegramEmulator, sent: list[Sent]) -> list[float | None]:
    """Milliseconds from each message sent to the first bot message in its chat after it.

    Bot messages are matched in order, each to one question (a chat's questions must not
    overlap for this to mean one answer each: the bench spaces them). None: no answer.
    """
    by_chat: dict[int, list[int]] = {}
    for index, record in enumerate(sent):
        by_chat.setdefault(record.chat_id, []).append(index)
    result: list[float | None] = [None] * len(sent)
    for chat_id, indices in by_chat.items():
        replies = [m.sent_at for m in telegram.bot_messages(chat_id)]
        position = 0
        for index in sorted(indices, key=lambda i: sent[i].at):
            asked = sent[index].at
            while position < len(replies) and replies[position] < asked:
                position += 1
            if position < len(replies):
                result[index] = (replies[position] - asked) * 1000.0
                position += 1
    return result


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``samples`` need not be sorted; must not be empty)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def stop_on_sigterm() -> None:
    """Make SIGTERM end the benchmark like Ctrl-C does: ``finally`` blocks stop the bots."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()
