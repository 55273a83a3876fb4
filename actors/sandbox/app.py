"""``python main.py --sandbox``: the real bot against local emulators, played from a web page.

Starts, in this order, and stops in reverse (the bot first, so nothing it still sends is lost):

1. the Telegram Bot API emulator (``tests/emulators/telegram.py``) on 127.0.0.1;
2. without any provider API key, the offline demo model (:mod:`actors.sandbox.demo`);
3. the web page (:mod:`actors.sandbox.web`), whose URL is printed;
4. the bot itself, through the same ``run`` that ``python main.py`` uses, with the
   configuration of :func:`actors.sandbox.config.sandbox_config`.

Ctrl-C or SIGTERM stops the bot the usual way (polling first, answers in flight get their
grace period), then the page and the emulators, joining every thread they started.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import TYPE_CHECKING, Final, Protocol, TextIO

from loguru import logger

from actors.config import load_config
from actors.errors import ConfigError
from actors.logs import configure_logging
from actors.sandbox import DEFAULT_PORT
from actors.sandbox.config import SANDBOX_TOKEN, sandbox_config, sandbox_data_dir
from actors.sandbox.demo import DEMO_LABEL, DemoModel
from actors.sandbox.people import ADMIN_ID, People
from actors.sandbox.web import SandboxPage
from tests.emulators.telegram import TelegramEmulator

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from types import FrameType

    from actors.config import Config


class Runner(Protocol):
    """main.run: runs the bot with ``config`` and returns its exit status."""

    def __call__(self, config: Config, *, stop_requested: threading.Event | None = None) -> int:
        """Run until stopped; a set ``stop_requested`` stops the bot as soon as it starts."""
        ...


BOT_USERNAME: Final = "sandbox_llm_bot"
BOT_NAME: Final = "LLM Bot (sandbox)"


def run_sandbox(
    config_path: Path,
    environ: Mapping[str, str],
    run: Runner,
    *,
    port: int = DEFAULT_PORT,
    out: TextIO = sys.stdout,
) -> int:
    """Run the sandbox until Ctrl-C or SIGTERM; returns the bot's exit status.

    Args:
        config_path: the config.toml to start from (no token needed; see
            :func:`~actors.sandbox.config.sandbox_config` for what is changed).
        environ: where API keys may come from, as for the real bot.
        run: runs the bot with a configuration and returns its exit status (main.py's).
        port: the page's port; if taken, a free one is used instead. 0 picks a free one.
        out: where the page's address is printed.

    Returns:
        2 for a bad configuration, else what ``run`` returned.
    """
    try:
        base = load_config(config_path, environ, require_token=False)
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # noqa: T201 - the same one line main.py prints
        return 2
    # Until the bot takes the signals over, Ctrl-C or SIGTERM only sets this flag: a
    # KeyboardInterrupt raised at an arbitrary point of the start (inside a lock, between a
    # thread's start and its registration for clean-up) could leave the process hanging.
    stop = threading.Event()

    def note_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, note_stop)
    signal.signal(signal.SIGTERM, note_stop)
    return _run(base, sandbox_data_dir(config_path), run, port, out, stop)


def _run(  # noqa: PLR0917 - the pieces run_sandbox has checked, in order
    base: Config,
    data_dir: Path,
    run: Runner,
    port: int,
    out: TextIO,
    stop: threading.Event,
) -> int:
    with contextlib.ExitStack() as stack:
        telegram = stack.enter_context(
            TelegramEmulator(
                token=SANDBOX_TOKEN, bot_username=BOT_USERNAME, bot_first_name=BOT_NAME
            )
        )
        demo = None if base.usable_providers() else stack.enter_context(DemoModel())
        config = sandbox_config(
            base,
            telegram_url=telegram.base_url,
            admin_id=ADMIN_ID,
            data_dir=data_dir,
            demo_url=None if demo is None else demo.base_url,
        )
        secrets = [p.api_key.reveal() for p in config.providers.values()]
        configure_logging(config.logging, secrets)
        people = People(telegram, data_dir / "users.json")
        people.load()
        models = DEMO_LABEL if demo else ", ".join(config.providers)
        page = _open_page(telegram, people, models, port, demo=demo)
        stack.callback(page.close)
        logger.info("sandbox: storage in {}, answers from {}", data_dir, models)
        print(f"Sandbox ready: open {page.url} in a browser (Ctrl-C stops it)", file=out)
        out.flush()
        if stop.is_set():
            logger.info("sandbox stopped before the bot started")
            return 0
        return run(config, stop_requested=stop)


def _open_page(
    telegram: TelegramEmulator, people: People, models: str, port: int, *, demo: DemoModel | None
) -> SandboxPage:
    """Start the page on ``port``, or on a free port if that one is taken."""
    try:
        return SandboxPage(
            telegram, people, models=models, demo=demo is not None, port=port
        ).start()
    except OSError as exc:
        if port == 0:
            raise
        logger.warning("port {} is taken ({}); the page gets a free port", port, exc.strerror)
        return SandboxPage(telegram, people, models=models, demo=demo is not None).start()
