"""Run an emulator in the foreground until Ctrl-C (or SIGTERM).

    python -m tests.emulators telegram --port 8081 --token 123456:TEST

Every emulator gets ``--host`` and ``--port``. Adding one is a single entry in ``SUBCOMMANDS``:
a help line, a factory taking the parsed arguments, and the extra arguments it needs, e.g.::

    "openai": Subcommand("OpenAI-compatible API", lambda a: OpenAIEmulator(port=a.port)),
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tests.emulators.telegram import RateLimits, TelegramEmulator

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


class Emulator(Protocol):
    """What the runner needs from an emulator."""

    @property
    def base_url(self) -> str: ...

    def start(self) -> object: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Argument:
    """One ``parser.add_argument`` call, kept as data."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]


def arg(*flags: str, **options: Any) -> Argument:
    """Spell an argument like ``parser.add_argument`` does."""
    return Argument(flags, options)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """An emulator the runner can start."""

    help: str
    build: Callable[[argparse.Namespace], Emulator]
    arguments: tuple[Argument, ...] = ()


def _telegram(args: argparse.Namespace) -> Emulator:
    return TelegramEmulator(
        token=args.token,
        bot_username=args.bot_username,
        host=args.host,
        port=args.port,
        rate_limits=RateLimits() if args.rate_limits else None,
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "telegram": Subcommand(
        "Telegram Bot API (the bot's api_base_url is printed on start)",
        _telegram,
        (
            arg("--token", default="123456:TEST", help="bot token the client must use"),
            arg("--bot-username", default="test_llm_bot", help="username returned by getMe"),
            arg("--rate-limits", action="store_true", help="enforce Telegram's flood limits"),
        ),
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="emulator", required=True, metavar="EMULATOR")
    for name, subcommand in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=subcommand.help, description=subcommand.help)
        sub.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
        sub.add_argument("--port", type=int, default=0, help="port to bind (0: any free one)")
        for argument in subcommand.arguments:
            sub.add_argument(*argument.flags, **argument.options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, serve until interrupted, close cleanly."""
    args = _parser().parse_args(argv)
    emulator = SUBCOMMANDS[args.emulator].build(args)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    emulator.start()
    try:
        sys.stdout.write(f"{args.emulator} emulator listening on {emulator.base_url}\n")
        sys.stdout.flush()
        stop.wait()
    finally:
        emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
