"""From Telegram updates to session messages, and the polling loop that fetches them.

The loop is ours, not PTB's ``run_polling``: the offset that confirms updates to Telegram
is in our hands. Each batch is handed to ``record`` (the gateway writes it to the durable
inbox) before the next getUpdates, whose offset confirms the batch to Telegram; only the
updates ``record`` says are new are then delivered. So an update is either on record or
not yet confirmed (Telegram sends it again), and one sent again is not delivered twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import msgspec
from loguru import logger
from telegram import (
    Bot,
    ChatMember,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Document,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    User,
    Voice,
)
from telegram.constants import MessageEntityType
from telegram.error import (
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from actors.chat.messages import (
    BotMembershipChanged,
    ButtonPressed,
    ChatKind,
    IncomingCommand,
    IncomingFile,
    IncomingText,
    SessionMessage,
    UnsupportedContent,
    UserRef,
)
from actors.telegram.outbox import seconds

# my_chat_member: the bot was added to a group or removed from it (docs/usage.md, "Groups").
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
MAX_BACKOFF = 30.0


class UpdatesRequest(HTTPXRequest):
    """PTB's getUpdates connection, keeping the last batch's updates as Telegram sent them.

    The inbox writes each update's JSON. Rebuilding it from PTB's objects (``to_json``)
    costs about 100 µs an update, more than the rest of recording it, while the parsed
    JSON is at hand here: PTB's ``parse_json_payload`` is meant to be overridden, and its
    ``de_json`` copies what it is given instead of altering it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: dict[int, object] = {}

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = HTTPXRequest.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):  # a batch (an error's body has none: keep the last)
            self._sent = {
                item["update_id"]: item
                for item in result
                if isinstance(item, dict) and isinstance(item.get("update_id"), int)
            }
        return data

    def as_sent(self, update: Update) -> str:
        """``update`` as JSON: as Telegram sent it if it came in the last batch."""
        sent = self._sent.get(update.update_id)
        return update.to_json() if sent is None else msgspec.json.encode(sent).decode()


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


def _is_ours(user: User | None, bot_username: str) -> bool:
    return (
        user is not None and user.is_bot and (user.username or "").lower() == bot_username.lower()
    )


def _mentions(message: Message, bot_username: str) -> tuple[MessageEntity, ...]:
    """The ``@bot_username`` mentions in the message's text or caption."""
    wanted = f"@{bot_username}".lower()
    found = message.parse_entities([MessageEntityType.MENTION]) or (
        message.parse_caption_entities([MessageEntityType.MENTION])
    )
    return tuple(entity for entity, text in found.items() if text.lower() == wanted)


def _without(text: str, entities: Sequence[MessageEntity]) -> str:
    """``text`` with ``entities`` cut out (offsets are UTF-16 code units), spaces tidied.

    The model gets "what is 2+2?" rather than "@thisbot what is 2+2?".
    """
    units = text.encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: e.offset, reverse=True):
        units = units[: entity.offset * 2] + units[(entity.offset + entity.length) * 2 :]
    return re.sub(r"[ \t]{2,}", " ", units.decode("utf-16-le")).strip()


def _addressed(message: Message, bot_username: str) -> bool:
    """Whether a group message is for the bot: a mention of it, or a reply to its message.

    Commands are judged by :func:`_command`. With Telegram's privacy mode on, these (and
    commands) are all a bot receives in a group; with it off, the rest is chatter among
    people and is ignored.
    """
    replied = message.reply_to_message
    # In a forum topic, a message that replies to nothing says it replies to the topic's
    # first (service) message: that is no reply to the bot, even in a topic it opened.
    to_bot = (
        replied is not None
        and replied.forum_topic_created is None
        and _is_ours(replied.from_user, bot_username)
    )
    return to_bot or bool(_mentions(message, bot_username))


_PRESENT = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})


