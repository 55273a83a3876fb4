"""The Telegram gateway actor: owns the PTB ``Bot``, the polling loop and the outbox.

Both the poller and the outbox run on the shared event loop; this actor only starts
them, forwards commands to the outbox, and stops them in order: polling first (no new
updates), then what is queued for sending is drained within the grace period.
"""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger
from telegram import Bot, Update
from telegram.error import InvalidToken
from telegram.request import HTTPXRequest

from actors.config import TelegramConfig
from actors.telegram.messages import (
    AnswerButton,
    EditText,
    FinishAnswer,
    GatewayCommand,
    SendText,
    ShowDraft,
    ShowTyping,
)
from actors.telegram.outbox import Outbox
from actors.telegram.pacing import Pacing
from actors.telegram.updates import Poller, translate
from runtime import (
    Actor,
    ActorContext,
    Address,
    AsyncLoop,
    DeliveryFailed,
    Message,
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


class GatewayFailed(RuntimeError):
    """Polling ended on its own: let the supervisor restart the gateway."""


def make_bot(config: TelegramConfig) -> Bot:
    """A PTB Bot speaking to ``config.api_base_url`` (Telegram, or an emulator)."""
    base = config.api_base_url.rstrip("/")
    timeout = config.request_timeout
    return Bot(
        config.token.reveal(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=64,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
        ),
        get_updates_request=HTTPXRequest(
            connection_pool_size=2,
            read_timeout=config.poll_timeout + timeout,
            connect_timeout=timeout,
        ),
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
        bot_factory: Callable[[TelegramConfig], Bot] = make_bot,
    ) -> None:
        super().__init__(context)
        self._config = config
        self._loop = loop
        self._sessions = sessions
        self._grace = grace_seconds
        self._bot_factory = bot_factory
        self._token = uuid.uuid4().hex[:8]
        self._bot: Bot | None = None
        self._outbox: Outbox | None = None
        self._poller: Poller | None = None
        self._polling: concurrent.futures.Future[None] | None = None
        self._username = ""

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        bot = self._bot_factory(self._config)
        self._bot = bot
        wait = self._config.request_timeout + 5.0
        try:
            self._loop.submit(bot.initialize()).result(wait)
        except InvalidToken:
            # PTB's own message quotes the token: keep it out of logs and /debug.
            raise GatewayFailed("Telegram rejected the bot token (getMe: Unauthorized)") from None
        self._username = bot.username
        logger.info("connected to Telegram as @{}", self._username)
        self._outbox = self._loop.submit(self._new_outbox(bot)).result(wait)
        self._poller = Poller(bot, self._route, timeout=self._config.poll_timeout)
        token = self._token
        self._polling = self._loop.pipe(
            self._poller.run(),
            to=self.context.address,
            on_success=lambda _: PollingStopped(token=token, error=None),
            on_failure=lambda exc: PollingStopped(
                token=token, error=f"{type(exc).__name__}: {exc}"
            ),
        )

    async def _new_outbox(self, bot: Bot) -> Outbox:
        return Outbox(bot, pacing_from(self._config), max_chars=self._config.max_message_chars)

    def on_stop(self) -> None:
        self._stop_polling()
        if not self._loop.running:
            return
        outbox, bot = self._outbox, self._bot
        if outbox is not None:
            self._run(outbox.drain(self._grace), self._grace + 2.0, "draining the outbox")
            self._run(outbox.close(), 5.0, "closing the outbox")
        if bot is not None:
            self._run(bot.shutdown(), 5.0, "closing the bot")
        self._outbox = self._bot = None

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

    def _route(self, update: Update) -> None:
        translated = translate(update, self._username)
        if translated is None:
            return
        chat_id, message = translated
        cid = f"u{update.update_id}"
        # Sent as the gateway (this runs on the loop, outside any handler), so that an update
        # the session cannot handle comes back here as DeliveryFailed and the user hears back.
        self._sessions.child(chat_id).tell(message, correlation_id=cid, sender=self.context.address)

    @receive
    def on_delivery_failed(self, message: DeliveryFailed) -> None:
        """An update the chat's session gave up on (it failed it repeatedly): say so."""
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
            self.send(
                SendText(chat_id=int(message.target[len(prefix) :]), text=GAVE_UP, format="plain")
            )

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
    def send(
        self, message: SendText | EditText | ShowTyping | ShowDraft | FinishAnswer | AnswerButton
    ) -> None:
        outbox = self._outbox
        if outbox is None:
            raise RuntimeError("gateway is not running")
        self._loop.loop.call_soon_threadsafe(outbox.submit, message)

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


__all__ = [
    "CountTraffic",
    "Gateway",
    "GatewayCommand",
    "PollingStopped",
    "StopPolling",
    "Traffic",
    "make_bot",
]
