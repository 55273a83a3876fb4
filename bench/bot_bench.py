"""Benchmark: our bot against a plain python-telegram-bot bot, side by side in one run.

Run from the repository root (on 2 cores the full run takes about 15 minutes; the
10,000-chat phase gives up after 600 s)::

    .venv/bin/python -m bench.bot_bench            # full run
    .venv/bin/python -m bench.bot_bench --quick    # smoke run, about 4 minutes
    .venv/bin/python -m bench.bot_bench --quick --only overhead --rounds 4
                                                   # phase 1 alone, ours and the baseline
    .venv/bin/python -m bench.bot_bench --only throughput --rounds 2
                                                   # phases 1 and 2, ours and the baseline
    .venv/bin/python -m bench.bot_bench --only hol  # phase 3 alone, about 10 minutes

Both bots are real processes: ours is ``main.py`` with a generated config.toml, the
baseline is ``bench/baseline_bot.py`` (a PTB ``Application`` with
``concurrent_updates(True)`` that answers each message by calling the same LLM; see its
docstring). Each gets a Telegram emulator of its own (the emulator serves one bot token and
one update queue), configured identically, with rate limits off; both call the one
OpenAI-compatible emulator, which answers every question with its echo in one chunk. All
emulators run in this process on 127.0.0.1.

Latency is measured by the emulators' clocks: from the moment a user's message is queued
for ``getUpdates`` to the moment the emulator receives the bot's first ``sendMessage`` to
that chat afterwards. Ours streams (a first message, then edits); with one-chunk answers
its first message already holds the whole answer, so "first message" and "whole answer"
are the same moment for both bots.

Phases, each run for ours then the baseline (the order alternating between rounds):

1. overhead latency with an instant LLM, p50/p99: messages at a steady rate, each chat
   asking one question at a time, in short blocks, the bots taking turns block by block;
2. throughput: a burst of messages (several per chat), updates answered per second;
3. head-of-line isolation: a steady load on 90% of the chats (the fast ones) while the
   other 10% ask nothing, ask questions answered at once, or ask the same questions at the
   same moments but answered after 5 s (see ``hol_plan``). The three conditions take
   turns in windows of ``hol_seconds`` within one continuous load (see ``hol_windows``),
   so whatever the machine does over minutes falls on each alike; a window's first 5 s
   are not measured. The target compares fast-chat p99 with slow chats against the same
   load answered at once: it isolates the waiting from the load of the slow chats' own
   messages (docs/benchmarks.md, "Stop 14" and "Stop 15");
4. 10,000 distinct chats, one message each, in a burst, with a fresh process of each bot:
   time until all are answered, peak RSS (VmHWM) and peak threads (sampled every 50 ms).

The CPU time each bot process used (/proc/<pid>/stat) is reported per update for the
burst, in total for phase 4.

Our bot's config for the bench (see ``OurBot.settings``): Telegram pacing raised out of
the way (the emulators enforce no limits, and the baseline does no pacing), ops endpoint
off, everything else as shipped; bench users are approved in its database before it
starts. Results go to ``bench/results/bots-{full,quick}-<UTC time>.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from bench.botlab import (
    RESULTS,
    ROOT,
    SLOW,
    SWITCH_INTERVAL,
    BaselineBot,
    BotProcess,
    Driver,
    LlmServer,
    OurBot,
    ProcSampler,
    cpu_seconds,
    git_commit,
    percentile,
    replies_count,
    reply_latencies,
    stop_on_sigterm,
    telegram_emulator,
    wait_for_replies,
    workdir,
)
from bench.table import Row, fmt, render
from tests.emulators.telegram import TelegramEmulator

FIRST_CHAT = 100_001
MANY_FIRST_CHAT = 200_001
SLOW_SECONDS = 5.0
RESAMPLES = 2_000  # for the head-of-line ratio's interval (see ratio_interval)
HOL_TARGET = 1.10  # fast-chat p99 with slow chats at most 10% above without
RSS_TARGET_MB = 200.0


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """How much work each phase does."""

    chats: int
    rounds: int
    latency_updates: int  # per bot and round
    latency_blocks: int  # per round: phase 1 in blocks, the bots taking turns
    latency_rate: float  # updates per second
    burst_per_chat: int  # throughput: messages per chat, all at once
    hol_seconds: float  # per window (the first SLOW_SECONDS of each not measured)
    hol_rate: float  # fast updates per second
    hol_windows: int  # per condition, over all rounds
    hol_rounds: int
    many_chats: int

    @classmethod
    def of(cls, *, quick: bool) -> Sizes:
        if quick:
            return cls(
                chats=50,
                rounds=1,
                latency_updates=100,
                latency_blocks=2,
                latency_rate=25.0,
                burst_per_chat=10,
                hol_seconds=10.0,
                hol_rate=20.0,
                hol_windows=1,
                hol_rounds=1,
                many_chats=1_000,
            )
        return cls(
            chats=200,
            rounds=2,
            latency_updates=500,
            latency_blocks=5,
            latency_rate=25.0,
            burst_per_chat=10,
            hol_seconds=15.0,
            hol_rate=30.0,
            hol_windows=6,
            hol_rounds=2,
            many_chats=10_000,
        )


@dataclass(kw_only=True)
class Contender:
    """A running bot and its own Telegram emulator."""

    label: str
    bot: BotProcess
    telegram: TelegramEmulator


def summary(latencies: list[float | None]) -> dict[str, Any]:
    answered = [x for x in latencies if x is not None]
    if not answered:
        return {"count": len(latencies), "answered": 0}
    return {
        "count": len(latencies),
        "answered": len(answered),
        "p50_ms": percentile(answered, 0.50),
        "p99_ms": percentile(answered, 0.99),
        "max_ms": max(answered),
        "mean_ms": sum(answered) / len(answered),
    }


def settle(who: Contender, chats: range, expected: int, timeout: float = 120.0) -> int:
    """Wait for the replies of a phase; say so if some are missing."""
    got = wait_for_replies(who.telegram, chats, expected, timeout=timeout)
    if got < expected:
        print(f"  ! {who.label}: {expected - got} repl(ies) missing after {timeout:g}s")
    return got


# -- the phases ------------------------------------------------------------------------------


def latency_phase(
    who: Contender, sizes: Sizes, chats: range, round_no: int, block: int
) -> list[float | None]:
    """One block of phase 1: messages at ``latency_rate``, round robin over the chats (from
    where the last block left off): one question at a time each."""
    before = replies_count(who.telegram, chats)
    n = max(1, sizes.latency_updates // sizes.latency_blocks)
    first = block * n
    plan = [
        (
            i / sizes.latency_rate,
            chats[(first + i) % len(chats)],
            f"latency r{round_no} q{first + i}",
        )
        for i in range(n)
    ]
    sent = Driver(who.telegram).run(plan)
    settle(who, chats, before + n)
    return reply_latencies(who.telegram, sent)


def throughput_phase(who: Contender, sizes: Sizes, chats: range, round_no: int) -> dict[str, Any]:
    """``burst_per_chat`` messages to every chat at once; answered updates per second."""
    telegram = who.telegram
    before = replies_count(telegram, chats)
    n = len(chats) * sizes.burst_per_chat
    cpu_before = cpu_seconds(who.bot.pid)
    driver = Driver(telegram)
    for k in range(sizes.burst_per_chat):
        for chat_id in chats:
            driver.send(chat_id, f"burst r{round_no} m{k}")
    got = settle(who, chats, before + n, timeout=300.0)
    first = driver.sent[0].at
    last = max(
        (m.sent_at for chat_id in chats for m in telegram.bot_messages(chat_id)),
        default=first,
    )
    elapsed = last - first
    cpu = cpu_seconds(who.bot.pid) - cpu_before
    return {
        "cpu_ms_per_update": cpu * 1000.0 / max(1, got - before),
        "updates": n,
        "answered": got - before,
        "seconds": elapsed,
        "per_s": (got - before) / elapsed if elapsed > 0 else 0.0,
    }


SlowChats = Literal["absent", "instant", "slow"]
HOL_CONDITIONS: tuple[SlowChats, ...] = ("absent", "instant", "slow")


@dataclass(frozen=True, kw_only=True)
class HolWindow:
    """One stretch of phase 3: from ``start`` (seconds into the plan), the other chats do
    ``condition`` for ``seconds``; fast latencies count from ``start + settle``."""

    condition: SlowChats
    start: float
    seconds: float
    settle: float

    def measures(self, offset: float) -> bool:
        """Whether a fast question sent at ``offset`` counts for this window's condition."""
        return self.start + self.settle <= offset < self.start + self.seconds


