"""Run the Telegram LLM bot: ``python main.py [--config PATH] [--ping | --sandbox]``.

``python main.py --sandbox`` runs the same bot against a local Telegram emulator and serves a
web chat page to try it without Telegram (and, without API keys, with an offline demo model);
see docs/sandbox.md.

``python main.py inspect [PATH] [--config PATH]`` prints the running bot's actor tree (or
one actor) from its ops endpoint instead; see docs/operations.md.

Reads config.toml (secrets may come from the environment), starts the supervision tree
and runs until Ctrl-C or SIGTERM, then shuts down gracefully: polling stops first,
answers being generated get ``[shutdown] grace_seconds`` to finish, and everything is
closed. Exit status: 0 after a clean stop, 1 if the bot could not run, 2 for a bad
configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from loguru import logger
from telegram.error import TelegramError

from actors.admin.crashes import report_crashes
from actors.config import Config, api_key_env_var, load_config
from actors.errors import ConfigError
from actors.llm.provider import CountInFlight
from actors.logs import configure_logging, redact
from actors.ops import InspectError, inspect
from actors.sandbox import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
from actors.telegram.gateway import CountTraffic, StopPolling, Traffic, make_bot
from actors.tree import BotAddresses, addresses, bot_tree
from runtime import ActorSystem, ActorSystemError, AsyncLoop, ChildStartFailed
from storage import StorageError, Store

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.toml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A Telegram assistant for chatting with LLMs.")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="path to config.toml (default: the one beside main.py)",
    )
    parser.add_argument(
        "--ping",
        action="store_true",
        help="check config, storage and Telegram, print 'Bot ready', exit",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="try the bot without Telegram: local emulators and a web chat page (docs/sandbox.md)",
    )
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=DEFAULT_SANDBOX_PORT,
        metavar="PORT",
        help=f"port of the sandbox's page on 127.0.0.1 (default {DEFAULT_SANDBOX_PORT}; 0: any)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    inspect_parser = commands.add_parser(
        "inspect",
        help="print the running bot's actors, read from its [ops] endpoint",
        description="Print the running bot's actor tree, or one actor, from its ops endpoint.",
    )
    inspect_parser.add_argument("path", nargs="?", help="one actor's path, e.g. /io/gateway")
    inspect_parser.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="path to config.toml"
    )
    return parser.parse_args(argv)


def secrets_of(config: Config) -> list[str]:
    return [
        config.telegram.token.reveal(),
        config.admin.password.reveal(),  # ADMIN_PASSWORD (wrong guesses are never logged at all)
        *(p.api_key.reveal() for p in config.providers.values()),
    ]


def ping(config: Config) -> int:
    """Check storage and Telegram (getMe); print ``Bot ready`` and the bot's username."""
    try:
        Store.open(config.storage.path).close()
    except StorageError as exc:
        print(f"storage: {exc}", file=sys.stderr)
        return 1

    async def get_me() -> str:
        async with make_bot(config.telegram) as bot:
            return bot.username

    try:
        username = asyncio.run(get_me())
    except TelegramError as exc:
        reason = redact(str(exc), secrets_of(config))
        print(f"telegram: {reason} (at {config.telegram.api_base_url})", file=sys.stderr)
        return 1
    print(f"Bot ready: @{username}")
    return 0


def inspect_bot(config_path: Path, path: str | None) -> int:
    """Print the running bot's actor tree (or the actor at ``path``) from its ops endpoint."""
    try:
        config = load_config(config_path, os.environ, require_token=False)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return inspect(config.ops, path, sys.stdout)
    except InspectError as exc:
        print(exc, file=sys.stderr)
        return 1


def in_flight(where: BotAddresses) -> int:
    """Answers being generated plus replies not yet handed to Telegram."""
    busy = 0
    for provider in where.providers.values():
        try:
            busy += provider.ask(CountInFlight(), timeout=2.0)
        except ActorSystemError as exc:
            logger.warning("could not ask {} what is in flight: {}", provider.path, exc)
    try:
        traffic: Traffic = where.gateway.ask(CountTraffic(), timeout=2.0)
        busy += traffic.pending
    except ActorSystemError as exc:
        logger.warning("could not ask the gateway what is pending: {}", exc)
    return busy