def _is_in(member: ChatMember) -> bool:
    """Whether this status has the bot in the chat (a restricted member may still be in it)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in _PRESENT


def membership(update_id: int, change: ChatMemberUpdated) -> BotMembershipChanged | None:
    """The bot was added to a group or removed from one; None for anything else.

    Private chats (a user blocking or restarting the bot) and channels are not groups, and
    a change that leaves the bot where it was (promoted, restricted) is no news.
    """
    chat = change.chat
    was_in, is_in = _is_in(change.old_chat_member), _is_in(change.new_chat_member)
    if chat.type not in (chat.GROUP, chat.SUPERGROUP) or was_in == is_in:
        return None
    return BotMembershipChanged(
        update_id=update_id,
        chat_id=chat.id,
        chat_kind=cast("ChatKind", chat.type),
        title=chat.title,
        by=user_ref(change.from_user),
        status="added" if is_in else "removed",
    )


def translate(update: Update, bot_username: str) -> tuple[int, SessionMessage] | None:
    """The session message for ``update`` and the chat it belongs to, or None to ignore.

    In a group only what is addressed to the bot gets through: a command for it, a mention
    of its @username (cut from the text the model sees), or a reply to one of its messages.
    Everything else there (people talking among themselves, files not meant for the bot,
    service messages such as new members or pins) is None: recorded done, never answered.
    The bot's own membership of a group changing (my_chat_member) goes to the group's session.
    """
    if update.my_chat_member is not None:
        changed = membership(update.update_id, update.my_chat_member)
        return None if changed is None else (changed.chat_id, changed)
    return _from_people(update, bot_username)


def _from_people(update: Update, bot_username: str) -> tuple[int, SessionMessage] | None:  # noqa: PLR0911 - one return per kind of update
    """:func:`translate` for what people send: a button pressed, or a message."""
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
        # A forum topic has its own context; other threads (replies) share the chat's.
        "topic_id": (message.message_thread_id or 0) if message.is_topic_message else 0,
    }
    group = kind != "private"
    command = _command(message, bot_username)
    if command is OTHER_BOT:
        return None
    if group and command is None and not _addressed(message, bot_username):
        return None
    mentions = _mentions(message, bot_username) if group else ()
    if (file := incoming_file(message)) is not None:
        if mentions and message.caption:  # a caption of only the mention: no instruction
            file["caption"] = _without(message.caption, mentions) or None
        return chat_id, IncomingFile(**file, **common)  # type: ignore[arg-type]
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
    if command is not None:
        name, args = command
        return chat_id, IncomingCommand(command=name, args=args, **common)  # type: ignore[arg-type]
    # A message of nothing but the mention still asks something of the bot: kept as it is.
    text = (_without(message.text, mentions) if mentions else "") or message.text
    return chat_id, IncomingText(text=text, **common)  # type: ignore[arg-type]


def incoming_file(message: Message) -> dict[str, object] | None:
    """What a document, photo or voice message announces about its file, or None.

    Of a photo's sizes the largest is taken. A voice message's ``duration`` is not read: PTB
    warns on it (it is becoming a timedelta), and nothing here needs it.
    """
    found: tuple[str, Document | PhotoSize | Voice] | None = None
    if message.document is not None:
        found = "document", message.document
    elif message.photo:
        found = "photo", message.photo[-1]
    elif message.voice is not None:
        found = "voice", message.voice
    if found is None:
        return None
    kind, file = found
    return {
        "kind": kind,
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_name": file.file_name if isinstance(file, Document) else None,
        "mime_type": None if isinstance(file, PhotoSize) else file.mime_type,
        "size": file.file_size,
        "caption": message.caption,
    }


def _backoff(failures: int) -> float:
    """Seconds to wait after ``failures + 1`` failures in a row: 1 s doubling up to 30 s."""
    return min(MAX_BACKOFF, 0.5 * 2.0 ** min(failures + 1, 10))


Record = Callable[[Sequence[Update]], Awaitable[Sequence[Update]]]
"""Writes a batch down and returns the updates in it that were new; raises if it could not."""


async def nothing_to_record(updates: Sequence[Update]) -> Sequence[Update]:
    """A :data:`Record` that writes nothing down and takes every update as new."""
    return updates


class Poller:
    """Long-polls getUpdates, records each batch, hands new updates to ``deliver``.

    Runs until cancelled. A batch ``record`` fails on is not confirmed: the poller waits
    (backing off like for network errors) and fetches it again.
    """

    def __init__(
        self,
        bot: Bot,
        deliver: Callable[[Update], object],
        *,
        timeout: int,
        record: Record = nothing_to_record,
    ) -> None:
        self._bot = bot
        self._deliver = deliver
        self._record = record
        self._timeout = timeout
        self.offset: int | None = None
        self.received = 0
        self.duplicates = 0

    async def run(self) -> None:
        """Poll until cancelled. Raises InvalidToken/Forbidden: nothing can fix those here."""
        failures = 0
        while True:
            updates = await self._fetch(failures)
            if updates is None:
                failures += 1
                continue
            if updates and not await self._take(updates, failures):
                failures += 1
                continue
            failures = 0

    async def _fetch(self, failures: int) -> Sequence[Update] | None:
        """One getUpdates (confirming what came before); None after a failure was waited out."""
        try:
            return await self._bot.get_updates(
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
        except Conflict as exc:
            logger.error("getUpdates conflict (is another instance running?): {}", exc)
            await asyncio.sleep(5.0)
        except TimedOut:
            return ()
        except NetworkError as exc:
            delay = _backoff(failures)
            logger.warning("getUpdates failed ({}); retrying in {:g}s", exc, delay)
            await asyncio.sleep(delay)
        return None

    async def _take(self, updates: Sequence[Update], failures: int) -> bool:
        """Record a batch and deliver its new updates; False (after a pause) if it failed.

        Shielded: polling cancelled meanwhile (a stop, a restart of the gateway) still lets
        a batch that reaches the record be delivered, rather than leave it on record with no
        session holding it until the next start.
        """
        if await asyncio.shield(self._record_and_deliver(updates)):
            return True
        delay = _backoff(failures)
        logger.warning("fetching {} update(s) again in {:g}s", len(updates), delay)
        await asyncio.sleep(delay)
        return False

    async def _record_and_deliver(self, updates: Sequence[Update]) -> bool:
        try:
            fresh = await self._record(updates)
        except Exception as exc:  # noqa: BLE001 - boundary: whatever it was, do not confirm
            logger.error(
                "could not record {} update(s): {}: {}", len(updates), type(exc).__name__, exc
            )
            return False
        # From here on the batch is on record: the next getUpdates may confirm it.
        self.offset = max(update.update_id for update in updates) + 1
        self.received += len(fresh)
        self.duplicates += len(updates) - len(fresh)
        for update in fresh:
            try:
                self._deliver(update)
            except Exception:  # noqa: BLE001 - boundary: one bad update must not stop intake
                logger.exception("could not route update {}", update.update_id)
        return True

    async def confirm(self) -> None:
        """Tell Telegram that every update recorded so far was received."""
        if self.offset is not None:
            await self._bot.get_updates(offset=self.offset, timeout=0, limit=1)