def hol_windows(sizes: Sizes, round_no: int) -> list[HolWindow]:
    """The windows of one round: each condition ``hol_windows // hol_rounds`` times, in
    turns of all three (the order reversed every other turn, and in odd rounds), so slow
    drift of the machine falls on every condition alike.

    A window's first ``SLOW_SECONDS`` are not measured: the previous window's slow answers
    are still coming back then, and its own are still filling up (each slow chat asks once
    every ``SLOW_SECONDS``).
    """
    turns = max(1, sizes.hol_windows // sizes.hol_rounds)
    order: list[SlowChats] = []
    for turn in range(turns):
        forward = (turn + round_no) % 2 == 0
        order += HOL_CONDITIONS if forward else HOL_CONDITIONS[::-1]
    return [
        HolWindow(
            condition=condition,
            start=k * sizes.hol_seconds,
            seconds=sizes.hol_seconds,
            settle=min(SLOW_SECONDS, sizes.hol_seconds / 2),
        )
        for k, condition in enumerate(order)
    ]


def hol_plan(
    sizes: Sizes, chats: range, windows: list[HolWindow], *, tag: str
) -> tuple[list[tuple[float, int, str]], list[int]]:
    """Fast questions at ``hol_rate`` over 90% of the chats throughout; what the other 10%
    do changes with the window.

    ``"slow"``: each of them asks a question every ``SLOW_SECONDS`` (staggered) that takes
    ``SLOW_SECONDS`` to answer, so about one slow answer per slow chat is always being
    generated. ``"instant"``: the same questions at the same moments, answered at once (the
    same load, nobody waiting). ``"absent"``: they ask nothing. Returns the plan and the fast
    chats.
    """
    slow_count = max(1, len(chats) // 10)
    slow, fast = list(chats[:slow_count]), list(chats[slow_count:])
    total = windows[-1].start + windows[-1].seconds
    n = int(total * sizes.hol_rate)
    plan = [(i / sizes.hol_rate, fast[i % len(fast)], f"fast {tag} q{i}") for i in range(n)]
    for w, window in enumerate(windows):
        if window.condition == "absent":
            continue
        marker = f"{SLOW} " if window.condition == "slow" else ""
        asks = max(1, int(window.seconds / SLOW_SECONDS))
        for j, chat_id in enumerate(slow):
            first = window.start + SLOW_SECONDS * j / len(slow)
            plan.extend(
                (first + k * SLOW_SECONDS, chat_id, f"{marker}{tag} w{w} q{k}") for k in range(asks)
            )
    return plan, fast


def hol_phase(
    who: Contender, sizes: Sizes, chats: range, round_no: int
) -> list[tuple[HolWindow, list[float | None]]]:
    """One round of phase 3 for one contender: its windows back to back, in one plan.

    Returns each window with the latencies of the fast questions asked in it (outside its
    settling time); waits for the other chats' answers too.
    """
    telegram = who.telegram
    before = replies_count(telegram, chats)
    windows = hol_windows(sizes, round_no)
    plan, fast = hol_plan(sizes, chats, windows, tag=f"r{round_no}")
    print(
        f"round {round_no + 1}: head-of-line, {who.label},"
        f" {len(windows)} windows of {sizes.hol_seconds:g}s:"
        f" {' '.join(window.condition for window in windows)}"
    )
    driver = Driver(telegram)
    sent = driver.run(plan)
    settle(who, chats, before + len(plan), timeout=SLOW_SECONDS * 4 + 60.0)
    fast_ids = set(fast)
    fast_sent = [s for s in sent if s.chat_id in fast_ids]
    latencies = reply_latencies(telegram, fast_sent)
    began = driver.started_at
    found: list[tuple[HolWindow, list[float | None]]] = [(window, []) for window in windows]
    for record, latency in zip(fast_sent, latencies, strict=True):
        for window, values in found:
            if window.measures(record.at - began):
                values.append(latency)
                break
    return found


def many_chats_phase(
    label: str, make: Callable[[TelegramEmulator, range], BotProcess], count: int
) -> dict[str, Any]:
    """A fresh bot: ``count`` chats send one message each, at once; peaks from /proc."""
    chats = range(MANY_FIRST_CHAT, MANY_FIRST_CHAT + count)
    telegram = telegram_emulator(chats)
    try:
        bot: BotProcess = make(telegram, chats)
        bot.start()
        try:
            with ProcSampler(bot.pid, interval=0.05, keep_every=20) as sampler:
                idle = sampler.sample()
                cpu_before = cpu_seconds(bot.pid)
                driver = Driver(telegram)
                for chat_id in chats:
                    driver.send(chat_id, "hello from a new chat")
                sent_all = time.time()
                got = wait_for_replies(telegram, chats, count, timeout=600.0, poll=0.5)
                done = time.time()
                sampler.sample()
                cpu = cpu_seconds(bot.pid) - cpu_before
            status = bot.stop()
        finally:
            bot.stop()
    finally:
        telegram.close()
    print(f"  {label}: {got}/{count} answered in {done - driver.sent[0].at:.1f}s")
    return {
        "chats": count,
        "answered": got,
        "seconds": done - driver.sent[0].at,
        "send_seconds": sent_all - driver.sent[0].at,
        "peak_rss_mb": sampler.peak_rss_kb / 1024.0,
        "peak_threads": sampler.peak_threads,
        "peak_fds": sampler.peak_fds,
        "cpu_seconds": cpu,
        "idle_rss_mb": (idle.rss_kb / 1024.0) if idle else None,
        "idle_threads": idle.threads if idle else None,
        "exit_status": status,
        "series": [
            {"t": round(s.at, 2), "rss_mb": round(s.rss_kb / 1024, 1), "threads": s.threads}
            for s in sampler.series
        ],
    }


# -- the run ---------------------------------------------------------------------------------


CONTENDERS = ("ours", "baseline")


@contextlib.contextmanager
def contenders(llm_url: str, chats: range) -> Iterator[dict[str, Contender]]:
    """Running: ours (bench config) and the baseline."""
    started: list[Contender] = []
    try:
        for label in CONTENDERS:
            telegram = telegram_emulator(chats)
            bot: BotProcess
            if label == "baseline":
                bot = BaselineBot(telegram, llm_url, workdir(label))
            else:
                bot = OurBot(telegram, llm_url, workdir(label), users=chats, name=label)
            started.append(Contender(label=label, bot=bot, telegram=telegram))
            bot.start()
        yield {c.label: c for c in started}
    finally:
        for contender in started:
            status = contender.bot.stop()
            if status != 0:
                print(f"  ! {contender.label} exited with {status}: {contender.bot.tail()}")
            contender.telegram.close()


def bursts_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One contender's throughput runs: the best and median rates, the least CPU."""
    return {
        "runs": runs,
        "per_s": max(r["per_s"] for r in runs),
        "median_per_s": sorted(r["per_s"] for r in runs)[len(runs) // 2],
        "cpu_ms_per_update": min(r["cpu_ms_per_update"] for r in runs),
    }


def warm_up(pair: list[Contender], chats: range) -> None:
    """A first answer per chat: sessions and histories exist from here on."""
    for who in pair:
        driver = Driver(who.telegram)
        for chat_id in chats:
            driver.send(chat_id, "warm up")
        settle(who, chats, len(chats))


def overhead_and_throughput(
    pair: list[Contender], sizes: Sizes, chats: range, *, with_throughput: bool
) -> dict[str, Any]:
    """Phases 1 and 2 (or 1 alone), ``sizes.rounds`` times, the bots' order alternating.

    Phase 1 runs in ``latency_blocks`` short blocks per round, the bots taking turns
    block by block (ABBA), so drift of the machine over the round falls on both alike.
    """
    latencies: dict[str, list[float | None]] = {who.label: [] for who in pair}
    blocks: dict[str, list[list[float]]] = {who.label: [] for who in pair}
    bursts: dict[str, list[dict[str, Any]]] = {who.label: [] for who in pair}
    for round_no in range(sizes.rounds):
        order = pair if round_no % 2 == 0 else pair[::-1]
        print(f"round {round_no + 1}: latency, {sizes.latency_blocks} blocks per bot")
        for block in range(sizes.latency_blocks):
            for who in order if block % 2 == 0 else order[::-1]:
                block_latencies = latency_phase(
                    who, sizes, chats, round_no, round_no * sizes.latency_blocks + block
                )
                latencies[who.label] += block_latencies
                blocks[who.label].append([x for x in block_latencies if x is not None])
        for who in order if with_throughput else ():
            print(f"round {round_no + 1}: throughput, {who.label}")
            bursts[who.label].append(throughput_phase(who, sizes, chats, round_no))
    found: dict[str, Any] = {"latency": {k: summary(v) for k, v in latencies.items()}}
    found["latency"]["p99_interval"] = ratio_interval(blocks["ours"], blocks["baseline"])
    if with_throughput:
        found["throughput"] = {k: bursts_summary(v) for k, v in bursts.items()}
    return found


def ratio_interval(
    top: list[list[float]], bottom: list[list[float]], *, seed: int = 0
) -> tuple[float, float]:
    """The 5th and 95th percentiles of p99(top) / p99(bottom) over resampled windows.

    A window bootstrap: each resample draws as many windows (phase 3) or blocks (phase 1)
    of each side as were run, with replacement, and pools their latencies. Windows, not
    single latencies, are drawn because slow moments of the machine hit runs of
    neighbouring samples together. The width says how far a verdict on the ratio can be
    trusted; with one window a side (``--quick``'s phase 3) there is nothing to resample,
    and both ends are the ratio itself.
    """
    rng = random.Random(seed)
    ratios = []
    for _ in range(RESAMPLES):
        over = [x for window in rng.choices(top, k=len(top)) for x in window]
        under = [x for window in rng.choices(bottom, k=len(bottom)) for x in window]
        if over and under:
            ratios.append(percentile(over, 0.99) / percentile(under, 0.99))
    if not ratios:
        return (float("nan"), float("nan"))
    return (percentile(ratios, 0.05), percentile(ratios, 0.95))


def head_of_line(pair: list[Contender], sizes: Sizes, chats: range) -> dict[str, Any]:
    """Phase 3, ``sizes.hol_rounds`` times, the bots' order alternating; latencies pooled by
    condition, each window's figures (``"windows"``) and the slow / instant ratio's interval
    (``"interval"``, see :func:`ratio_interval`)."""
    measured: dict[str, list[tuple[int, HolWindow, list[float | None]]]] = {
        who.label: [] for who in pair
    }
    for round_no in range(sizes.hol_rounds):
        for who in pair if round_no % 2 == 0 else pair[::-1]:
            measured[who.label] += [
                (round_no, window, values)
                for window, values in hol_phase(who, sizes, chats, round_no)
            ]

    def answered(label: str, condition: SlowChats) -> list[list[float]]:
        return [
            [x for x in values if x is not None]
            for _, window, values in measured[label]
            if window.condition == condition
        ]

    return {
        label: {
            **{
                condition: summary(
                    [x for _, w, v in windows if w.condition == condition for x in v]
                )
                for condition in HOL_CONDITIONS
            },
            "windows": [
                {"round": round_no, "condition": window.condition, **summary(values)}
                for round_no, window, values in windows
            ],
            "interval": ratio_interval(answered(label, "slow"), answered(label, "instant")),
        }
        for label, windows in measured.items()
    }


def run(sizes: Sizes, *, only: str | None = None) -> dict[str, Any]:
    """All phases, or only phase 1 (overhead latency), phases 1 and 2 (and throughput), or
    phase 3 (head-of-line)."""
    chats = range(FIRST_CHAT, FIRST_CHAT + sizes.chats)
    results: dict[str, Any] = {}
    with LlmServer(slow_seconds=SLOW_SECONDS) as llm:
        with contenders(llm.base_url, chats) as bots:
            pair = [bots[label] for label in CONTENDERS]
            warm_up(pair, chats)
            if only != "hol":
                results |= overhead_and_throughput(
                    pair, sizes, chats, with_throughput=only != "overhead"
                )
            if only in (None, "hol"):
                results["hol"] = head_of_line(pair, sizes, chats)
        if only is not None:
            return results
        print(f"{sizes.many_chats} chats: ours")
        results["many_ours"] = many_chats_phase(
            "ours",
            lambda telegram, users: OurBot(
                telegram, llm.base_url, workdir("many-ours"), users=users
            ),
            sizes.many_chats,
        )
        print(f"{sizes.many_chats} chats: baseline")
        results["many_baseline"] = many_chats_phase(
            "baseline",
            lambda telegram, _users: BaselineBot(telegram, llm.base_url, workdir("many-baseline")),
            sizes.many_chats,
        )
    return results


# -- report ----------------------------------------------------------------------------------


def latency_rows(results: dict[str, Any]) -> list[Row]:
    lat = results["latency"]
    return [
        (
            f"overhead latency {name}, ms",
            lat["ours"].get(f"{name}_ms"),
            lat["baseline"].get(f"{name}_ms"),
            "lower",
        )
        for name in ("p50", "p99")
    ]


def hol_ratio(hol: dict[str, Any], over: SlowChats) -> float | None:
    """Fast-chat p99 with slow chats over the same ``over`` condition (see :func:`hol_plan`)."""
    with_, without = hol["slow"].get("p99_ms"), hol[over].get("p99_ms")
    return with_ / without if with_ is not None and without else None


def hol_rows(results: dict[str, Any]) -> list[Row]:
    hol = results["hol"]

    def p99(condition: SlowChats) -> tuple[float | None, float | None]:
        return hol["ours"][condition].get("p99_ms"), hol["baseline"][condition].get("p99_ms")

    return [
        ("fast-chat p99, the others silent, ms", *p99("absent"), "lower"),
        ("fast-chat p99, 10% ask instant, ms", *p99("instant"), "lower"),
        ("fast-chat p99, 10% ask slow, ms", *p99("slow"), "lower"),
        (
            "fast-chat p99 slow / instant",
            hol_ratio(hol["ours"], "instant"),
            hol_ratio(hol["baseline"], "instant"),
            "lower",
        ),
        (
            "  5th percentile over resampled windows",
            hol["ours"]["interval"][0],
            hol["baseline"]["interval"][0],
            "lower",
        ),
        (
            "  95th percentile over resampled windows",
            hol["ours"]["interval"][1],
            hol["baseline"]["interval"][1],
            "lower",
        ),
        (
            "fast-chat p99 slow / silent",
            hol_ratio(hol["ours"], "absent"),
            hol_ratio(hol["baseline"], "absent"),
            "lower",
        ),
    ]


def rows(results: dict[str, Any], sizes: Sizes) -> list[Row]:
    many_o, many_b = results["many_ours"], results["many_baseline"]
    return [
        *latency_rows(results),
        *throughput_rows(results),
        *hol_rows(results),
        (
            f"{sizes.many_chats} chats: time to answer all, s",
            many_o["seconds"],
            many_b["seconds"],
            "lower",
        ),
        (
            f"{sizes.many_chats} chats: CPU used, s",
            many_o["cpu_seconds"],
            many_b["cpu_seconds"],
            "lower",
        ),
        (
            f"{sizes.many_chats} chats: peak RSS, MB",
            many_o["peak_rss_mb"],
            many_b["peak_rss_mb"],
            "lower",
        ),
        (
            f"{sizes.many_chats} chats: peak threads",
            many_o["peak_threads"],
            many_b["peak_threads"],
            "lower",
        ),
        (f"{sizes.many_chats} chats: peak fds", many_o["peak_fds"], many_b["peak_fds"], "lower"),
    ]


def throughput_rows(results: dict[str, Any]) -> list[Row]:
    tput = results["throughput"]
    return [
        (
            "throughput, updates/s (best run)",
            tput["ours"]["per_s"],
            tput["baseline"]["per_s"],
            "higher",
        ),
        (
            "CPU per update in the burst, ms",
            tput["ours"]["cpu_ms_per_update"],
            tput["baseline"]["cpu_ms_per_update"],
            "lower",
        ),
    ]


def throughput_verdict(results: dict[str, Any]) -> tuple[bool, str]:
    ours_t, base_t = (
        results["throughput"]["ours"]["per_s"],
        results["throughput"]["baseline"]["per_s"],
    )
    return ours_t >= base_t, f"throughput ours {ours_t:.0f}/s >= baseline {base_t:.0f}/s"


def latency_verdict(results: dict[str, Any]) -> tuple[bool, str]:
    lat = results["latency"]
    ours_p99, base_p99 = lat["ours"].get("p99_ms"), lat["baseline"].get("p99_ms")
    ok = ours_p99 is not None and base_p99 is not None and ours_p99 <= base_p99
    low, high = lat["p99_interval"]
    return ok, (
        f"overhead p99 ours {fmt(ours_p99)} ms <= baseline {fmt(base_p99)} ms"
        f" (resampled blocks: ours / baseline x{low:.2f}-{high:.2f})"
    )


def hol_verdict(results: dict[str, Any]) -> tuple[bool, str]:
    h = results["hol"]["ours"]
    without, with_ = h["instant"].get("p99_ms"), h["slow"].get("p99_ms")
    ratio = hol_ratio(h, "instant") or float("inf")
    low, high = h["interval"]
    return ratio <= HOL_TARGET, (
        f"fast-chat p99 with 10% of chats slow {fmt(with_)} ms vs {fmt(without)} ms"
        f" with them answered at once (x{ratio:.2f}, target <= x{HOL_TARGET:.2f};"
        f" resampled windows: x{low:.2f}-{high:.2f})"
    )


def verdicts(results: dict[str, Any]) -> list[tuple[bool, str]]:
    found = [latency_verdict(results), throughput_verdict(results), hol_verdict(results)]
    rss = results["many_ours"]["peak_rss_mb"]
    found.append(
        (rss < RSS_TARGET_MB, f"peak RSS with many chats {rss:.0f} MB < {RSS_TARGET_MB:.0f} MB")
    )
    for label in ("ours", "baseline"):
        many = results[f"many_{label}"]
        if many["answered"] < many["chats"]:
            found.append(
                (False, f"{label}: only {many['answered']}/{many['chats']} chats answered")
            )
    return found


def machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "python-telegram-bot": version("python-telegram-bot"),
        "httpx": version("httpx"),
        "loadavg_at_start": os.getloadavg(),
        "git_commit": git_commit(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only",
        choices=["overhead", "throughput", "hol"],
        help="phase 1 alone, phases 1 and 2, or phase 3 alone",
    )
    parser.add_argument("--rounds", type=int, help="rounds of phases 1 and 2 (default by size)")
    args = parser.parse_args(argv)
    sizes = Sizes.of(quick=args.quick)
    if args.rounds:
        sizes = dataclasses.replace(sizes, rounds=args.rounds)
    stop_on_sigterm()
    sys.setswitchinterval(SWITCH_INTERVAL)  # for the emulators in this process: see botlab
    info = machine()
    began = time.perf_counter()
    results = run(sizes, only=args.only)
    report = {
        "command": " ".join(
            [os.path.relpath(sys.executable, ROOT), "-m", "bench.bot_bench", *sys.argv[1:]]
        ),
        "mode": ("quick" if args.quick else "full") + (f"-{args.only}" if args.only else ""),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": time.perf_counter() - began,
        "loadavg_at_end": os.getloadavg(),
        "machine": info,
        "sizes": sizes.__dict__,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = RESULTS / f"bots-{report['mode']}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(
        f"our bot vs plain PTB {info['python-telegram-bot']} | python {info['python']}"
        f" | nproc {info['nproc']} | load {info['loadavg_at_start'][0]:.1f}"
        f" | {report['mode']} run, {report['duration_s']:.0f}s"
    )
    if args.only is None:
        table, found = rows(results, sizes), verdicts(results)
    elif args.only == "hol":
        table, found = hol_rows(results), [hol_verdict(results)]
    else:
        table, found = latency_rows(results), [latency_verdict(results)]
        if args.only == "throughput":
            table += throughput_rows(results)
            found.append(throughput_verdict(results))
    print(render(baseline="baseline", small_digits=2, table=table))
    print()
    for ok, text in found:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if all(ok for ok, _ in found) else 1


if __name__ == "__main__":
    sys.exit(main())