def wait_for_answers(where: BotAddresses, grace: float) -> None:
    """Give answers in flight up to ``grace`` seconds to reach Telegram.

    Quiet must be seen twice in a row: between one answer ending and the next queued
    message's answer starting, both counts are briefly zero.
    """
    deadline = time.monotonic() + grace
    quiet = 0
    while time.monotonic() < deadline:
        busy = in_flight(where)
        quiet = quiet + 1 if busy == 0 else 0
        if quiet >= 2:  # noqa: PLR2004 - see the docstring
            return
        if busy:
            logger.info("waiting for {} answer(s) or repl(ies) in flight", busy)
        time.sleep(0.2)
    logger.warning("grace period over; stopping with answers still in flight")


def freeze_startup_objects() -> None:
    """Keep the cyclic GC from walking, ever again, what starting the bot made.

    Modules, config and the started actors live as long as the process. Left to the
    collector, every full collection walks all of them again while holding the GIL: 40 to
    75 ms during which no thread moves, measured in the bench's bot (docs/benchmarks.md,
    "Bots"), a pause that lands in the latency tail. Collected once here, then frozen
    (``gc.freeze``: moved to a generation the collector ignores), a full collection walks
    only what came later: about 2 ms there.
    """
    gc.collect()
    gc.freeze()


def run(config: Config, *, stop_requested: threading.Event | None = None) -> int:
    """Run the bot until a signal (or a failure of the root) stops it; return the exit status.

    ``stop_requested`` is set by a caller that caught a signal before this took them over
    (the sandbox, while it starts its emulators): the bot then stops as soon as it starts.
    """
    grace = config.shutdown.grace_seconds
    loop = AsyncLoop()
    system = ActorSystem()
    where = addresses(system, config)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        system.request_shutdown(signal.Signals(signum).name)

    # Before starting: a Ctrl-C while the tree starts must lead to the same orderly stop.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if stop_requested is not None and stop_requested.is_set():
        system.request_shutdown("a signal before the bot started")
    crash_reports = report_crashes(where.admin)  # unexpected exceptions reach admins too
    try:
        try:
            system.start(bot_tree(config, system, loop))
        except ChildStartFailed as exc:
            logger.error("could not start: {}", exc)
            return 1
        freeze_startup_objects()
        logger.info("bot running; Ctrl-C or SIGTERM stops it")
        while not system.wait(0.5):
            pass
        logger.info("shutting down ({})", system.exit_reason)
        if system.exit_code == 0:
            try:
                where.gateway.ask(StopPolling(), timeout=15.0)
            except ActorSystemError as exc:
                logger.warning("could not stop polling cleanly: {}", exc)
            wait_for_answers(where, grace)
    finally:
        logger.remove(crash_reports)  # the admin actor and the gateway are about to stop
        system.shutdown(timeout=grace + 30.0)
        loop.close()
    return system.exit_code


def main(argv: list[str] | None = None) -> int:
    # PTB reads this when a Retry-After is looked at: a timedelta, without deprecation warnings.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = parse_args(argv)
    if args.command == "inspect":
        return inspect_bot(args.config, args.path)
    if args.sandbox:
        # Imported here: the sandbox loads the emulators, which the bot itself never needs.
        from actors.sandbox.app import run_sandbox  # noqa: PLC0415

        return run_sandbox(args.config, os.environ, run, port=args.sandbox_port)
    try:
        config = load_config(args.config, os.environ)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(config.logging, secrets_of(config))
    for name in config.skipped_providers():
        logger.info("provider {} skipped: no API key (set {})", name, api_key_env_var(name))
    if args.ping:
        return ping(config)
    if not config.usable_providers():
        logger.warning("no LLM provider has an API key: the bot will answer that none is available")
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
