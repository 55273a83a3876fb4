"""Benchmark: our actor runtime against bare pykka, side by side in one run.

Run from the repository root (the full run takes a minute or two on 2 cores)::

    .venv/bin/python -m bench.runtime_bench            # full run
    .venv/bin/python -m bench.runtime_bench --quick    # smoke run, a few seconds

It prints a table (ours, pykka, ours/pykka) and writes every figure as JSON to
``bench/results/`` (gitignored). Measured:

* tell throughput into one actor from one producer thread: the time until the actor has
  handled them all, median of several runs;
* ask round trip, sequential, p50/p99; ask_async from a coroutine, and how long an
  awaited pykka future stalls the event loop compared with ``ask_async``;
* restart latency after a crash: from the handler raising to the next incarnation
  handling the retried message (ours only: pykka does not restart actors);
* 10,000 keys through a keyed pool capped at 1,000 live children, against bare pykka
  with one actor per key: time, peak threads, peak RSS. Each of these runs in a child
  process of its own so that its peak RSS is its own.

Every actor started is stopped; the run ends by checking that no thread is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pykka
from loguru import logger

from bench.table import Row, render
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    ChildSpec,
    Message,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
    supervisor,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WAIT = 120.0  # seconds a phase may take before the bench calls it stuck


# -- messages ----------------------------------------------------------------------------


class Tick(Message, frozen=True, kw_only=True):
    """One unit of load: counted, nothing else."""

    seq: int = 0


class Hold(Message, frozen=True, kw_only=True):
    """Block the actor until the bench opens the gate, so its mailbox fills up."""


class Ping(Message, frozen=True, kw_only=True):
    """Ask for ``seq`` back."""

    seq: int = 0


class Work(Message, frozen=True, kw_only=True):
    """Ask for a reply after ``seconds`` of work that releases the GIL (an I/O stand-in)."""

    seconds: float


class Crash(Message, frozen=True, kw_only=True):
    """Fail the first time ``seq`` is handled; succeed when it is retried."""

    seq: int


class Boom(Exception):
    """What a crashing handler raises."""


# -- probes: how the bench learns what the actors did ---------------------------------------


class Countdown:
    """Counts handled messages and wakes the bench when the expected number is reached.

    ``hold`` parks the actor's thread until ``gate`` is set, so the bench can measure the
    cost of sending and the cost of handling apart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left = 0
        self.done = threading.Event()
        self.gate = threading.Event()
        self.holding = threading.Event()

    def hold(self) -> None:
        self.holding.set()
        self.gate.wait()

    def expect(self, count: int) -> None:
        with self._lock:
            self._left = count
            self.done.clear()

    def hit(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.done.set()


class CrashLog:
    """Remembers which crashes happened, when the handler raised and when it was retried.

    It lives outside the actor on purpose: the actor object is replaced on every restart.
    """

    def __init__(self) -> None:
        self.failed_at: dict[int, float] = {}
        self.retried_at: dict[int, float] = {}
        self.retried = threading.Event()

    def handle(self, seq: int) -> None:
        now = time.perf_counter()
        if seq not in self.failed_at:
            self.failed_at[seq] = now
            raise Boom(f"crash {seq}")
        self.retried_at[seq] = now
        self.retried.set()

    def latencies_ns(self, seqs: range) -> list[float]:
        return [(self.retried_at[s] - self.failed_at[s]) * 1e9 for s in seqs]


# -- our actors ------------------------------------------------------------------------------


class Counter(Actor):
    def __init__(self, context: ActorContext, *, countdown: Countdown) -> None:
        super().__init__(context)
        self._countdown = countdown

    @receive
    def on_tick(self, _message: Tick) -> None:
        self._countdown.hit()

    @receive
    def on_hold(self, _message: Hold) -> None:
        self._countdown.hold()


class Echo(Actor):
    @receive
    def on_ping(self, message: Ping) -> int:
        return message.seq

    @receive
    def on_work(self, message: Work) -> float:
        time.sleep(message.seconds)
        return message.seconds


class Crasher(Actor):
    def __init__(self, context: ActorContext, *, log: CrashLog) -> None:
        super().__init__(context)
        self._log = log

    @receive
    def on_crash(self, message: Crash) -> None:
        self._log.handle(message.seq)


# -- the same actors on bare pykka -------------------------------------------------------------


class PykkaCounter(pykka.ThreadingActor):
    def __init__(self, countdown: Countdown) -> None:
        super().__init__()
        self._countdown = countdown

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Tick):
            self._countdown.hit()
        elif isinstance(message, Hold):
            self._countdown.hold()
        return None


