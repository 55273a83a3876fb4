"""The Telegram gateway actor: owns the PTB ``Bot``, the polling loop and the outbox.

Both the poller and the outbox run on the shared event loop; this actor only starts
them, forwards commands to the outbox, and stops them in order: polling first (no new
updates), then what is queued for sending is drained within the grace period.

Intake is durable when the gateway is given the storage actor: at start it first replays
the inbox's pending updates of earlier runs, then polls; each batch is written to the
inbox before it is confirmed to Telegram, and an update is marked done once its replies
are out (``intake.py``, ``completion.py``). docs/architecture.md ("Intake: the durable
inbox") tells the whole story, including the one window where a reply can be sent twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
import typing
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from loguru import logger
from telegram import Bot
from telegram.error import InvalidToken
from telegram.request import HTTPXRequest

from actors.config import TelegramConfig
from actors.http_pool import PooledTransport
from actors.storage import GetPendingDrafts
from actors.telegram.completion import update_id_of
from actors.telegram.downloads import DownloadFile, download, failure
from actors.telegram.indicators import TYPING_DELAY, TypingIndicators
from actors.telegram.intake import Intake
from actors.telegram.messages import (
    AnswerButton,
    DeleteMessage,
    EditText,
    FinishAnswer,
    GatewayCommand,
    SendText,
    ShowDraft,
    ShowTyping,
    UpdateHandled,
)
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from actors.telegram.updates import Poller, UpdatesRequest
from runtime import (
    Actor,
    ActorContext,
    Address,
    AsyncLoop,
    DeliveryFailed,
    Message,
    current_correlation_id,
    receive,
)

GAVE_UP = (
    "Sorry, something went wrong with that message and I couldn't handle it. Please try again."
)


class PollingStopped(Message, frozen=True, kw_only=True):
    """Internal: the polling loop of incarnation ``token`` ended (``error`` says why)."""

    token: str
    error: str | None


class StopPolling(Message, frozen=True, kw_only=True):
    """Ask: stop taking updates (the first step of a graceful shutdown)."""


class CountTraffic(Message, frozen=True, kw_only=True):
    """Ask: what this incarnation has taken in and sent; reply :class:`Traffic`."""


class Traffic(Message, frozen=True, kw_only=True):
    """The poller's and the outbox's own counters; they start from 0 with each incarnation."""

    updates_received: int
    sent: int
    dropped: int
    pending: int = 0


class ProbeTelegram(Message, frozen=True, kw_only=True):
    """Command: call getMe for the health supervisor, within ``timeout`` seconds.

    The call runs on the event loop and its outcome goes to ``reply_to`` as
    :class:`TelegramProbed` (Akka's request-response pattern: handed over in memory, never
    encoded), so neither the gateway nor the loop waits for Telegram.
    """

    probe_id: str
    reply_to: Address
    timeout: float


class TelegramProbed(Message, frozen=True, kw_only=True):
    """Event: how a :class:`ProbeTelegram` went; ``detail`` names the bot or the error."""

    probe_id: str
    ok: bool
    detail: str
    took_ms: float


Output = SendText | EditText | ShowTyping | ShowDraft | FinishAnswer | AnswerButton | DeleteMessage
OUTPUT = typing.get_args(Output)  # served on the event loop (Actor.serve_on_loop)


class GatewayFailed(RuntimeError):
    """Polling ended on its own: let the supervisor restart the gateway."""


# Connections to the Bot API for everything but getUpdates, and as many calls in flight
# (Pacing.max_in_flight): more than Telegram's ~30 messages a second need at its latencies.
# httpcore's pool looks over every connection each time a request starts or ends
# (actors/http_pool.py makes that cheaper; a small pool keeps it so).
TELEGRAM_CONNECTIONS = 16
TELEGRAM_LIMITS = httpx.Limits(
    max_connections=TELEGRAM_CONNECTIONS, max_keepalive_connections=TELEGRAM_CONNECTIONS
)


def updates_request(config: TelegramConfig) -> UpdatesRequest:
    """The connection getUpdates long-polls on (its own, so that replies never wait on it)."""
    timeout = config.request_timeout
    return UpdatesRequest(
        connection_pool_size=2,
        read_timeout=config.poll_timeout + timeout,
        connect_timeout=timeout,
    )


def make_bot(config: TelegramConfig, updates: UpdatesRequest | None = None) -> Bot:
    """A PTB Bot speaking to ``config.api_base_url`` (Telegram, or an emulator).

    ``updates`` is its getUpdates connection (default: a new :func:`updates_request`).
    """
    base = config.api_base_url.rstrip("/")
    timeout = config.request_timeout
    return Bot(
        config.token.reveal(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=TELEGRAM_CONNECTIONS,
            httpx_kwargs={"transport": PooledTransport(limits=TELEGRAM_LIMITS)},
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
        ),
        get_updates_request=updates or updates_request(config),
    )


def pacing_from(config: TelegramConfig) -> Pacing:
    return Pacing(
        per_chat_rate=config.per_chat_rate,
        group_per_minute=config.group_rate_per_minute,
        global_rate=config.global_rate,
    )


class Gateway(Actor):
    """See the module docstring."""

    def __init__(
        self,
        context: ActorContext,
        *,
        config: TelegramConfig,
        loop: AsyncLoop,
        sessions: Address,
        grace_seconds: float = 10.0,
        bot_factory: Callable[[TelegramConfig, UpdatesRequest], Bot] = make_bot,
        storage: Address | None = None,
        run_id: str = "",
        typing_delay: float = TYPING_DELAY,
    ) -> None:
        """``storage`` makes intake durable (None: updates live in memory only).

        ``run_id`` names this process in the inbox: the same for every incarnation of the
        gateway in one process, so a restarted gateway does not replay what sessions of
        this process already hold. "typing…" is shown only for answers not shown within
        ``typing_delay`` seconds (``indicators.py``).
        """
        super().__init__(context)
        self._storage = storage
        self._run_id = run_id or uuid.uuid4().hex
        self._intake: Intake | None = None
        self._config = config
        self._loop = loop
        self._sessions = sessions
        self._grace = grace_seconds
        self._bot_factory = bot_factory
        self._token = uuid.uuid4().hex[:8]
        self._bot: Bot | None = None
        self._outbox: Outbox | None = None
        self._typing_delay = typing_delay
        self._typing: TypingIndicators | None = None
        self._poller: Poller | None = None
        self._polling: concurrent.futures.Future[None] | None = None
        self._username = ""

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        updates = updates_request(self._config)
        bot = self._bot_factory(self._config, updates)
        self._bot = bot
        wait = self._config.request_timeout + 5.0
        try:
            self._loop.submit(bot.initialize()).result(wait)
        except InvalidToken:
            # PTB's own message quotes the token: keep it out of logs and /debug.
            raise GatewayFailed("Telegram rejected the bot token (getMe: Unauthorized)") from None
        self._username = bot.username
        logger.info("connected to Telegram as @{}", self._username)
        self._outbox, self._typing = self._loop.submit(self._new_outbox(bot)).result(wait)
        # Before this thread takes what was queued for it while it restarted (an answer's
        # final text, say): the drafts that final text may have to edit.
        drafts: tuple[tuple[int, int], ...] = (
            () if self._storage is None else self._storage.ask(GetPendingDrafts(), timeout=wait)
        )
        intake = Intake(
            bot=bot,
            username=self._username,
            outbox=self._outbox,
            send=self._typing.submit,
            sessions=self._sessions,
            gateway=self.context.address,
            storage=self._storage,
            run_id=self._run_id,
            drafts=dict(drafts),
            as_json=updates.as_sent,
        )
        self._intake = intake
        self._poller = Poller(
            bot, intake.route, timeout=self._config.poll_timeout, record=intake.record
        )
        token = self._token
        self._polling = self._loop.pipe(
            intake.run(self._poller),
            to=self.context.address,
            on_success=lambda _: PollingStopped(token=token, error=None),
            on_failure=lambda exc: PollingStopped(
                token=token, error=f"{type(exc).__name__}: {exc}"
            ),
        )
        # What sessions send goes straight to the loop: this thread would only pass it on.
        self.serve_on_loop(self._loop.loop, *OUTPUT, UpdateHandled)

    async def _new_outbox(self, bot: Bot) -> tuple[Outbox, TypingIndicators]:
        outbox = Outbox(bot, pacing_from(self._config), max_chars=self._config.max_message_chars)
        return outbox, TypingIndicators(outbox.submit, delay=self._typing_delay)

    def on_stop(self) -> None:
        self._stop_polling()
        if not self._loop.running:
            return
        outbox, bot, typing = self._outbox, self._bot, self._typing
        if typing is not None:  # "typing…" is no use once we are stopping
            self._loop.loop.call_soon_threadsafe(typing.close)
        if outbox is not None:
            self._run(outbox.drain(self._grace), self._grace + 2.0, "draining the outbox")
            self._run(outbox.close(), 5.0, "closing the outbox")
        if bot is not None:
            self._run(bot.shutdown(), 5.0, "closing the bot")
        self._outbox = self._bot = self._typing = None

    def _stop_polling(self) -> None:
        polling, self._polling = self._polling, None
        if polling is None:
            return
        self._token = "stopped on purpose"  # noqa: S105 - a marker; its PollingStopped is then ignored
        polling.cancel()
        try:
            polling.result(5.0)
        except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError):
            pass
        except Exception as exc:  # noqa: BLE001 - it is being stopped; the reason is only logged
            logger.info("polling had ended with {}", exc)
        if self._poller is not None and self._loop.running:
            self._run(self._poller.confirm(), 5.0, "confirming the last updates")

    def _run(self, coro: Coroutine[Any, Any, object], timeout: float, what: str) -> None:
        try:
            self._loop.submit(coro).result(timeout)
        except Exception as exc:  # noqa: BLE001 - shutting down: log and go on with the rest
            logger.warning("gateway: {} failed: {}", what, exc)

    # -- intake ----------------------------------------------------------------------------------

    @receive
    def on_update_handled(self, message: UpdateHandled) -> None:
        """A session sent all it will for an update: mark it done once those replies are out."""
        intake = self._intake
        if intake is None:
            raise RuntimeError("gateway is not running")
        # After the replies it follows: both are served on the loop, in the order sent.
        self._loop.call(intake.completions.handled, message.update_id, message.chat_id)

    @receive
    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        """An update the chat's session gave up on (it failed it repeatedly): say so."""
        if message.message_type == TelegramProbed.__name__:
            return  # a probe's answer the health supervisor stopped before taking: no matter
        logger.error(
            "chat session gave up on {} ({}) cid={}",
            message.message_type,
            message.reason,
            message.correlation_id,
        )
        prefix = f"{self._sessions.path}/"
        if (
            message.target.startswith(prefix)
            and message.target[len(prefix) :].lstrip("-").isdigit()
        ):
            chat_id = int(message.target[len(prefix) :])
            self.send(SendText(chat_id=chat_id, text=GAVE_UP, format="plain"))
            update_id = update_id_of(message.correlation_id)
            if update_id is not None:  # the failure line is its answer: do not replay it
                self.on_update_handled(UpdateHandled(update_id=update_id, chat_id=chat_id))

    @receive
    def polling_stopped(self, message: PollingStopped) -> None:
        if message.token != self._token:
            return  # an earlier incarnation's loop
        raise GatewayFailed(f"polling stopped: {message.error or 'ended'}")

    @receive
    def stop_polling(self, _message: StopPolling) -> None:
        self._stop_polling()

    # -- output -----------------------------------------------------------------------------------

    @receive
    def send(self, message: Output) -> None:
        typing = self._typing
        if typing is None:
            raise RuntimeError("gateway is not running")
        update_id = update_id_of(current_correlation_id())
        chat_id = getattr(message, "chat_id", None)
        intake = self._intake
        if update_id is None or intake is None or not isinstance(chat_id, int):
            self._loop.call(typing.submit, message)
        else:  # a reply to an update: the intake tracks it until Telegram accepted it
            self._loop.call(intake.submit, message, update_id, chat_id)

    @receive
    def fetch_file(self, message: DownloadFile) -> None:
        """getFile and the download on the loop; the outcome goes to ``reply_to``."""
        bot = self._bot
        if bot is None:  # like a probe: the answer, never a crash
            message.reply_to.tell(failure(message, RuntimeError("the gateway has no bot")))
            return
        self._loop.pipe(
            download(bot, message),
            to=message.reply_to,
            on_success=lambda outcome: outcome,
            on_failure=functools.partial(failure, message),
        )

    @receive
    def probe(self, message: ProbeTelegram) -> None:
        def failed(exc: BaseException) -> TelegramProbed:
            detail = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, TimeoutError):
                detail = f"getMe: no answer within {message.timeout:g}s"
            return TelegramProbed(probe_id=message.probe_id, ok=False, detail=detail, took_ms=0.0)

        bot = self._bot
        if bot is None:  # a probe must never crash the gateway: it is the answer instead
            message.reply_to.tell(failed(RuntimeError("the gateway has no bot")))
            return
        self._loop.pipe(
            _get_me(bot, message),
            to=message.reply_to,
            on_success=lambda probed: probed,
            on_failure=failed,
        )

    @receive
    def count_traffic(self, _message: CountTraffic) -> Traffic:
        # Ints written on the loop thread, read here: safe under the GIL, as runtime stats are.
        poller, outbox = self._poller, self._outbox
        return Traffic(
            updates_received=0 if poller is None else poller.received,
            sent=0 if outbox is None else outbox.sent,
            dropped=0 if outbox is None else outbox.dropped,
            pending=0 if outbox is None else outbox.pending(),
        )


async def _get_me(bot: Bot, request: ProbeTelegram) -> TelegramProbed:
    """One getMe within the probe's timeout; errors go to the pipe's failure message."""
    started = time.monotonic()
    me = await asyncio.wait_for(bot.get_me(), request.timeout)
    return TelegramProbed(
        probe_id=request.probe_id,
        ok=True,
        detail=f"getMe: @{me.username}",
        took_ms=(time.monotonic() - started) * 1000.0,
    )


__all__ = [
    "CountTraffic",
    "Gateway",
    "GatewayCommand",
    "PollingStopped",
    "ProbeTelegram",
    "StopPolling",
    "TelegramProbed",
    "Traffic",
    "make_bot",
]
