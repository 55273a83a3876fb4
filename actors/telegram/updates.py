"""From Telegram updates to session messages, and the polling loop that fetches them.

The loop is ours, not PTB's ``run_polling``: the offset that confirms updates to
Telegram is in our hands, so a later change can make intake durable (write updates down
before confirming them) without fighting the library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from loguru import logger
from telegram import Bot, Message, Update, User
from telegram.constants import MessageEntityType
from telegram.error import (
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from actors.chat.messages import (
    ButtonPressed,
    ChatKind,
    IncomingCommand,
    IncomingText,
    SessionMessage,
    UnsupportedContent,
    UserRef,
)
from actors.telegram.outbox import seconds

ALLOWED_UPDATES = ("message", "callback_query")
MAX_BACKOFF = 30.0


def user_ref(user: User) -> UserRef:
    return UserRef(
        id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )


OTHER_BOT = ("", ())  # a command addressed to another bot: ignored


def _command(message: Message, bot_username: str) -> tuple[str, tuple[str, ...]] | None:
    """``("help", args)`` for "/help@thisbot a b", :data:`OTHER_BOT` for "/help@otherbot",
    None if the message is not a command."""
    text = message.text or ""
    entity = next(iter(message.entities), None)
    if entity is None or entity.type != MessageEntityType.BOT_COMMAND or entity.offset != 0:
        return None
    name, _, target = text[1 : entity.length].partition("@")
    if target and target.lower() != bot_username.lower():
        return OTHER_BOT
    return name.lower(), tuple(text[entity.length :].split())


def translate(update: Update, bot_username: str) -> tuple[int, SessionMessage] | None:  # noqa: PLR0911 - one return per kind of update
    """The session message for ``update`` and the chat it belongs to, or None to ignore."""
    if update.callback_query is not None:
        query = update.callback_query
        source = query.message
        if source is None or query.data is None:
            return None
        return source.chat.id, ButtonPressed(
            update_id=update.update_id,
            chat_id=source.chat.id,
            message_id=source.message_id,
            callback_id=query.id,
            user=user_ref(query.from_user),
            data=query.data,
        )
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    chat_id = message.chat.id
    kind = cast("ChatKind", message.chat.type)
    user = user_ref(message.from_user)
    common = {
        "update_id": update.update_id,
        "chat_id": chat_id,
        "chat_kind": kind,
        "message_id": message.message_id,
        "user": user,
    }
    if message.text is None:
        kind_name = next(
            (
                name
                for name in ("photo", "document", "voice", "sticker", "video", "audio")
                if getattr(message, name, None)
            ),
            "other",
        )
        return chat_id, UnsupportedContent(kind=kind_name, **common)  # type: ignore[arg-type]
    command = _command(message, bot_username)
    if command is OTHER_BOT:
        return None
    if command is not None:
        name, args = command
        return chat_id, IncomingCommand(command=name, args=args, **common)  # type: ignore[arg-type]
    return chat_id, IncomingText(text=message.text, **common)  # type: ignore[arg-type]


class Poller:
    """Long-polls getUpdates and hands each update to ``deliver``; runs until cancelled."""

    def __init__(
        self,
        bot: Bot,
        deliver: Callable[[Update], None],
        *,
        timeout: int,
    ) -> None:
        self._bot = bot
        self._deliver = deliver
        self._timeout = timeout
        self.offset: int | None = None
        self.received = 0

    async def run(self) -> None:
        """Poll until cancelled. Raises InvalidToken/Forbidden: nothing can fix those here."""
        failures = 0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self.offset,
                    timeout=self._timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except (InvalidToken, Forbidden):
                raise
            except RetryAfter as exc:
                wait = seconds(exc.retry_after)
                logger.warning("getUpdates: 429, waiting {:g}s", wait)
                await asyncio.sleep(wait)
                continue
            except Conflict as exc:
                logger.error("getUpdates conflict (is another instance running?): {}", exc)
                await asyncio.sleep(5.0)
                continue
            except TimedOut:
                continue
            except NetworkError as exc:
                failures += 1
                delay = min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 10))
                logger.warning("getUpdates failed ({}); retrying in {:g}s", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            for update in updates:
                self.offset = update.update_id + 1
                self.received += 1
                try:
                    self._deliver(update)
                except Exception:  # noqa: BLE001 - boundary: one bad update must not stop intake
                    logger.exception("could not route update {}", update.update_id)

    async def confirm(self) -> None:
        """Tell Telegram that every update handed on so far was received."""
        if self.offset is not None:
            await self._bot.get_updates(offset=self.offset, timeout=0, limit=1)
