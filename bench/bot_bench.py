"""Benchmark: our bot against a plain python-telegram-bot bot, side by side in one run.

Run from the repository root (on 2 cores the full run takes about 9 minutes; the
10,000-chat phase gives up after 600 s)::

    .venv/bin/python -m bench.bot_bench            # full run
    .venv/bin/python -m bench.bot_bench --quick    # smoke run, about 4 minutes
    .venv/bin/python -m bench.bot_bench --quick --only overhead --rounds 4
                                                   # phase 1 alone, ours and the baseline
    .venv/bin/python -m bench.bot_bench --only throughput --rounds 2
                                                   # phases 1 and 2, ours and the baseline

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
   asking one question at a time;
2. throughput: a burst of messages (several per chat), updates answered per second;
3. head-of-line isolation: the same steady load on fast chats alone, then again while 10%
   of the chats ask questions that take 5 s; fast-chat p99 with slow chats over without.
   Ours runs this twice: as configured for the bench (``max_concurrency = 100``, the same
   number of LLM connections as the baseline's httpx default) and with the config default
   (``max_concurrency = 8``);
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
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
HOL_TARGET = 1.10  # fast-chat p99 with slow chats at most 10% above without
RSS_TARGET_MB = 200.0


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """How much work each phase does."""

    chats: int
    rounds: int
    latency_updates: int  # per bot and round
    latency_rate: float  # updates per second
    burst_per_chat: int  # throughput: messages per chat, all at once
    hol_seconds: float
    hol_rate: float  # fast updates per second
    many_chats: int

    @classmethod
    def of(cls, *, quick: bool) -> Sizes:
        if quick:
            return cls(
                chats=50,
                rounds=1,
                latency_updates=100,
                latency_rate=25.0,
                burst_per_chat=10,
                hol_seconds=6.0,
                hol_rate=20.0,
                many_chats=1_000,
            )
        return cls(
            chats=200,
            rounds=2,
            latency_updates=200,
            latency_rate=25.0,
            burst_per_chat=10,
            hol_seconds=15.0,
            hol_rate=30.0,
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


def latency_phase(who: Contender, sizes: Sizes, chats: range, round_no: int) -> list[float | None]:
    """Messages at ``latency_rate``, round robin over the chats: one question at a time each."""
    before = replies_count(who.telegram, chats)
    n = sizes.latency_updates
    plan = [
        (i / sizes.latency_rate, chats[i % len(chats)], f"latency r{round_no} q{i}")
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


def hol_plan(
    sizes: Sizes, chats: range, *, with_slow: bool, tag: str
) -> tuple[list[tuple[float, int, str]], list[int]]:
    """Fast questions at ``hol_rate`` over 90% of the chats; the other 10% ask slow ones.

    Each slow chat asks a question every ``SLOW_SECONDS`` (staggered), so about one slow
    answer per slow chat is always being generated. Returns the plan and the fast chats.
    """
    slow_count = max(1, len(chats) // 10)
    slow, fast = list(chats[:slow_count]), list(chats[slow_count:])
    n = int(sizes.hol_seconds * sizes.hol_rate)
    plan = [(i / sizes.hol_rate, fast[i % len(fast)], f"fast {tag} q{i}") for i in range(n)]
    if with_slow:
        rounds = max(1, int(sizes.hol_seconds / SLOW_SECONDS))
        for j, chat_id in enumerate(slow):
            start = SLOW_SECONDS * j / len(slow)
            plan.extend(
                (start + k * SLOW_SECONDS, chat_id, f"{SLOW} {tag} q{k}") for k in range(rounds)
            )
    return plan, fast


def hol_phase(who: Contender, sizes: Sizes, chats: range, *, with_slow: bool) -> dict[str, Any]:
    """Fast-chat latencies under the HOL plan; waits for the slow answers too before returning."""
    telegram = who.telegram
    before = replies_count(telegram, chats)
    tag = "slow" if with_slow else "ctl"
    plan, fast = hol_plan(sizes, chats, with_slow=with_slow, tag=tag)
    sent = Driver(telegram).run(plan)
    settle(who, chats, before + len(plan), timeout=SLOW_SECONDS * 4 + 60.0)
    fast_ids = set(fast)
    fast_sent = [s for s in sent if s.chat_id in fast_ids]
    return summary(reply_latencies(telegram, fast_sent))


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


ALL_CONTENDERS = ("ours", "ours_c8", "baseline")


@contextlib.contextmanager
def contenders(
    llm_url: str, chats: range, labels: tuple[str, ...] = ALL_CONTENDERS
) -> Iterator[dict[str, Contender]]:
    """Running: ours (bench config), ours with max_concurrency 8, and the baseline (all of
    them unless ``labels`` says which)."""
    started: list[Contender] = []
    try:
        for label in labels:
            telegram = telegram_emulator(chats)
            bot: BotProcess
            if label == "baseline":
                bot = BaselineBot(telegram, llm_url, workdir(label))
            else:
                overrides: dict[str, dict[str, Any]] = (
                    {"providers.deepseek": {"max_concurrency": 8}} if label == "ours_c8" else {}
                )
                bot = OurBot(
                    telegram,
                    llm_url,
                    workdir(label),
                    users=chats,
                    overrides=overrides,
                    name=label,
                )
            started.append(Contender(label=label, bot=bot, telegram=telegram))
            bot.start()
        yield {c.label: c for c in started}
    finally:
        for contender in started:
            status = contender.bot.stop()
            if status != 0:
                print(f"  ! {contender.label} exited with {status}: {contender.bot.tail()}")
            contender.telegram.close()


def hol_phases(who: Contender, sizes: Sizes, chats: range) -> dict[str, Any]:
    """Phase 3 for one contender: fast chats alone, then with 10% of chats slow."""
    found: dict[str, Any] = {}
    for with_slow in (False, True):
        print(f"head-of-line, {who.label}, {'with' if with_slow else 'without'} slow")
        key = "with_slow" if with_slow else "without_slow"
        found[key] = hol_phase(who, sizes, chats, with_slow=with_slow)
    return found


def bursts_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One contender's throughput runs: the best and median rates, the least CPU."""
    return {
        "runs": runs,
        "per_s": max(r["per_s"] for r in runs),
        "median_per_s": sorted(r["per_s"] for r in runs)[len(runs) // 2],
        "cpu_ms_per_update": min(r["cpu_ms_per_update"] for r in runs),
    }


def run(sizes: Sizes, *, only: str | None = None) -> dict[str, Any]:
    """All phases, or for ours and the baseline alone: phase 1 (overhead latency), or
    phases 1 and 2 (and throughput)."""
    only_overhead = only == "overhead"
    chats = range(FIRST_CHAT, FIRST_CHAT + sizes.chats)
    results: dict[str, Any] = {}
    labels = ("ours", "baseline") if only else ALL_CONTENDERS
    with LlmServer(slow_seconds=SLOW_SECONDS) as llm:
        with contenders(llm.base_url, chats, labels) as bots:
            pair = [bots[label] for label in ("ours", "baseline")]
            for who in pair:  # a first answer per chat: sessions and histories exist from here on
                driver = Driver(who.telegram)
                for chat_id in chats:
                    driver.send(chat_id, "warm up")
                settle(who, chats, len(chats))
            latencies: dict[str, list[float | None]] = {who.label: [] for who in pair}
            bursts: dict[str, list[dict[str, Any]]] = {who.label: [] for who in pair}
            for round_no in range(sizes.rounds):
                order = pair if round_no % 2 == 0 else pair[::-1]
                for who in order:
                    print(f"round {round_no + 1}: latency, {who.label}")
                    latencies[who.label] += latency_phase(who, sizes, chats, round_no)
                if only_overhead:
                    continue
                for who in order:
                    print(f"round {round_no + 1}: throughput, {who.label}")
                    bursts[who.label].append(throughput_phase(who, sizes, chats, round_no))
            results["latency"] = {label: summary(values) for label, values in latencies.items()}
            if only_overhead:
                return results
            results["throughput"] = {label: bursts_summary(runs) for label, runs in bursts.items()}
            if only == "throughput":
                return results
            results["hol"] = {
                who.label: hol_phases(who, sizes, chats)
                for who in (bots["ours"], bots["baseline"], bots["ours_c8"])
            }
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


def rows(results: dict[str, Any], sizes: Sizes) -> list[Row]:
    hol = results["hol"]
    many_o, many_b = results["many_ours"], results["many_baseline"]

    def ratio(label: str) -> float | None:
        h = hol[label]
        without, with_ = h["without_slow"].get("p99_ms"), h["with_slow"].get("p99_ms")
        return with_ / without if with_ is not None and without else None

    return [
        *latency_rows(results),
        *throughput_rows(results),
        (
            "fast-chat p99 alone, ms",
            hol["ours"]["without_slow"].get("p99_ms"),
            hol["baseline"]["without_slow"].get("p99_ms"),
            "lower",
        ),
        (
            "fast-chat p99, 10% chats slow, ms",
            hol["ours"]["with_slow"].get("p99_ms"),
            hol["baseline"]["with_slow"].get("p99_ms"),
            "lower",
        ),
        ("fast-chat p99 with / without slow", ratio("ours"), ratio("baseline"), "lower"),
        (
            "  same, ours at max_concurrency=8",
            ratio("ours_c8"),
            None,
            "lower",
        ),
        (
            "  fast-chat p99 with slow, c=8, ms",
            hol["ours_c8"]["with_slow"].get("p99_ms"),
            None,
            "lower",
        ),
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
    return ok, f"overhead p99 ours {fmt(ours_p99)} ms <= baseline {fmt(base_p99)} ms"


def verdicts(results: dict[str, Any]) -> list[tuple[bool, str]]:
    hol = results["hol"]
    found: list[tuple[bool, str]] = [latency_verdict(results), throughput_verdict(results)]
    h = hol["ours"]
    without, with_ = h["without_slow"].get("p99_ms"), h["with_slow"].get("p99_ms")
    ratio = with_ / without if with_ is not None and without else float("inf")
    found.append(
        (
            ratio <= HOL_TARGET,
            (
                f"fast-chat p99 with slow chats {fmt(with_)} ms vs {fmt(without)} ms without"
                f" (x{ratio:.2f}, target <= x{HOL_TARGET:.2f})"
            ),
        )
    )
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
        choices=["overhead", "throughput"],
        help="ours and the baseline only: phase 1 alone, or phases 1 and 2",
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