class PykkaEcho(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Ping):
            return message.seq
        if isinstance(message, Work):
            time.sleep(message.seconds)
            return message.seconds
        return None


# -- measuring tools -----------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples`` (which need not be sorted)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def proc_status_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or ru_maxrss off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Sampler:
    """A thread that samples the thread count and RSS every few milliseconds.

    ``peak_threads`` leaves the sampler itself out, so it is what the code under test and
    the main thread used.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler")
        self.peak_threads = 0
        self.peak_rss_kb = 0

    def __enter__(self) -> Self:
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

    def _sample(self) -> None:
        self.peak_threads = max(self.peak_threads, threading.active_count() - 1)
        self.peak_rss_kb = max(self.peak_rss_kb, proc_status_kb("VmRSS"))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()
        self._sample()


def wait_for(event: threading.Event, what: str) -> None:
    if not event.wait(WAIT):
        raise RuntimeError(f"{what} did not finish within {WAIT:g}s")


def wait_until_only_main_thread(timeout: float = 30.0, *, extra: int = 0) -> int:
    """Wait for actor threads to be gone; return how many threads are left besides main."""
    deadline = time.monotonic() + timeout
    while threading.active_count() > 1 + extra and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.active_count() - 1 - extra


def quiet_logging(*, runtime_logs: bool) -> None:
    """Send loguru to a sink that drops everything, or switch it off.

    With ``runtime_logs`` the runtime still formats each record (a crash's traceback
    included) as it would in production, only nothing is written.
    """
    logger.remove()
    if runtime_logs:
        logger.add(lambda _record: None, level="INFO", backtrace=False, diagnose=False)


# -- the measurements --------------------------------------------------------------------------


def tell_rate(send: Callable[[Message], None], countdown: Countdown, count: int) -> float:
    """Tell ``count`` messages from this thread; the rate until the actor handled them all."""
    message = Tick()
    countdown.expect(count)
    started = time.perf_counter()
    for _ in range(count):
        send(message)
    wait_for(countdown.done, "tell run")
    return count / (time.perf_counter() - started)


def held_tell_rates(
    send: Callable[[Message], None], countdown: Countdown, count: int
) -> tuple[float, float]:
    """Tell ``count`` messages to a held actor, then let it go.

    Returns (send rate, drain rate): what one ``tell`` costs the sender when the receiver
    is not competing for the GIL, and what handling costs when the mailbox is full. Both
    are steadier than the concurrent rate, which swings with how the two threads happen to
    hand the GIL to each other.
    """
    message = Tick()
    countdown.expect(count)
    countdown.gate.clear()
    countdown.holding.clear()
    send(Hold())
    wait_for(countdown.holding, "hold")
    started = time.perf_counter()
    for _ in range(count):
        send(message)
    sent = time.perf_counter()
    countdown.gate.set()
    wait_for(countdown.done, "drain")
    drained = time.perf_counter()
    return count / (sent - started), count / (drained - sent)


def ask_times_ns(ask: Callable[[Ping], object], count: int) -> list[float]:
    ping = Ping(seq=1)
    clock = time.perf_counter_ns
    times: list[float] = []
    for _ in range(count):
        started = clock()
        ask(ping)
        times.append(clock() - started)
    return times


async def ask_async_times_ns(
    ask: Callable[[Message], Awaitable[object]], count: int
) -> list[float]:
    ping = Ping(seq=1)
    clock = time.perf_counter_ns
    times: list[float] = []
    for _ in range(count):
        started = clock()
        await ask(ping)
        times.append(clock() - started)
    return times


async def loop_stall_ms(
    ask: Callable[[Message], Awaitable[object]], count: int, seconds: float
) -> dict[str, float]:
    """Await ``count`` asks to a handler busy for ``seconds`` while a ticker wants 1 ms ticks.

    Returns how late the ticker ran: an event loop that is never blocked keeps this near
    the scheduler's own jitter; one blocked by each ask is late by about ``seconds``.
    """
    period = 0.001
    lateness: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            started = time.perf_counter()
            await asyncio.sleep(period)
            lateness.append((time.perf_counter() - started - period) * 1000.0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    work = Work(seconds=seconds)
    for _ in range(count):
        await ask(work)
    running = False
    await task
    return {"max_ms": max(lateness), "p99_ms": percentile(lateness, 0.99), "ticks": len(lateness)}


def pykka_await(ref: pykka.ActorRef[Any]) -> Callable[[Message], Awaitable[object]]:
    """What a coroutine does with pykka: await the future that ``ask(block=False)`` returns."""

    async def ask(message: Message) -> object:
        return await ref.ask(message, block=False)

    return ask


def summary_ns(times: list[float]) -> dict[str, float]:
    return {
        "p50_us": percentile(times, 0.50) / 1000.0,
        "p99_us": percentile(times, 0.99) / 1000.0,
        "mean_us": statistics.fmean(times) / 1000.0,
        "count": len(times),
    }


class Sizes:
    """How much work each measurement does, full or quick."""

    def __init__(self, *, quick: bool) -> None:
        self.tells = 20_000 if quick else 200_000
        self.tell_runs = 3 if quick else 5
        self.asks = 2_000 if quick else 20_000
        self.ask_rounds = 4 if quick else 20
        self.async_asks = 1_000 if quick else 5_000
        self.stall_asks = 20 if quick else 100
        self.crashes = 50 if quick else 500
        self.keys = 2_000 if quick else 10_000
        self.max_alive = 200 if quick else 1_000


def run_in_process(sizes: Sizes) -> dict[str, Any]:
    """Throughput, latency and restarts: ours and pykka in this process, interleaved."""
    countdown = Countdown()
    crashes = CrashLog()
    pool_crashes = CrashLog()
    spec = SupervisorSpec(
        children=(
            ChildSpec(name="counter", factory=functools.partial(Counter, countdown=countdown)),
            ChildSpec(name="echo", factory=Echo),
            supervisor(
                "crashers",
                SupervisorSpec(
                    children=(
                        ChildSpec(name="crasher", factory=functools.partial(Crasher, log=crashes)),
                    ),
                    max_restarts=1_000_000,
                    within_seconds=1.0,
                ),
            ),
            pool(
                "pool",
                PoolSpec(
                    factory=functools.partial(Crasher, log=pool_crashes),
                    max_restarts=1_000_000,
                    within_seconds=1.0,
                ),
            ),
        )
    )
    results: dict[str, Any] = {}
    pykka_counter = PykkaCounter.start(countdown)
    pykka_echo = PykkaEcho.start()
    try:
        with ActorSystem() as system:
            system.start(spec)
            counter = system.address("/counter")
            echo = system.address("/echo")
            results["tell"] = measure_tells(sizes, counter, pykka_counter, countdown)
            results["ask"] = measure_asks(sizes, echo, pykka_echo)
            results["ask_async"] = asyncio.run(measure_ask_async(sizes, echo, pykka_echo))
            results["restart"] = measure_restarts(
                sizes, system.address("/crashers/crasher"), crashes, system, "supervisor child"
            )
            results["restart_pool"] = measure_restarts(
                sizes, system.address("/pool/chat-1"), pool_crashes, system, "pool member"
            )
            results["dead_letters"] = system.dead_letters.total
    finally:
        pykka_counter.stop()
        pykka_echo.stop()
    return results


def measure_tells(
    sizes: Sizes, counter: Address, pykka_counter: pykka.ActorRef[Any], countdown: Countdown
) -> dict[str, Any]:
    sends: dict[str, Callable[[Message], None]] = {
        "ours": counter.tell,
        "pykka": pykka_counter.tell,
    }
    runs: dict[str, dict[str, list[float]]] = {
        name: {"concurrent": [], "send": [], "drain": []} for name in sends
    }
    for send in sends.values():  # warm-up
        tell_rate(send, countdown, sizes.tells // 10)
    for run in range(sizes.tell_runs):
        for name in sends if run % 2 == 0 else reversed(sends):
            runs[name]["concurrent"].append(tell_rate(sends[name], countdown, sizes.tells))
            send_rate, drain_rate = held_tell_rates(sends[name], countdown, sizes.tells)
            runs[name]["send"].append(send_rate)
            runs[name]["drain"].append(drain_rate)
    result: dict[str, Any] = {"messages": sizes.tells, "runs": sizes.tell_runs, "all": runs}
    for name, figures in runs.items():
        for kind, rates in figures.items():
            result[f"{name}_{kind}_per_s"] = statistics.median(rates)
    return result


def measure_asks(sizes: Sizes, echo: Address, pykka_echo: pykka.ActorRef[Any]) -> dict[str, Any]:
    ours_ask = functools.partial(echo.ask, timeout=5.0)
    pykka_ask = functools.partial(pykka_echo.ask, timeout=5.0)
    ask_times_ns(ours_ask, 1000)  # warm-up
    ask_times_ns(pykka_ask, 1000)
    ours: list[float] = []
    theirs: list[float] = []
    per_round = sizes.asks // sizes.ask_rounds
    for run in range(sizes.ask_rounds):
        pair = [(ours_ask, ours), (pykka_ask, theirs)]
        for ask, into in pair if run % 2 == 0 else reversed(pair):
            into.extend(ask_times_ns(ask, per_round))
    return {"ours": summary_ns(ours), "pykka": summary_ns(theirs)}


async def measure_ask_async(
    sizes: Sizes, echo: Address, pykka_echo: pykka.ActorRef[Any]
) -> dict[str, Any]:
    ours_ask = functools.partial(echo.ask_async, timeout=5.0)
    pykka_ask = pykka_await(pykka_echo)
    await ask_async_times_ns(ours_ask, 200)  # warm-up
    await ask_async_times_ns(pykka_ask, 200)
    ours: list[float] = []
    theirs: list[float] = []
    per_round = sizes.async_asks // sizes.ask_rounds
    pair: list[tuple[Callable[[Message], Awaitable[object]], list[float]]] = [
        (ours_ask, ours),
        (pykka_ask, theirs),
    ]
    for run in range(sizes.ask_rounds):
        for ask, into in pair if run % 2 == 0 else reversed(pair):
            into.extend(await ask_async_times_ns(ask, per_round))
    work_s = 0.005
    return {
        "ours": summary_ns(ours),
        "pykka": summary_ns(theirs),
        "stall_work_ms": work_s * 1000.0,
        "stall_asks": sizes.stall_asks,
        "ours_stall": await loop_stall_ms(ours_ask, sizes.stall_asks, work_s),
        "pykka_stall": await loop_stall_ms(pykka_ask, sizes.stall_asks, work_s),
    }


def measure_restarts(
    sizes: Sizes, target: Address, log: CrashLog, system: ActorSystem, where: str
) -> dict[str, Any]:
    """Crash ``target`` ``sizes.crashes`` times, one at a time, with and without logging."""

    def crash_run(first: int, count: int) -> list[float]:
        for seq in range(first, first + count):
            log.retried.clear()
            target.tell(Crash(seq=seq))
            wait_for(log.retried, f"restart {seq} of the {where}")
        return log.latencies_ns(range(first, first + count))

    crash_run(0, 20)  # warm-up
    quiet_logging(runtime_logs=True)
    logged = crash_run(1_000_000, sizes.crashes)
    quiet_logging(runtime_logs=False)
    silent = crash_run(2_000_000, sizes.crashes)
    quiet_logging(runtime_logs=True)
    snapshot = system.snapshot().find(target.path)
    return {
        "where": where,
        "logged": summary_ns(logged),
        "silent": summary_ns(silent),
        "restarts_counted": snapshot.restarts if snapshot else None,
    }


# -- many keys, in child processes ----------------------------------------------------------------


def pool_phase_ours(keys: int, max_alive: int) -> dict[str, Any]:
    countdown = Countdown()
    countdown.expect(keys)
    spec = SupervisorSpec(
        children=(
            pool(
                "chats",
                PoolSpec(
                    factory=functools.partial(Counter, countdown=countdown), max_alive=max_alive
                ),
            ),
        )
    )
    rss_before = proc_status_kb("VmRSS")
    with Sampler() as sampler:
        system = ActorSystem()
        try:
            system.start(spec)
            chats = system.address("/chats")
            started = time.perf_counter()
            for key in range(keys):
                chats.child(f"chat{key}").tell(Tick(seq=key))
            sent = time.perf_counter()
            wait_for(countdown.done, "the keyed pool")
            handled = time.perf_counter()
            snapshot = system.snapshot()
            chats_node = snapshot.find("/chats")
            alive_at_end = len(chats_node.children) if chats_node else 0
            dead_letters = system.dead_letters.total
        finally:
            stopping = time.perf_counter()
            system.shutdown(timeout=60.0)
            stopped = time.perf_counter()
    return {
        "keys": keys,
        "max_alive": max_alive,
        "total_s": handled - started,
        "send_s": sent - started,
        "shutdown_s": stopped - stopping,
        "peak_threads": sampler.peak_threads,
        "peak_rss_mb": proc_status_kb("VmHWM") / 1024.0,
        "sampled_peak_rss_mb": sampler.peak_rss_kb / 1024.0,
        "rss_before_mb": rss_before / 1024.0,
        "alive_at_end": alive_at_end,
        "dead_letters": dead_letters,
        "leftover_threads": wait_until_only_main_thread(),
    }


def pool_phase_pykka(keys: int) -> dict[str, Any]:
    countdown = Countdown()
    countdown.expect(keys)
    refs: list[pykka.ActorRef[PykkaCounter]] = []
    error = None
    rss_before = proc_status_kb("VmRSS")
    with Sampler() as sampler:
        started = time.perf_counter()
        try:
            for key in range(keys):
                ref = PykkaCounter.start(countdown)
                refs.append(ref)
                ref.tell(Tick(seq=key))
        except RuntimeError as exc:  # "can't start new thread"
            error = f"{type(exc).__name__} after {len(refs)} actors: {exc}"
        if error is None:
            wait_for(countdown.done, "pykka actors")
        handled = time.perf_counter()
        threads_after_start = threading.active_count() - 1  # the sampler left out
        stopping = time.perf_counter()
        pykka.get_all([ref.stop(block=False) for ref in refs], timeout=WAIT)
        leftover = wait_until_only_main_thread(extra=1)
        stopped = time.perf_counter()
    return {
        "keys": keys,
        "started": len(refs),
        "error": error,
        "total_s": handled - started,
        "shutdown_s": stopped - stopping,
        "peak_threads": max(sampler.peak_threads, threads_after_start),
        "peak_rss_mb": proc_status_kb("VmHWM") / 1024.0,
        "sampled_peak_rss_mb": sampler.peak_rss_kb / 1024.0,
        "rss_before_mb": rss_before / 1024.0,
        "leftover_threads": max(leftover, wait_until_only_main_thread()),
    }


def run_child(phase: str, sizes: Sizes) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.runtime_bench",
        "--phase",
        phase,
        "--keys",
        str(sizes.keys),
        "--max-alive",
        str(sizes.max_alive),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-2000:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- report ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "pykka": version("pykka"),
        "msgspec": version("msgspec"),
        "loguru": version("loguru"),
        "switch_interval_s": sys.getswitchinterval(),
        "loadavg_at_start": os.getloadavg(),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "runtime_changed_since_commit": bool(git("status", "--porcelain", "--", "runtime")),
    }


def rows(results: dict[str, Any]) -> list[Row]:
    tell, ask, aio = results["tell"], results["ask"], results["ask_async"]
    restart, restart_pool = results["restart"], results["restart_pool"]
    ours_pool, pykka_pool = results["pool_ours"], results["pool_pykka"]
    table: list[Row] = [
        (
            "tell: 1 producer, msg/s",
            tell["ours_concurrent_per_s"],
            tell["pykka_concurrent_per_s"],
            "higher",
        ),
        ("tell: send only, msg/s", tell["ours_send_per_s"], tell["pykka_send_per_s"], "higher"),
        (
            "tell: drain mailbox, msg/s",
            tell["ours_drain_per_s"],
            tell["pykka_drain_per_s"],
            "higher",
        ),
        ("ask round trip p50, us", ask["ours"]["p50_us"], ask["pykka"]["p50_us"], "lower"),
        ("ask round trip p99, us", ask["ours"]["p99_us"], ask["pykka"]["p99_us"], "lower"),
        ("ask_async / await p50, us", aio["ours"]["p50_us"], aio["pykka"]["p50_us"], "lower"),
        ("ask_async / await p99, us", aio["ours"]["p99_us"], aio["pykka"]["p99_us"], "lower"),
        (
            f"loop stall p99, ms ({aio['stall_work_ms']:g} ms handler)",
            aio["ours_stall"]["p99_ms"],
            aio["pykka_stall"]["p99_ms"],
            "lower",
        ),
        (
            f"loop stall max, ms ({aio['stall_work_ms']:g} ms handler)",
            aio["ours_stall"]["max_ms"],
            aio["pykka_stall"]["max_ms"],
            "lower",
        ),
    ]
    for label, figures in (("restart", restart), ("pool restart", restart_pool)):
        for mode in ("logged", "silent"):
            for pct in ("p50", "p99"):
                value = figures[mode][f"{pct}_us"] / 1000.0
                table.append((f"{label} {pct}, ms ({mode})", value, None, "lower"))
    keys = ours_pool.get("keys", "?")
    for key, label in (
        ("total_s", f"{keys} keys: time to handle all, s"),
        ("peak_threads", f"{keys} keys: peak threads"),
        ("peak_rss_mb", f"{keys} keys: peak RSS, MB"),
        ("shutdown_s", f"{keys} keys: shutdown, s"),
    ):
        table.append((label, ours_pool.get(key), pykka_pool.get(key), "lower"))
    return table


def verdicts(results: dict[str, Any]) -> list[str]:
    ask = results["ask"]
    restart = results["restart"]["logged"]
    ours_pool = results["pool_ours"]
    found = []
    for pct in ("p50_us", "p99_us"):
        ours, theirs = ask["ours"][pct], ask["pykka"][pct]
        verdict = "OK" if ours <= theirs else "MISSED"
        found.append(f"{verdict}: ask {pct[:3]} ours {ours:.1f} us vs pykka {theirs:.1f} us")
    p99_ms = restart["p99_us"] / 1000.0
    found.append(f"{'OK' if p99_ms < 5.0 else 'MISSED'}: restart p99 {p99_ms:.2f} ms (target < 5)")
    if "peak_threads" in ours_pool:
        bound = ours_pool["max_alive"] + 10
        threads = ours_pool["peak_threads"]
        verdict = "OK" if threads <= bound else "MISSED"
        found.append(
            f"{verdict}: pool peak threads {threads} (cap {ours_pool['max_alive']} + system)"
        )
    else:
        found.append(f"MISSED: pool run failed: {ours_pool.get('error')}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--phase", choices=("pool-ours", "pool-pykka"), help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, default=10_000, help=argparse.SUPPRESS)
    parser.add_argument("--max-alive", type=int, default=1_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quiet_logging(runtime_logs=True)

    if args.phase == "pool-ours":
        print(json.dumps(pool_phase_ours(args.keys, args.max_alive)))
        return 0
    if args.phase == "pool-pykka":
        print(json.dumps(pool_phase_pykka(args.keys)))
        return 0

    sizes = Sizes(quick=args.quick)
    began = time.perf_counter()
    info = machine()
    results = run_in_process(sizes)
    results["pool_ours"] = run_child("pool-ours", sizes)
    results["pool_pykka"] = run_child("pool-pykka", sizes)
    leftover = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    results["leftover_threads"] = leftover
    report = {
        "command": " ".join(
            [os.path.relpath(sys.executable, ROOT), "-m", "bench.runtime_bench", *sys.argv[1:]]
        ),
        "mode": "quick" if args.quick else "full",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": time.perf_counter() - began,
        "loadavg_at_end": os.getloadavg(),
        "machine": info,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = RESULTS / f"runtime-{report['mode']}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"runtime vs pykka {info['pykka']} | python {info['python']} | nproc {info['nproc']}"
        f" | {report['mode']} run, {report['duration_s']:.0f}s"
    )
    print(render(baseline="pykka", small_digits=3, table=rows(results)))
    print()
    for line in verdicts(results):
        print(line)
    print(f"dead letters during the in-process runs: {results['dead_letters']}")
    print(f"threads left at exit: {leftover or 'none'}")
    print(f"results: {path.relative_to(ROOT)}")
    return 1 if leftover else 0


if __name__ == "__main__":
    sys.exit(main())
