"""The benchmarks' LLM: the OpenAI-compatible emulator with the bench's rules, in a process.

Run by ``bench/bot_bench.py`` and ``bench/soak.py`` (see ``botlab.LlmServer``); by hand::

    .venv/bin/python -m bench.llm_server --slow-seconds 5

It prints ``llm emulator listening on http://127.0.0.1:PORT/v1`` and serves until SIGTERM
or Ctrl-C. Every answer is the emulator's echo (``Echo: <question>``), in one chunk unless
``--stream-words``; a question containing ``[slow]`` waits ``--slow-seconds`` before its
first byte, one containing ``[fail]`` gets HTTP 503 on every attempt.

Why a process of its own: the emulators are Python servers with a thread per connection.
Sharing one interpreter (one GIL) with the Telegram emulator, they capped both bots at a
few dozen updates a second on 2 cores, which measured the emulators rather than the bots.
It does not keep a log of requests either (the emulator's would grow by a few kB per
request over a soak).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.emulators.llm_script import Fail, RecordedRequest, Reply
from tests.emulators.openai_compat import OpenAIEmulator

SLOW = "[slow]"
FAIL = "[fail]"
SWITCH_INTERVAL = 0.0002  # seconds; see bench/botlab.py


class UnloggedOpenAIEmulator(OpenAIEmulator):
    """The emulator without its request log: nothing grows however long it runs."""

    def record(self, request: RecordedRequest) -> None:
        """Keep nothing (the bench reads what the bots did from the Telegram side)."""


def install_rules(api: OpenAIEmulator, *, slow_seconds: float, stream_words: bool) -> None:
    """The bench's answers: see the module docstring."""
    chunks = None if stream_words else 1
    api.when(FAIL, Fail(status=503))
    api.when(SLOW, Reply(text=None, delay=slow_seconds, chunks=chunks))
    api.when("", Reply(text=None, chunks=chunks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    parser.add_argument("--stream-words", action="store_true", help="one chunk per word")
    parser.add_argument("--api-key", default="sk-bench")
    args = parser.parse_args(argv)
    sys.setswitchinterval(SWITCH_INTERVAL)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with UnloggedOpenAIEmulator(api_key=args.api_key) as api:
        install_rules(api, slow_seconds=args.slow_seconds, stream_words=args.stream_words)
        print(f"llm emulator listening on {api.base_url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
