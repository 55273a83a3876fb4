"""Soak test: our bot, as a process, under steady load for minutes; does anything leak?

Run from the repository root::

    .venv/bin/python -m bench.soak                         # 10,000 updates at 30/s: ~6 min
    .venv/bin/python -m bench.soak --updates 20000        # the run in docs: ~12 min
    .venv/bin/python -m bench.soak --updates 3000 --rate 40   # a short look, ~2 min

``main.py`` runs against the Telegram emulator (in this process, rate limits off) and the
OpenAI-compatible emulator (``bench/llm_server.py``, a process of its own, answers streamed
a word per chunk so that our bot sends a draft and then edits it). Users of ``--chats``
private chats, approved beforehand, send ``--updates`` messages at ``--rate`` a second,
each to a chat picked at random; ``--slow`` of them wait 2 s for their answer and
``--fail`` of them get HTTP 503 on every attempt (our bot retries, then tells the user).

Our bot runs with its shipped configuration except: Telegram pacing out of the way (the
emulator has no limits), no ops endpoint, and ``[sessions] max_alive = 200`` and
``idle_seconds = 20`` (``--max-alive``, ``--idle-seconds``) so that with 1,000 chats
sessions are passivated and brought back all the time: where leaks would hide.

Every ``--interval`` seconds it samples from /proc: RSS, open fds, threads, and SQLite
connections (fds on ``*.sqlite3`` files, one per connection; -wal and -shm apart), and
how many updates are sent and answered. After the load it waits until every update is
answered, then ``idle_seconds + 10`` s more, so idle sessions are passivated, then stops
the bot with SIGTERM. It prints a table of samples and PASS/FAIL per criterion:

* RSS stops growing after warm-up (the first ``--warmup`` of the load): the median of the
  last tenth of the load's samples is at most ``--rss-slack-mb`` above the median of the
  first tenth after warm-up;
* open fds stay under 100;
* threads stay under ``max_alive`` plus a fixed allowance (``--thread-allowance``);
* SQLite connections never exceed those open when idle, before the load;
* every update is answered (an answer or a failure notice), and the bot exits 0.

Every sample goes to ``bench/results/soak-<UTC time>.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.botlab import (
    FAIL,
    RESULTS,
    ROOT,
    SLOW,
    SWITCH_INTERVAL,
    Driver,
    LlmServer,
    OurBot,
    ProcSample,
    cpu_seconds,
    git_commit,
    proc_sample,
    replies_count,
    stop_on_sigterm,
    telegram_emulator,
    workdir,
)

FIRST_CHAT = 300_001
FD_LIMIT = 100
SLOW_SECONDS = 2.0
STALL_SECONDS = 20.0  # no new answer for this long: what is missing will not come


@dataclass(frozen=True, slots=True)
class Row:
    """One sample of the bot and of the load."""

    t: float  # seconds since the load started
    phase: str  # idle, load, drain, cool
    sent: int
    answered: int
    rss_mb: float
    fds: int
    threads: int
    sqlite_db: int
    sqlite_aux: int
    cpu_s: float


class Load(threading.Thread):
    """Sends the updates at a steady rate on its own thread."""

    def __init__(self, driver: Driver, args: argparse.Namespace, chats: range) -> None:
        super().__init__(name="soak-load", daemon=True)
        self._driver = driver
        self._args = args
        self._chats = chats
        self.sent = 0
        self.slow = 0
        self.failing = 0
        self.behind_s = 0.0  # how late the last send was: the driver's own lag

    def run(self) -> None:
        rng = random.Random(42)
        args = self._args
        started = time.monotonic()
        for i in range(args.updates):
            due = started + i / args.rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                self.behind_s = -wait
            chat_id = self._chats[rng.randrange(len(self._chats))]
            roll = rng.random()
            if roll < args.fail:
                text = f"{FAIL} soak q{i}"
                self.failing += 1
            elif roll < args.fail + args.slow:
                text = f"{SLOW} soak q{i}"
                self.slow += 1
            else:
                text = f"soak q{i}"
            self._driver.send(chat_id, text)
            self.sent = i + 1


def row_of(
    sample: ProcSample, *, t: float, phase: str, sent: int, answered: int, cpu: float
) -> Row:
    return Row(
        t=round(t, 1),
        phase=phase,
        sent=sent,
        answered=answered,
        rss_mb=round(sample.rss_kb / 1024.0, 1),
        fds=sample.fds,
        threads=sample.threads,
        sqlite_db=sample.sqlite_db_fds,
        sqlite_aux=sample.sqlite_aux_fds,
        cpu_s=round(cpu, 1),
    )


HEADER = (
    f"{'t, s':>7} {'phase':<6} {'sent':>7} {'answered':>8} {'RSS MB':>7} {'fds':>4}"
    f" {'threads':>7} {'sqlite':>6} {'wal/shm':>7} {'CPU s':>6}"
)


def show(row: Row) -> str:
    return (
        f"{row.t:>7.1f} {row.phase:<6} {row.sent:>7} {row.answered:>8} {row.rss_mb:>7.1f}"
        f" {row.fds:>4} {row.threads:>7} {row.sqlite_db:>6} {row.sqlite_aux:>7} {row.cpu_s:>6.1f}"
    )


def curve_table(rows: list[Row], points: int = 16) -> str:
    """About ``points`` samples, evenly spread, as a Markdown table (for docs/)."""
    step = max(1, len(rows) // points)
    picked = rows[::step]
    if picked[-1] is not rows[-1]:
        picked.append(rows[-1])
    lines = [
        "| t, s | phase | sent | answered | RSS, MB | fds | threads | SQLite conns | CPU, s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r.t:.0f} | {r.phase} | {r.sent} | {r.answered} | {r.rss_mb:.1f} | {r.fds}"
        f" | {r.threads} | {r.sqlite_db} | {r.cpu_s:.0f} |"
        for r in picked
    )
    return "\n".join(lines)


def rss_plot(rows: list[Row], width: int = 64, height: int = 10) -> str:
    """RSS over time as a text plot: one column per time slice, its peak in that slice."""
    if not rows:
        return ""
    end = rows[-1].t or 1.0
    peaks = [0.0] * width
    for r in rows:
        column = min(width - 1, int(r.t / end * width)) if r.t > 0 else 0
        peaks[column] = max(peaks[column], r.rss_mb)
    for i in range(1, width):  # a slice without a sample shows its neighbour's value
        peaks[i] = peaks[i] or peaks[i - 1]
    low, high = min(p for p in peaks if p) - 1.0, max(peaks) + 1.0
    out = []
    for level in range(height, 0, -1):
        threshold = low + (high - low) * (level - 0.5) / height
        label = "       |"
        if level in {height, 1}:
            label = f"{high if level == height else low:6.1f} |"
        out.append(label + "".join("#" if p >= threshold else " " for p in peaks))
    out.append("       +" + "-" * width)
    out.append(f"        0 s{' ' * (width - 12)}{end:.0f} s   (RSS, MB)")
    return "\n".join(out)


def verdicts(
    rows: list[Row], args: argparse.Namespace, *, answered: int, exit_status: int
) -> list[tuple[bool, str]]:
    """The pass criteria of the module docstring, each with the figures behind it."""
    idle = [r for r in rows if r.phase == "idle"]
    load = [r for r in rows if r.phase == "load"]
    found: list[tuple[bool, str]] = []
    after = [r for r in load if r.sent >= args.warmup * args.updates]
    if len(after) >= 10:
        tenth = max(1, len(after) // 10)
        first = statistics.median(r.rss_mb for r in after[:tenth])
        last = statistics.median(r.rss_mb for r in after[-tenth:])
        growth = last - first
        found.append(
            (
                growth <= args.rss_slack_mb,
                (
                    f"RSS after warm-up: {first:.1f} MB -> {last:.1f} MB"
                    f" ({growth:+.1f} MB, slack {args.rss_slack_mb:g} MB;"
                    f" peak {max(r.rss_mb for r in rows):.1f} MB)"
                ),
            )
        )
    else:
        found.append((False, f"RSS trend: only {len(after)} samples after warm-up (need 10)"))
    peak_fds = max(r.fds for r in rows)
    found.append((peak_fds < FD_LIMIT, f"open fds peak {peak_fds} < {FD_LIMIT}"))
    peak_threads = max(r.threads for r in rows)
    bound = args.max_alive + args.thread_allowance
    found.append(
        (
            peak_threads <= bound,
            (
                f"threads peak {peak_threads} <= max_alive {args.max_alive}"
                f" + {args.thread_allowance} (idle: {idle[0].threads if idle else '?'})"
            ),
        )
    )
    idle_db = max((r.sqlite_db for r in idle), default=1)
    peak_db = max(r.sqlite_db for r in rows)
    found.append(
        (
            peak_db <= idle_db,
            (
                f"SQLite connections peak {peak_db} <= {idle_db} when idle"
                f" (-wal/-shm fds peak {max(r.sqlite_aux for r in rows)})"
            ),
        )
    )
    found.append((answered >= args.updates, f"answered {answered} of {args.updates} updates"))
    found.append((exit_status == 0, f"exit status after SIGTERM {exit_status}"))
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    chats = range(FIRST_CHAT, FIRST_CHAT + args.chats)
    rows: list[Row] = []
    with LlmServer(slow_seconds=SLOW_SECONDS, stream_words=True) as llm:
        telegram = telegram_emulator(chats)
        bot = OurBot(
            telegram,
            llm.base_url,
            workdir("soak"),
            users=chats,
            overrides={
                "providers.deepseek": {"max_concurrency": args.max_concurrency},
                "sessions": {"max_alive": args.max_alive, "idle_seconds": args.idle_seconds},
            },
            name="soak",
        )
        try:
            bot.start()
            pid = bot.pid
            driver = Driver(telegram)
            load = Load(driver, args, chats)
            began = time.monotonic()

            def sample(phase: str) -> Row | None:
                found = proc_sample(pid)
                if found is None:
                    return None
                row = row_of(
                    found,
                    t=time.monotonic() - began,
                    phase=phase,
                    sent=load.sent,
                    answered=replies_count(telegram, chats),
                    cpu=cpu_seconds(pid),
                )
                rows.append(row)
                if phase != "load" or len(rows) % args.print_every == 0:
                    print(show(row), flush=True)
                return row

            print(HEADER)
            for _ in range(2):
                sample("idle")
                time.sleep(1.0)
            began = time.monotonic()
            load.start()
            while load.is_alive():
                time.sleep(args.interval)
                sample("load")
            load.join()
            deadline = time.monotonic() + args.drain_timeout
            answered = replies_count(telegram, chats)
            progress_at = time.monotonic()  # a drain that has stopped moving is over
            while (
                answered < args.updates
                and time.monotonic() < deadline
                and time.monotonic() - progress_at < STALL_SECONDS
            ):
                time.sleep(args.interval)
                row = sample("drain")
                if row is not None and row.answered > answered:
                    answered, progress_at = row.answered, time.monotonic()
            cool_until = time.monotonic() + args.idle_seconds + 10.0
            while time.monotonic() < cool_until:
                time.sleep(args.interval)
                sample("cool")
            answered = replies_count(telegram, chats)
            exit_status = bot.stop()
        finally:
            bot.stop()
            telegram.close()
    return {
        "rows": [asdict(r) for r in rows],
        "answered": answered,
        "exit_status": exit_status,
        "sent_slow": load.slow,
        "sent_failing": load.failing,
        "driver_lag_s": load.behind_s,
        "log_counts": log_counts(bot.log_path.read_text(encoding="utf-8", errors="replace")),
        "log_tail": bot.tail(30),
    }


LOG_MARKERS = {
    "lost": "queued message(s) lost",  # a session stopped with questions still queued
    "errors": "| ERROR",
    "provider_failed": "deepseek failed for chat",
    "restarts": "restarting /",
}


def log_counts(log: str) -> dict[str, int]:
    """How often the bot's log says what the soak watches for (see :data:`LOG_MARKERS`)."""
    lines = log.splitlines()
    return {name: sum(marker in line for line in lines) for name, marker in LOG_MARKERS.items()}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    add = parser.add_argument
    add("--updates", type=int, default=10_000, help="messages to send (default 10000)")
    add("--chats", type=int, default=1_000, help="distinct private chats (default 1000)")
    add("--rate", type=float, default=30.0, help="messages a second (default 30)")
    add("--slow", type=float, default=0.03, help="share of slow questions (default 0.03)")
    add("--fail", type=float, default=0.02, help="share of failing questions (default 0.02)")
    add("--max-alive", type=int, default=200, help="[sessions] max_alive (default 200)")
    add("--idle-seconds", type=float, default=20.0, help="[sessions] idle_seconds (default 20)")
    add("--max-concurrency", type=int, default=8, help="provider max_concurrency (default 8)")
    add("--interval", type=float, default=2.0, help="seconds between samples (default 2)")
    add("--print-every", type=int, default=5, help="print every Nth sample under load")
    add("--warmup", type=float, default=0.3, help="share of the load that is warm-up")
    add("--rss-slack-mb", type=float, default=5.0, help="allowed RSS growth after warm-up")
    add("--thread-allowance", type=int, default=50, help="threads allowed beyond max_alive")
    add("--drain-timeout", type=float, default=120.0, help="seconds to wait for late answers")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    sys.setswitchinterval(SWITCH_INTERVAL)  # for the emulator in this process: see botlab
    began = time.perf_counter()
    load_at_start = os.getloadavg()
    results = run(args)
    rows = [Row(**r) for r in results["rows"]]
    found = verdicts(rows, args, answered=results["answered"], exit_status=results["exit_status"])
    report = {
        "command": " ".join(
            [os.path.relpath(sys.executable, ROOT), "-m", "bench.soak", *sys.argv[1:]]
        ),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": time.perf_counter() - began,
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": os.getloadavg(),
        "nproc": os.cpu_count(),
        "git_commit": git_commit(),
        "args": vars(args),
        "verdicts": [{"ok": ok, "text": text} for ok, text in found],
        **results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = RESULTS / f"soak-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(
        f"soak: {args.updates} updates, {args.chats} chats, {args.rate:g}/s"
        f" ({results['sent_slow']} slow, {results['sent_failing']} failing)"
        f" | {report['duration_s']:.0f}s | load {load_at_start[0]:.1f}"
    )
    for ok, text in found:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    print()
    print(curve_table(rows))
    print()
    print(rss_plot(rows))
    print()
    counts = results["log_counts"]
    print("bot log: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    if counts["lost"]:
        print(
            f"NOTE: {counts['lost']} session(s) stopped with questions still queued"
            " ('queued message(s) lost' in the bot's log): see docs/benchmarks.md, Soak"
        )
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if all(ok for ok, _ in found) else 1


if __name__ == "__main__":
    sys.exit(main())
