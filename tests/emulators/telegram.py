"""A faithful, in-process Telegram Bot API server for end-to-end tests and benchmarks.

The bot under test talks to it over real HTTP exactly as it talks to api.telegram.org, so its own
python-telegram-bot stack (request encoding, error mapping, polling loop) is exercised unchanged;
tests play the users through a thread-safe Python API and look at what the bot sent::

    with TelegramEmulator() as emu:
        # bot config: api_base_url = emu.base_url  (PTB: base_url=emu.bot_base_url,
        #                                            base_file_url=emu.file_base_url)
        alice = emu.user(1001, "Alice", username="alice")
        emu.send_text(alice, "/start")
        [reply] = emu.wait_for_message(alice.id, containing="Hello")
        emu.press_button(alice, reply, "menu:models")

What is faithful (texts copied from the Bot API server and tdlib): response shapes, error codes and
descriptions ("Bad Request: message is not modified: ..."), HTML and MarkdownV2 parsing (a port of
tdlib's parsers, including byte offsets in errors), 4096 UTF-16 unit limit, trimming, automatic
entities (mentions, /commands, hashtags, URLs), getUpdates offset/long-poll/409 semantics,
editMessageText dropping an inline keyboard it is not given again, optional flood limits.

The bot's own membership of a group is: :meth:`TelegramEmulator.add_bot_to_group` and
:meth:`TelegramEmulator.remove_bot_from_group` send ``my_chat_member`` updates, and sending to a
group the bot is not in fails with 403 as it does on Telegram.

What is not emulated: webhooks, inline mode, payments, media other than documents and photos,
message reactions, other chat members and permissions.

Failure injection: :meth:`TelegramEmulator.fail_next`, :meth:`TelegramEmulator.drop_next`,
:meth:`TelegramEmulator.set_delay`, and :class:`RateLimits`.
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from tests.emulators._http import DROP, HttpServer, Reply, Request, bytes_response, json_response

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from types import TracebackType

    from tests.emulators._http import UploadedFile

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "ChatAction",
    "ChatMessage",
    "Entity",
    "FileInfo",
    "InlineButton",
    "MarkupError",
    "MessageVersion",
    "RateLimits",
    "SimChat",
    "SimUser",
    "TelegramEmulator",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
]

_T = TypeVar("_T")

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
_DEFAULT_ALLOWED_UPDATES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


# --- records handed to tests -------------------------------------------------------------------


def _freeze(value: Any) -> Any:
    """Deep-freeze decoded JSON: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    """Undo :func:`_freeze` so a record can be serialized again."""
    if isinstance(value, MappingProxyType | dict):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class SimUser:
    """A simulated Telegram user (the handle tests pass to ``send_text`` and friends)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_json(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        result: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            result["last_name"] = self.last_name
        if self.username is not None:
            result["username"] = self.username
        if self.language_code is not None:
            result["language_code"] = self.language_code
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class SimChat:
    """A chat known to the emulator: a user's private chat or a (super)group."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False

    def to_json(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        result: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name", "last_name"):
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        if self.is_forum:
            result["is_forum"] = True
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """A Bot API ``MessageEntity``; offsets and lengths are in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API object, without ``user`` (the emulator adds it for text mentions)."""
        result: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            result["url"] = self.url
        if self.language:
            result["language"] = self.language
        if self.custom_emoji_id is not None:
            result["custom_emoji_id"] = self.custom_emoji_id
        return result

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Entity:
        """Read an entity the bot passed explicitly (``entities`` parameter)."""
        user = value.get("user")
        return cls(
            type=str(value["type"]),
            offset=int(value["offset"]),
            length=int(value["length"]),
            url=value.get("url"),
            language=value.get("language"),
            custom_emoji_id=value.get("custom_emoji_id"),
            user_id=int(user["id"]) if isinstance(user, dict) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InlineButton:
    """One inline keyboard button, flattened for easy assertions."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileInfo:
    """A file the emulator can serve through getFile and the download route."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None  # seconds, for voice messages


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageVersion:
    """An earlier state of an edited message."""

    text: str
    raw_text: str
    parse_mode: str | None
    entities: tuple[Entity, ...]
    reply_markup: Mapping[str, Any] | None
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    """A message as it stands now in a chat, sent by the bot or by a simulated user.

    ``text`` is the plain text after parsing (the caption for documents and photos); ``raw_text``
    and ``parse_mode`` are what the bot sent. ``history`` holds earlier versions, oldest first.
    """

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    text: str
    raw_text: str
    parse_mode: str | None
    entities: tuple[Entity, ...]
    reply_markup: Mapping[str, Any] | None
    date: int
    sent_at: float
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    link_preview_options: Mapping[str, Any] | None = None
    document: FileInfo | None = None
    photo: FileInfo | None = None
    voice: FileInfo | None = None
    edit_date: int | None = None
    history: tuple[MessageVersion, ...] = ()
    deleted: bool = False

    @property
    def edited(self) -> bool:
        """Whether the message was edited at least once."""
        return bool(self.history)

    @property
    def buttons(self) -> tuple[tuple[InlineButton, ...], ...]:
        """The inline keyboard as rows of buttons (empty without one)."""
        if self.reply_markup is None:
            return ()
        rows = self.reply_markup.get("inline_keyboard", ())
        return tuple(
            tuple(
                InlineButton(
                    text=button["text"],
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                )
                for button in row
            )
            for row in rows
        )

    def entity_texts(self, entity_type: str) -> tuple[str, ...]:
        """The pieces of ``text`` covered by entities of ``entity_type`` ("bold", "code", ...)."""
        return tuple(
            _utf16_slice(self.text, entity.offset, entity.length)
            for entity in self.entities
            if entity.type == entity_type
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatAction:
    """A sendChatAction call ("typing", ...)."""

    chat_id: int
    action: str
    message_thread_id: int | None
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AnsweredCallback:
    """An answerCallbackQuery call that Telegram accepted."""

    callback_query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiCall:
    """One Bot API request and how the emulator answered it (status 0: connection dropped)."""

    method: str
    params: Mapping[str, Any]
    at: float
    status: int
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """Flood limits, defaulting to Telegram's published numbers.

    Telegram documents about one message per second per chat (short bursts allowed), 20 messages
    per minute per group and about 30 messages per second overall; edits count too in practice.
    Each limit is a token bucket: ``*_burst`` tokens, refilled at the given rate.
    """

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30
    count_edits: bool = True


# --- text markup: a port of tdlib's parsers ----------------------------------------------------


class MarkupError(ValueError):
    """Text markup Telegram refuses; the message is tdlib's, used after "can't parse entities: "."""


def _utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _utf16_slice(text: str, offset: int, length: int) -> str:
    if text.isascii():
        return text[offset : offset + length]
    units = text.encode("utf-16-le", errors="surrogatepass")
    piece = units[offset * 2 : (offset + length) * 2]
    return piece.decode("utf-16-le", errors="replace")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", errors="surrogatepass"))


_PRIORITY: Final = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _sorted(entities: Iterable[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 50)))


_LINK_USER: Final = re.compile(r"tg://user\?id=(\d+)", re.IGNORECASE)


def _link_user_id(url: str) -> int | None:
    match = _LINK_USER.fullmatch(url.strip())
    return int(match[1]) if match else None


def _checked_link(url: str) -> str:
    """Normalize a link like Telegram does, or return "" if Telegram would drop it."""
    url = url.strip()
    if not url or any(char.isspace() for char in url):
        return ""
    if url.lower().startswith(("tg:", "ton:")):
        return url
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unbalanced "[" in the host
        return ""
    if parts.scheme.lower() not in {"http", "https", "ftp"} or "." not in host:
        return ""
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, parts.fragment)
    )


_SPACES: Final = frozenset(" \t\r\n\v\f\0")
_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SIMPLE: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_TAG_ARGUMENTS: Final = {
    ("a", "href"): "",
    ("code", "class"): "language-",
    ("span", "class"): "tg-",
    ("tg-emoji", "emoji-id"): "",
}
_HTML_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPECIAL: Final = re.compile(r"[<&]")


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``pos`` like tdlib: only 4 names and numeric references, ``;`` optional.

    Returns:
        The character and the index after the reference, or None when tdlib would keep the ``&``
        as a literal character (that is not an error).
    """
    end = pos + 1
    code = 0
    if text.startswith("&#x", pos):
        end += 2
        while end < len(text) and text[end] in "0123456789abcdefABCDEF":
            code = code * 16 + int(text[end], 16)
            end += 1
    elif text.startswith("&#", pos):
        end += 1
        while end < len(text) and text[end] in "0123456789":
            code = code * 10 + int(text[end])
            end += 1
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _HTML_NAMED.get(text[pos + 1 : end])
        if named is None:
            return None
        code = ord(named)
    if code == 0 or code >= 0x10FFFF or (text[pos + 1] == "#" and end - pos >= 10):
        return None
    if end < len(text) and text[end] == ";":
        end += 1
    return chr(code), end


@dataclass(slots=True)
class _OpenTag:
    tag: str
    argument: str
    offset: int
    begin: int
    expandable: bool = False


class _HtmlParser:
    """tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp), state machine kept recognizable."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []
        self.nested: list[_OpenTag] = []

    def char(self, index: int) -> str:
        return self.text[index] if index < len(self.text) else "\0"

    def error(self, message: str, index: int) -> MarkupError:
        return MarkupError(f"{message} at byte offset {_byte_offset(self.text, index)}")

    def emit(self, piece: str) -> None:
        self.out.append(piece)
        self.utf16 += _utf16_len(piece)

    def parse(self) -> tuple[str, list[Entity]]:
        text = self.text
        while self.pos < len(text):
            match = _HTML_SPECIAL.search(text, self.pos)
            end = match.start() if match else len(text)
            if end > self.pos:
                self.emit(text[self.pos : end])
                self.pos = end
                continue
            if text[self.pos] == "&":
                decoded = _decode_html_entity(text, self.pos)
                if decoded is None:
                    self.emit("&")
                    self.pos += 1
                else:
                    self.emit(decoded[0])
                    self.pos = decoded[1]
            elif self.char(self.pos + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.nested:
            tag = self.nested[-1].tag
            raise MarkupError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        result = "".join(self.out)
        if any(0xD800 <= ord(char) <= 0xDFFF for char in result):
            raise MarkupError(
                "Text contains invalid Unicode characters after decoding HTML entities, check for "
                "unmatched surrogate code units"
            )
        entities = [
            replace(entity, language=None) if entity.type == "code" else entity
            for entity in self.entities
        ]
        return result, _sorted(entities)

    def start_tag(self) -> None:
        begin = self.pos
        i = begin + 1
        while self.char(i) not in _SPACES and self.char(i) != ">":
            i += 1
        if i >= len(self.text):
            raise self.error("Unclosed start tag", begin)
        tag = self.text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise self.error(f'Unsupported start tag "{tag}"', begin)
        self.pos = i
        argument, expandable = self.attributes(tag, begin)
        if tag == "span" and argument != "spoiler":
            raise self.error('Tag "span" must have class "tg-spoiler"', begin)
        self.nested.append(_OpenTag(tag, argument, self.utf16, len(self.out), expandable))
        self.pos += 1  # the ">"

    def attributes(self, tag: str, begin: int) -> tuple[str, bool]:
        """Read attributes up to ">"; returns the tag's argument and the expandable flag."""
        argument = ""
        expandable = False
        while True:
            self.skip_spaces()
            if self.char(self.pos) == ">":
                return argument, expandable
            if self.pos >= len(self.text):
                raise self.error("Unclosed start tag", begin)
            name, value = self.attribute(tag, begin)
            if value is None:
                expandable = True
                continue
            prefix = _TAG_ARGUMENTS.get((tag, name))
            if prefix is not None and value.startswith(prefix):
                argument = value.removeprefix(prefix)

    def attribute(self, tag: str, begin: int) -> tuple[str, str | None]:
        """Read ``name=value``; a bare ``expandable`` on blockquote gives a None value."""
        name_begin = self.pos
        while self.char(self.pos) not in _SPACES and self.char(self.pos) not in "=>":
            self.pos += 1
        name = self.text[name_begin : self.pos]
        if not name:
            raise self.error(f'Empty attribute name in the tag "{tag}"', begin)
        self.skip_spaces()
        if self.char(self.pos) != "=":
            if tag == "blockquote" and name.lower() == "expandable":
                return name, None
            raise self.error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}"', begin
            )
        self.pos += 1
        self.skip_spaces()
        if self.pos >= len(self.text):
            raise self.error(f'Unclosed start tag "{tag}"', begin)
        value = self.attribute_value()
        if self.pos >= len(self.text):
            raise self.error("Unclosed start tag", begin)
        return name, value

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACES:
            self.pos += 1

    def attribute_value(self) -> str:
        quote = self.char(self.pos)
        if quote not in {"'", '"'}:
            token_begin = self.pos
            while self.char(self.pos).isascii() and (
                self.char(self.pos).isalnum() or self.char(self.pos) in ".-"
            ):
                self.pos += 1
            if self.char(self.pos) not in _SPACES and self.char(self.pos) != ">":
                raise self.error("Unexpected end of name token", token_begin)
            return self.text[token_begin : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != quote:
            decoded = (
                _decode_html_entity(self.text, self.pos) if self.text[self.pos] == "&" else None
            )
            if decoded is None:
                value.append(self.text[self.pos])
                self.pos += 1
            else:
                value.append(decoded[0])
                self.pos = decoded[1]
        if self.char(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.nested:
            raise self.error("Unexpected end tag", begin)
        i = begin + 2
        while self.char(i) not in _SPACES and self.char(i) != ">":
            i += 1
        end_tag = self.text[begin + 2 : i].lower()
        while i < len(self.text) and self.text[i] in _SPACES:
            i += 1
        if self.char(i) != ">":
            raise self.error("Unclosed end tag", begin)
        top = self.nested[-1]
        if end_tag and end_tag != top.tag:
            raise MarkupError(
                f"Unmatched end tag at byte offset {_byte_offset(self.text, begin)}, "
                f'expected "</{top.tag}>", found "</{end_tag}>"'
            )
        if self.utf16 > top.offset:
            self.close_entity(top)
        self.nested.pop()
        self.pos = i + 1

    def close_entity(self, top: _OpenTag) -> None:
        offset, length = top.offset, self.utf16 - top.offset
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last.offset, last.length) == (offset, length)
        if top.tag in _HTML_SIMPLE:
            self.entities.append(Entity(type=_HTML_SIMPLE[top.tag], offset=offset, length=length))
        elif top.tag == "tg-emoji":
            if not top.argument.isdigit() or int(top.argument) == 0:
                raise MarkupError("Invalid custom emoji identifier specified")
            self.entities.append(
                Entity(
                    type="custom_emoji", offset=offset, length=length, custom_emoji_id=top.argument
                )
            )
        elif top.tag == "a":
            url = top.argument or "".join(self.out[top.begin :])
            self.entities.extend(_link_entity(url, offset, length))
        elif top.tag == "pre":
            if same_span and last is not None and last.type == "code" and last.language:
                self.entities[-1] = replace(last, type="pre")
            else:
                self.entities.append(Entity(type="pre", offset=offset, length=length))
        elif top.tag == "code":
            if same_span and last is not None and last.type == "pre" and top.argument:
                self.entities[-1] = replace(last, language=top.argument)
            else:
                self.entities.append(
                    Entity(type="code", offset=offset, length=length, language=top.argument or None)
                )
        else:  # blockquote
            kind = "expandable_blockquote" if top.expandable else "blockquote"
            self.entities.append(Entity(type=kind, offset=offset, length=length))


def _link_entity(url: str, offset: int, length: int) -> list[Entity]:
    user_id = _link_user_id(url)
    if user_id is not None:
        return [Entity(type="text_mention", offset=offset, length=length, user_id=user_id)]
    checked = _checked_link(url)
    if not checked:
        return []
    return [Entity(type="text_link", offset=offset, length=length, url=checked)]


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML flavour into plain text and entities.

    Raises:
        MarkupError: with tdlib's description of the first problem.
    """
    return _HtmlParser(text).parse()


_MD_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_MD_SCAN: Final = re.compile(r"[\\_*\[\]()~`>#+\-=|{}.!\n]")
_MD_SCAN_CODE: Final = re.compile(r"[\\`]")
_MD_CODE_KINDS: Final = frozenset({"code", "pre", "pre_code"})


@dataclass(slots=True)
class _OpenMark:
    kind: str
    argument: str
    offset: int
    index: int
    begin: int


class _MarkdownV2Parser:
    """tdlib's ``parse_markdown_v2``; ``pos`` walks the input, entities nest like a stack."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []
        self.nested: list[_OpenMark] = []
        self.have_blockquote = False

    def char(self, index: int) -> str:
        return self.text[index] if index < len(self.text) else "\0"

    def emit(self, piece: str) -> None:
        self.out.append(piece)
        self.utf16 += _utf16_len(piece)

    def reserved(self, index: int) -> MarkupError:
        char = self.text[index]
        return MarkupError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def parse(self) -> tuple[str, list[Entity]]:
        text = self.text
        while self.pos < len(text):
            in_code = bool(self.nested) and self.nested[-1].kind in _MD_CODE_KINDS
            match = (_MD_SCAN_CODE if in_code else _MD_SCAN).search(text, self.pos)
            end = match.start() if match else len(text)
            if end > self.pos:
                self.emit(text[self.pos : end])
                self.pos = end
                continue
            char = text[self.pos]
            if char == "\\":
                following = self.char(self.pos + 1)
                if following != "\0" and ord(following) <= 126:
                    self.emit(following)
                    self.pos += 2
                else:
                    self.emit(char)
                    self.pos += 1
                continue
            if self.is_end_of_entity(char):
                self.close_entity(char)
            else:
                self.open_entity(char)
            self.pos += 1
        if self.have_blockquote and self.nested and self.nested[-1].kind == "blockquote":
            top = self.nested.pop()
            if self.utf16 > top.offset:
                self.entities.append(
                    Entity(type="blockquote", offset=top.offset, length=self.utf16 - top.offset)
                )
        if self.nested:
            top = self.nested[-1]
            raise MarkupError(
                f"Can't find end of {_MD_NAMES[top.kind]} entity at byte offset "
                f"{_byte_offset(text, top.index)}"
            )
        return "".join(self.out), _sorted(self.entities)

    def is_end_of_entity(self, char: str) -> bool:
        if not self.nested:
            return False
        following = self.char(self.pos + 1)
        if self.have_blockquote and char == "\n" and following != ">":
            return True
        return {
            "bold": char == "*",
            "italic": char == "_" and following != "_",
            "code": char == "`",
            "pre": char == "`" and following == "`" and self.char(self.pos + 2) == "`",
            "pre_code": char == "`" and following == "`" and self.char(self.pos + 2) == "`",
            "text_link": char == "]",
            "underline": char == "_" and following == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and following == "|",
            "custom_emoji": char == "]",
            "blockquote": False,
        }[self.nested[-1].kind]

    def open_entity(self, char: str) -> None:  # noqa: C901 - tdlib's switch, one case per mark
        index = self.pos
        following = self.char(index + 1)
        kind: str | None
        argument = ""
        if char == "_":
            kind = "underline" if following == "_" else "italic"
            self.pos += kind == "underline"
        elif char in "*~[":
            kind = {"*": "bold", "~": "strikethrough", "[": "text_link"}[char]
        elif char == "|" and following == "|":
            kind = "spoiler"
            self.pos += 1
        elif char == "!" and following == "[":
            kind = "custom_emoji"
            self.pos += 1
        elif char == "`":
            kind, argument = self.open_code()
        elif char == "\n":
            self.emit("\n")
            kind = None
            if following == ">":
                self.pos += 1
                if not self.have_blockquote:
                    kind = "blockquote"
                    self.have_blockquote = True
        elif char == ">" and index == 0:
            kind = "blockquote"
            self.have_blockquote = True
        else:
            raise self.reserved(index)
        if kind is not None:
            self.nested.append(_OpenMark(kind, argument, self.utf16, index, len(self.out)))

    def open_code(self) -> tuple[str, str]:
        if not (self.char(self.pos + 1) == "`" and self.char(self.pos + 2) == "`"):
            return "code", ""
        self.pos += 3
        self.pos, language = _pre_header(self.text, self.pos)
        kind = "pre_code" if language else "pre"
        self.pos -= 1
        return kind, language

    def close_entity(self, char: str) -> None:
        top = self.nested.pop()
        if char == "\n" and top.kind != "blockquote":
            raise MarkupError(
                f"Can't find end of {_MD_NAMES[top.kind]} entity at byte offset "
                f"{_byte_offset(self.text, top.index)}"
            )
        empty = self.utf16 == top.offset
        if top.kind in {"text_link", "custom_emoji"}:
            self.entities.extend(self.close_link(top, empty=empty))
            return
        self.pos += {"underline": 1, "spoiler": 1, "pre": 2, "pre_code": 2}.get(top.kind, 0)
        if top.kind == "blockquote":
            self.have_blockquote = False
            self.emit("\n")  # tdlib counts the closing line break into the quote
        if not empty:
            self.entities.append(
                Entity(
                    type="pre" if top.kind == "pre_code" else top.kind,
                    offset=top.offset,
                    length=self.utf16 - top.offset,
                    language=top.argument or None,
                )
            )

    def close_link(self, top: _OpenMark, *, empty: bool) -> list[Entity]:
        """Finish ``[text](url)`` or ``![emoji](tg://emoji?id=...)``; the URL is always read."""
        length = self.utf16 - top.offset
        if top.kind == "custom_emoji":
            if self.char(self.pos + 1) != "(":
                raise MarkupError("Custom emoji entity must contain a tg://emoji URL")
            emoji_id = _custom_emoji_id(self.read_url("Can't find end of a custom emoji URL"))
            if empty:
                return []
            return [
                Entity(
                    type="custom_emoji", offset=top.offset, length=length, custom_emoji_id=emoji_id
                )
            ]
        if self.char(self.pos + 1) == "(":
            url = self.read_url("Can't find end of a URL")
        else:
            url = "".join(self.out[top.begin :])
        return [] if empty else _link_entity(url, top.offset, length)

    def read_url(self, error: str) -> str:
        self.pos += 2
        begin = self.pos
        url: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != ")":
            following = self.char(self.pos + 1)
            if self.text[self.pos] == "\\" and following != "\0" and ord(following) <= 126:
                url.append(following)
                self.pos += 2
                continue
            url.append(self.text[self.pos])
            self.pos += 1
        if self.char(self.pos) != ")":
            raise MarkupError(f"{error} at byte offset {_byte_offset(self.text, begin)}")
        return "".join(url)


def _custom_emoji_id(url: str) -> str:
    parts = urlsplit(url)
    ids = parse_qs(parts.query).get("id", [""])
    if parts.scheme.lower() != "tg" or parts.netloc.lower() != "emoji" or not ids[0].isdigit():
        raise MarkupError("Invalid custom emoji identifier specified")
    return ids[0]


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities.

    Raises:
        MarkupError: with tdlib's description of the first problem.
    """
    return _MarkdownV2Parser(text).parse()


def _pre_header(text: str, pos: int) -> tuple[int, str]:
    """After an opening triple backtick: read an optional language, skip one line break."""
    end = pos
    while end < len(text) and text[end] not in _SPACES and text[end] != "`":
        end += 1
    language = ""
    if end != pos and end < len(text) and text[end] != "`":
        language, pos = text[pos:end], end
    if text[pos : pos + 2] in {"\r\n", "\n\r"}:
        pos += 2
    elif text[pos : pos + 1] in {"\r", "\n"}:
        pos += 1
    return pos, language


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown: ``*bold*``, ``_italic_``, `` `code` ``, pre and ``[text](url)``.

    Raises:
        MarkupError: an entity is not closed.
    """
    out: list[str] = []
    entities: list[Entity] = []
    utf16 = 0
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\" and text[pos + 1 : pos + 2] in {"_", "*", "`", "["}:
            out.append(text[pos + 1])
            utf16 += 1
            pos += 2
            continue
        if char not in "_*`[":
            out.append(char)
            utf16 += _utf16_len(char)
            pos += 1
            continue
        begin = pos
        is_pre = text.startswith("```", pos)
        language = ""
        if is_pre:
            pos, language = _pre_header(text, pos + 3)
        else:
            pos += 1
        closing = "```" if is_pre else ("]" if char == "[" else char)
        end = text.find(closing, pos)
        if end < 0:
            raise MarkupError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        inner = text[pos:end]
        pos = end + len(closing)
        length = _utf16_len(inner)
        url = inner
        if char == "[" and text[pos : pos + 1] == "(":
            close = text.find(")", pos)
            close = len(text) if close < 0 else close
            url, pos = text[pos + 1 : close], close + 1
        if length:
            if char == "[":
                entities.extend(_link_entity(url, utf16, length))
            else:
                kind = {"_": "italic", "*": "bold"}.get(char, "pre" if is_pre else "code")
                entities.append(
                    Entity(type=kind, offset=utf16, length=length, language=language or None)
                )
        out.append(inner)
        utf16 += length
    return "".join(out), _sorted(entities)


_AUTO_PATTERNS: Final = (
    ("url", re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)),
    (
        "email",
        re.compile(
            r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
        ),
    ),
    ("mention", re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?![A-Za-z0-9_])(?!\w)")),
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])"),
    ),
    ("hashtag", re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}(?![\w#])")),
)
_OPAQUE: Final = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def _auto_entities(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """Entities Telegram detects by itself, outside code, pre and links the sender made."""
    taken = [(e.offset, e.offset + e.length) for e in entities if e.type in _OPAQUE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            piece = match[0].rstrip(".,:;!?") if kind == "url" else match[0]
            start = _utf16_len(text[: match.start()])
            span = (start, start + _utf16_len(piece))
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            found.append(Entity(type=kind, offset=span[0], length=span[1] - span[0]))
    return found


def _trim(text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities to match.

    As in tdlib's ``fix_formatted_text``, leading whitespace is only removed up to where the
    first entity begins, so a message opening with an indented ``pre`` line keeps its indent.
    """
    spaces = " \t\r\n\v\f"
    lead = len(text) - len(text.lstrip(spaces))  # whitespace is 1 UTF-16 unit per character
    if entities:
        lead = min(lead, *(entity.offset for entity in entities))
    stripped = text[lead:].rstrip(spaces)
    if stripped == text:
        return text, list(entities)
    head = lead
    size = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity.offset - head, 0)
        end = min(entity.offset + entity.length - head, size)
        if end > start:
            kept.append(replace(entity, offset=start, length=end - start))
    return stripped, kept


def _finalize(text: str, entities: Sequence[Entity]) -> tuple[str, tuple[Entity, ...]]:
    text, kept = _trim(text, entities)
    return text, tuple(_sorted([*kept, *_auto_entities(text, kept)]))


# --- the emulator ------------------------------------------------------------------------------


class _ApiError(Exception):
    """An error answer: HTTP status = ``error_code``, as the real Bot API does."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            result["parameters"] = {"retry_after": self.retry_after}
        return result


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Params:
    """Bot API parameters from the query, a form, multipart or JSON, coerced on demand.

    PTB sends every value as a form field string, JSON-encoding anything that is not a string
    (``reply_markup``, ``reply_parameters``, booleans, numbers); a JSON body carries native values.
    """

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def get(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value is None or value == "" else value

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value)

    def integer(self, name: str, *, missing: str | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            if missing is not None:
                raise _bad(missing)
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.get(name)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.get(name) in {True, "true", "True", "1"}

    def json_value(self, name: str, what: str) -> Any:
        value = self.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {what} JSON object") from None

    def summary(self) -> Mapping[str, Any]:
        values = dict(self.values)
        for name, upload in self.files.items():
            values[name] = f"<upload {upload.filename!r}, {len(upload.data)} bytes>"
        return MappingProxyType(values)


@dataclass(slots=True)
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass(slots=True)
class _Chat:
    info: SimChat
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    bot_message_ids: list[int] = field(default_factory=list)
    actions: list[ChatAction] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    bot_status: str = "member"  # in a group: "member", "left" or "kicked"
    bucket: _Bucket | None = None


@dataclass(frozen=True, slots=True)
class _Update:
    update_id: int
    kind: str
    payload: dict[str, Any]


@dataclass(slots=True)
class _Fault:
    method: str
    remaining: int
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    chat_id: str | None = None
    drop: bool = False
    after_processing: bool = False


@dataclass(slots=True)
class _Callback:
    user_id: int
    data: str | None
    created: float
    answered: bool = False


class TelegramEmulator:
    """A Bot API server on 127.0.0.1 plus the users, chats and observations tests need.

    All public methods are thread-safe (one re-entrant lock; waits use a condition variable, not
    polling). State is indexed per chat, so thousands of chats and updates stay cheap.

    Args:
        token: the bot token the client must use; other tokens get 401.
        bot_username: returned by getMe and used in ``/cmd@bot_username`` commands.
        bot_first_name: the bot's display name.
        host: address to bind.
        port: 0 picks a free port.
        rate_limits: enforce flood limits (off by default, see :class:`RateLimits`).
        first_update_id: the first update_id handed out.
        callback_answer_window: seconds within which a callback query may be answered (None: no
            limit; Telegram's is roughly 15 s).
        call_log_limit: how many API calls :meth:`calls` remembers.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "test_llm_bot",
        *,
        bot_first_name: str = "Test LLM Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = None,
        first_update_id: int = 1,
        callback_answer_window: float | None = None,
        call_log_limit: int = 100_000,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '123456:secret', got {token!r}")
        self.token: Final = token
        self.bot_id: Final = int(bot_id)
        self.bot_username: Final = bot_username
        self.bot_first_name: Final = bot_first_name
        self._callback_window = callback_answer_window
        self._cond = threading.Condition(threading.RLock())
        self._closed = False
        self._users: dict[int, SimUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._chats_by_username: dict[str, _Chat] = {}
        self._pending: collections.deque[_Update] = collections.deque()
        self._next_update_id = first_update_id
        self._confirmed_offset = 0
        self._allowed_updates = _DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._waiting_polls = 0
        self._callbacks: dict[str, _Callback] = {}
        self._answered: list[AnsweredCallback] = []
        self._files: dict[str, tuple[FileInfo, bytes]] = {}
        self._files_by_path: dict[str, str] = {}
        self._commands: dict[tuple[str, str], tuple[Mapping[str, Any], ...]] = {}
        self._calls: collections.deque[ApiCall] = collections.deque(maxlen=call_log_limit)
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._method_delays: dict[str, float] = {}
        self._rate_limits: RateLimits | None = None
        self._global_bucket: _Bucket | None = None
        self.set_rate_limits(rate_limits)
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("getUpdates", self._get_updates),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("sendMessage", self._send_message),
                ("editMessageText", self._edit_message_text),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("sendChatAction", self._send_chat_action),
                ("answerCallbackQuery", self._answer_callback_query),
                ("getFile", self._get_file),
                ("sendDocument", self._send_document),
            )
        }
        self._server = HttpServer(host=host, port=port, name="telegram-emulator")
        self._server.route("GET,POST", "/bot{token}/{method}", self._handle_api)
        self._server.route("GET", "/file/bot{token}/{path:path}", self._handle_file)
        self._server.set_fallback(lambda _request: self._error_reply(_ApiError(404, "Not Found")))
        self._server.on_close(self._wake_all)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving (see :meth:`HttpServer.start`)."""
        self._server.start()
        return self

    def close(self) -> None:
        """Stop serving; pending long polls return at once. Idempotent."""
        self._server.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: what the bot's ``api_base_url`` setting should be."""
        return self._server.base_url

    @property
    def bot_base_url(self) -> str:
        """PTB's ``Bot(base_url=...)``: PTB appends the token itself."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """PTB's ``Bot(base_file_url=...)``."""
        return f"{self.base_url}/file/bot"

    def _wake_all(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- simulated users and chats ---------------------------------------------------------------

    def user(
        self,
        id: int,  # noqa: A002 - mirrors the Bot API field
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
    ) -> SimUser:
        """Create (or update) a user who has started the bot, with their private chat."""
        user = SimUser(
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        info = SimChat(
            id=id, type="private", username=username, first_name=first_name, last_name=last_name
        )
        with self._cond:
            self._users[id] = user
            self._register_chat(info)
        return user

    def group(
        self,
        id: int,  # noqa: A002 - mirrors the Bot API field
        title: str,
        *,
        is_forum: bool = False,
        supergroup: bool = True,
        username: str | None = None,
        with_bot: bool = True,
    ) -> SimChat:
        """Create a group (ids of supergroups start with -100).

        The bot is a member from the start, as if added before the test; with ``with_bot``
        False it is not, until :meth:`add_bot_to_group`.
        """
        kind = "supergroup" if supergroup or is_forum else "group"
        info = SimChat(id=id, type=kind, title=title, username=username, is_forum=is_forum)
        with self._cond:
            self._register_chat(info)
            self._chats[id].bot_status = "member" if with_bot else "left"
        return info

    def add_bot_to_group(self, group: SimChat | int, *, by: SimUser | int) -> int:
        """``by`` adds the bot to ``group``: a ``my_chat_member`` update from "left" to "member".

        Returns:
            The update_id of the ``my_chat_member`` update queued for the bot.
        """
        return self._set_bot_status(group, by, "member")

    def remove_bot_from_group(
        self, group: SimChat | int, *, by: SimUser | int, kicked: bool = True
    ) -> int:
        """``by`` removes the bot (kicks it, or it is "left"): a ``my_chat_member`` update.

        From then on the bot's sends to the group fail with 403, as on Telegram.

        Returns:
            The update_id of the ``my_chat_member`` update queued for the bot.
        """
        return self._set_bot_status(group, by, "kicked" if kicked else "left")

    def _set_bot_status(self, group: SimChat | int, by: SimUser | int, status: str) -> int:
        with self._cond:
            sender = self._user(by)
            chat = self._target_chat(sender, group)
            if chat.info.type == "private":
                raise ValueError(f"chat {chat.info.id} is not a group")
            old = chat.bot_status
            if (old == "member") == (status == "member"):
                raise ValueError(f"the bot's status in chat {chat.info.id} is already {old!r}")
            chat.bot_status = status
            bot = self._bot_json()
            return self._push_update(
                "my_chat_member",
                {
                    "my_chat_member": {
                        "chat": chat.info.to_json(),
                        "from": sender.to_json(),
                        "date": int(time.time()),
                        "old_chat_member": _member_json(old, bot),
                        "new_chat_member": _member_json(status, bot),
                    }
                },
            )

    def set_blocked(self, user: SimUser | int, *, blocked: bool = True) -> None:
        """Make sends to the user's private chat fail with 403 like a user who blocked the bot."""
        with self._cond:
            self._chats[self._user(user).id].blocked = blocked

    def send_text(
        self,
        user: SimUser | int,
        text: str,
        *,
        chat: SimChat | int | None = None,
        reply_to: ChatMessage | int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """The user sends ``text`` (to their private chat unless ``chat`` is given).

        Commands, mentions, hashtags and URLs get entities as a Telegram client would make them.

        Returns:
            The update_id of the ``message`` update queued for the bot.
        """
        with self._cond:
            sender = self._user(user)
            target = self._target_chat(sender, chat)
            plain, entities = _finalize(text, ())
            if not plain:
                raise ValueError("Telegram clients do not send empty messages")
            message = self._add_message(
                target,
                sender_id=sender.id,
                text=plain,
                raw_text=text,
                entities=entities,
                reply_to_message_id=self._reply_id(target, reply_to),
                message_thread_id=thread_id,
            )
            return self._push_update("message", {"message": self._message_json(target, message)})

    def send_document(
        self,
        user: SimUser | int,
        data: bytes,
        *,
        file_name: str = "document.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat: SimChat | int | None = None,
        reply_to: ChatMessage | int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """The user sends a file; the bot can fetch it with getFile.

        Returns:
            The update_id of the ``message`` update.
        """
        info = self.register_file(data, file_name=file_name, mime_type=mime_type)
        return self._send_media(
            user,
            info,
            kind="document",
            caption=caption,
            chat=chat,
            reply_to=reply_to,
            thread_id=thread_id,
        )

    def send_photo(
        self,
        user: SimUser | int,
        data: bytes,
        *,
        width: int = 1280,
        height: int = 720,
        caption: str | None = None,
        chat: SimChat | int | None = None,
        reply_to: ChatMessage | int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """The user sends a photo (one size); the bot can fetch it with getFile.

        Returns:
            The update_id of the ``message`` update.
        """
        info = self.register_file(
            data, mime_type="image/jpeg", kind="photos", width=width, height=height
        )
        return self._send_media(
            user,
            info,
            kind="photo",
            caption=caption,
            chat=chat,
            reply_to=reply_to,
            thread_id=thread_id,
        )

    def send_voice(
        self,
        user: SimUser | int,
        data: bytes,
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        caption: str | None = None,
        chat: SimChat | int | None = None,
        reply_to: ChatMessage | int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """The user sends a voice message (OGG/Opus, as clients record it); getFile serves it.

        Returns:
            The update_id of the ``message`` update.
        """
        info = self.register_file(data, mime_type=mime_type, kind="voice", duration=duration)
        return self._send_media(
            user,
            info,
            kind="voice",
            caption=caption,
            chat=chat,
            reply_to=reply_to,
            thread_id=thread_id,
        )

    def _send_media(
        self,
        user: SimUser | int,
        info: FileInfo,
        *,
        kind: str,
        caption: str | None,
        chat: SimChat | int | None,
        reply_to: ChatMessage | int | None,
        thread_id: int | None,
    ) -> int:
        with self._cond:
            sender = self._user(user)
            target = self._target_chat(sender, chat)
            plain, entities = _finalize(caption or "", ())
            message = self._add_message(
                target,
                sender_id=sender.id,
                text=plain,
                raw_text=caption or "",
                entities=entities,
                reply_to_message_id=self._reply_id(target, reply_to),
                message_thread_id=thread_id,
                document=info if kind == "document" else None,
                photo=info if kind == "photo" else None,
                voice=info if kind == "voice" else None,
            )
            return self._push_update("message", {"message": self._message_json(target, message)})

    def press_button(
        self, user: SimUser | int, message: ChatMessage, callback_data: str, *, strict: bool = True
    ) -> int:
        """The user presses an inline button of a bot message.

        Args:
            user: who presses.
            message: the bot message (any snapshot of it; the current version is sent).
            callback_data: the button's data.
            strict: refuse data that no button of the current version carries, as a real client
                cannot press a button that is not there; pass False to fake a stale press.

        Returns:
            The update_id of the ``callback_query`` update (also its callback query id).

        Raises:
            ValueError: the message is unknown or deleted, or no such button (when strict).
        """
        with self._cond:
            sender = self._user(user)
            chat = self._chats.get(message.chat_id)
            current = chat.messages.get(message.message_id) if chat is not None else None
            if chat is None or current is None or current.deleted:
                raise ValueError(f"message {message.message_id} is not in chat {message.chat_id}")
            offered = {button.callback_data for row in current.buttons for button in row}
            if strict and callback_data not in offered:
                raise ValueError(f"no button with callback_data {callback_data!r}: {offered}")
            query_id = str(self._next_update_id)
            self._callbacks[query_id] = _Callback(sender.id, callback_data, time.monotonic())
            query = {
                "id": query_id,
                "from": sender.to_json(),
                "message": self._message_json(chat, current),
                "chat_instance": str(chat.info.id * 31 + self.bot_id),
                "data": callback_data,
            }
            return self._push_update("callback_query", {"callback_query": query})

    def register_file(
        self,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        kind: str = "documents",
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> FileInfo:
        """Store bytes the bot can download; returns the file's ids and path."""
        with self._cond:
            number = len(self._files) + 1
            suffix = "." + file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
            if kind == "photos":
                suffix = ".jpg"
            if kind == "voice":
                suffix = ".oga"  # what Telegram names voice files
            info = FileInfo(
                file_id=f"BQACAgIAAxkBAA{number:08d}",
                file_unique_id=f"AgAD{number:06d}",
                file_path=f"{kind}/file_{number}{suffix}",
                file_size=len(data),
                file_name=file_name,
                mime_type=mime_type,
                width=width,
                height=height,
                duration=duration,
            )
            self._files[info.file_id] = (info, bytes(data))
            self._files_by_path[info.file_path] = info.file_id
            return info

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a registered or uploaded file (KeyError if unknown)."""
        with self._cond:
            return self._files[file_id][1]

    # --- failure injection ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (optionally for one chat) with an error.

        A 429 carries ``parameters.retry_after`` (default 1 s) and Telegram's description, so PTB
        raises ``RetryAfter``; 5xx become ``NetworkError``, 400 ``BadRequest``, 403 ``Forbidden``.
        Failed calls have no effect.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
            )
        fault = _Fault(
            method=method.lower(),
            remaining=count,
            status=status,
            description=description,
            retry_after=retry_after,
            chat_id=None if chat_id is None else str(chat_id),
        )
        with self._cond:
            self._faults.append(fault)

    def drop_next(
        self,
        method: str,
        count: int = 1,
        *,
        after_processing: bool = False,
        chat_id: int | str | None = None,
    ) -> None:
        """Close the connection instead of answering the next ``count`` calls of ``method``.

        With ``after_processing`` the call takes effect first (the message is sent) and only the
        answer is lost: the case that makes naive retries send duplicates. ``chat_id`` limits
        the fault to calls for one chat.
        """
        fault = _Fault(
            method=method.lower(),
            remaining=count,
            drop=True,
            after_processing=after_processing,
            chat_id=None if chat_id is None else str(chat_id),
        )
        with self._cond:
            self._faults.append(fault)

    def set_delay(self, seconds: float, *, method: str | None = None) -> None:
        """Delay answers to every call (or to one method) by ``seconds``."""
        with self._cond:
            if method is None:
                self._delay = seconds
            else:
                self._method_delays[method.lower()] = seconds

    def set_rate_limits(self, limits: RateLimits | None) -> None:
        """Enforce flood limits from now on (None turns them off); buckets start full."""
        with self._cond:
            self._rate_limits = limits
            now = time.monotonic()
            self._global_bucket = (
                None
                if limits is None
                else _Bucket(
                    limits.global_per_second, limits.global_burst, limits.global_burst, now
                )
            )
            for chat in self._chats.values():
                chat.bucket = None

    # --- observation ------------------------------------------------------------------------------

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """What the bot sent to a chat, oldest first, deleted ones included (flagged)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [chat.messages[message_id] for message_id in chat.bot_message_ids]

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        """Any message of a chat, bot's or user's (KeyError if unknown)."""
        with self._cond:
            return self._chats[chat_id].messages[message_id]

    def chat_messages(self, chat_id: int) -> list[ChatMessage]:
        """Every message of a chat, users' and bot's, in the order sent (deleted ones flagged).

        What a Telegram client shows: the sandbox's web page draws a chat from it.
        """
        with self._cond:
            chat = self._chats.get(chat_id)
            # Ids grow as messages are added and edits replace in place: dict order is id order.
            return [] if chat is None else list(chat.messages.values())

    def chat_actions(self, chat_id: int) -> list[ChatAction]:
        """sendChatAction calls for a chat, oldest first."""
        with self._cond:
            chat = self._chats.get(chat_id)
            return [] if chat is None else list(chat.actions)

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        """Accepted answerCallbackQuery calls, oldest first."""
        with self._cond:
            return list(self._answered)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The API call log (bounded by ``call_log_limit``), optionally for one method."""
        with self._cond:
            if method is None:
                return list(self._calls)
            wanted = method.lower()
            return [call for call in self._calls if call.method.lower() == wanted]

    def pending_updates(self) -> list[Mapping[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset, as the bot will receive them."""
        with self._cond:
            return [_freeze(update.payload) for update in self._pending]

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting now: the bot is up and listening."""
        with self._cond:
            return self._waiting_polls > 0

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot has passed to getUpdates (0 before any)."""
        with self._cond:
            return self._confirmed_offset

    def my_commands(
        self, *, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[Mapping[str, Any]]:
        """The command list the bot set for a scope and language."""
        with self._cond:
            return list(self._commands.get((_scope_key(scope), language_code), ()))

    def wait_for(self, predicate: Callable[[], _T], *, timeout: float = 10.0) -> _T:
        """Block until ``predicate()`` returns something truthy, and return it.

        The predicate runs under the emulator's lock each time its state changes (no polling),
        so it may call the observation methods freely.

        Raises:
            TimeoutError: still falsy after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self._cond.wait(remaining)

    def wait_for_message(
        self,
        chat_id: int,
        *,
        containing: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[ChatMessage]:
        """Wait until the bot has ``count`` live messages in a chat (containing a text).

        Returns:
            All matching messages, oldest first (at least ``count``).

        Raises:
            TimeoutError: naming what the chat holds instead.
        """

        def matching() -> list[ChatMessage]:
            found = [
                message
                for message in self.bot_messages(chat_id)
                if not message.deleted and (containing is None or containing in message.text)
            ]
            return found if len(found) >= count else []

        try:
            return self.wait_for(matching, timeout=timeout)
        except TimeoutError:
            texts = [message.text[:80] for message in self.bot_messages(chat_id)[-5:]]
            raise TimeoutError(
                f"no {count} bot message(s) containing {containing!r} in chat {chat_id} within "
                f"{timeout} s; last bot messages: {texts}"
            ) from None

    # --- internals shared by the control API and the Bot API methods ------------------------------

    def _register_chat(self, info: SimChat) -> None:
        chat = self._chats.get(info.id)
        if chat is None:
            chat = self._chats[info.id] = _Chat(info)
        else:
            chat.info = info
        if info.username:
            self._chats_by_username[info.username.lower()] = chat

    def _user(self, user: SimUser | int) -> SimUser:
        user_id = user if isinstance(user, int) else user.id
        try:
            return self._users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}: create it with emu.user()") from None

    def _target_chat(self, sender: SimUser, chat: SimChat | int | None) -> _Chat:
        chat_id = sender.id if chat is None else chat if isinstance(chat, int) else chat.id
        try:
            return self._chats[chat_id]
        except KeyError:
            raise ValueError(f"unknown chat {chat_id}: create it with emu.group()") from None

    @staticmethod
    def _reply_id(chat: _Chat, reply_to: ChatMessage | int | None) -> int | None:
        if reply_to is None:
            return None
        message_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
        if message_id not in chat.messages:
            raise ValueError(f"message {message_id} is not in chat {chat.info.id}")
        return message_id

    def _add_message(
        self, chat: _Chat, *, sender_id: int, text: str, raw_text: str, **fields: Any
    ) -> ChatMessage:
        now = time.time()
        message = ChatMessage(
            chat_id=chat.info.id,
            message_id=chat.next_message_id,
            sender_id=sender_id,
            from_bot=sender_id == self.bot_id,
            text=text,
            raw_text=raw_text,
            parse_mode=fields.pop("parse_mode", None),
            entities=fields.pop("entities", ()),
            reply_markup=_freeze(fields.pop("reply_markup", None)),
            date=int(now),
            sent_at=now,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if message.from_bot:
            chat.bot_message_ids.append(message.message_id)
        self._cond.notify_all()
        return message

    def _push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._pending.append(_Update(update_id, kind, {"update_id": update_id, **payload}))
        self._cond.notify_all()
        return update_id

    def _bot_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _entity_json(self, entity: Entity) -> dict[str, Any]:
        result = entity.to_json()
        if entity.user_id is not None:
            user = self._users.get(entity.user_id)
            result["user"] = (
                user.to_json()
                if user is not None
                else {"id": entity.user_id, "is_bot": False, "first_name": "User"}
            )
        return result

    def _message_json(
        self, chat: _Chat, message: ChatMessage, *, nested: bool = False
    ) -> dict[str, Any]:
        sender = self._users.get(message.sender_id)
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_json() if message.from_bot or sender is None else sender.to_json(),
            "chat": chat.info.to_json(),
            "date": message.date,
        }
        if message.message_thread_id is not None:
            result["message_thread_id"] = message.message_thread_id
            if chat.info.is_forum:
                result["is_topic_message"] = True
        if message.reply_to_message_id is not None and not nested:
            replied = chat.messages.get(message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                result["reply_to_message"] = self._message_json(chat, replied, nested=True)
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        result.update(self._content_json(message))
        if message.link_preview_options is not None:
            result["link_preview_options"] = _thaw(message.link_preview_options)
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = _thaw(message.reply_markup)
        return result

    def _content_json(self, message: ChatMessage) -> dict[str, Any]:
        """Text and entities, or media with caption and caption entities."""
        entities = [self._entity_json(entity) for entity in message.entities]
        if message.document is None and message.photo is None and message.voice is None:
            return {"text": message.text, **({"entities": entities} if entities else {})}
        result: dict[str, Any] = {}
        if message.document is not None:
            result["document"] = _document_json(message.document)
        if message.photo is not None:
            result["photo"] = [_photo_json(message.photo)]
        if message.voice is not None:
            result["voice"] = _voice_json(message.voice)
        if message.text:
            result["caption"] = message.text
        if entities:
            result["caption_entities"] = entities
        return result

    # --- HTTP -------------------------------------------------------------------------------------

    def _error_reply(self, error: _ApiError) -> Reply:
        return json_response(error.payload(), error.code)

    def _handle_file(self, request: Request) -> Reply:
        if request.path_params["token"] != self.token:
            return self._error_reply(_ApiError(401, "Unauthorized"))
        with self._cond:
            file_id = self._files_by_path.get(request.path_params["path"])
            data = None if file_id is None else self._files[file_id][1]
        if data is None:
            return self._error_reply(_ApiError(404, "Not Found"))
        return bytes_response(data)

    def _handle_api(self, request: Request) -> Reply:
        name = request.path_params["method"]
        params: _Params | None = None
        fault: _Fault | None = None
        try:
            name, method = self._resolve_method(request)
            params = _request_params(request)
            with self._cond:
                delay = self._method_delays.get(name.lower(), self._delay)
            self._server.sleep(delay)
            fault = self._take_fault(name, params)
            if fault is not None and not fault.after_processing:
                self._record(name, params, 0, "connection dropped")
                return DROP
            result = method(params)
        except _ApiError as error:
            self._record(name, params, error.code, error.description)
            return self._error_reply(error)
        if fault is not None:
            self._record(name, params, 0, "connection dropped after processing")
            return DROP
        self._record(name, params, 200, None)
        return json_response({"ok": True, "result": result})

    def _resolve_method(self, request: Request) -> tuple[str, Callable[[_Params], Any]]:
        if request.path_params["token"] != self.token:
            raise _ApiError(401, "Unauthorized")
        entry = self._methods.get(request.path_params["method"].lower())
        if entry is None:
            raise _ApiError(404, "Not Found")
        return entry

    def _record(self, name: str, params: _Params | None, status: int, text: str | None) -> None:
        summary = params.summary() if params is not None else MappingProxyType({})
        call = ApiCall(method=name, params=summary, at=time.time(), status=status, description=text)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _take_fault(self, name: str, params: _Params) -> _Fault | None:
        """Consume the first fault armed for this call.

        Returns:
            A drop fault to act on, or None.

        Raises:
            _ApiError: an error fault.
        """
        chat_id = params.text("chat_id")
        with self._cond:
            for fault in self._faults:
                if fault.method == name.lower() and fault.chat_id in {None, chat_id}:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    if not fault.drop:
                        raise _ApiError(fault.status, fault.description, fault.retry_after)
                    return fault
        return None

    # --- Bot API methods --------------------------------------------------------------------------
    # Each runs on the connection's thread, takes the lock itself and raises _ApiError to refuse.

    def _get_me(self, _params: _Params) -> Any:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: _Params) -> Any:
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.json_value("allowed_updates", "allowed updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) or _DEFAULT_ALLOWED_UPDATES
            self._confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an earlier long poll now ends with 409
            while True:
                if self._poll_generation != generation:
                    raise _ApiError(409, _CONFLICT)
                wanted = self._allowed_updates
                batch = list(
                    itertools.islice(
                        (update.payload for update in self._pending if update.kind in wanted),
                        limit,
                    )
                )
                remaining = deadline - time.monotonic()
                if batch or self._closed or remaining <= 0:
                    return batch
                self._waiting_polls += 1
                self._cond.notify_all()  # for wait_for(lambda: emu.polling)
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting_polls -= 1

    def _confirm(self, offset: int) -> None:
        """Forget confirmed updates: those below a positive offset, all but -offset if negative."""
        if offset > 0:
            while self._pending and self._pending[0].update_id < offset:
                self._pending.popleft()
            self._confirmed_offset = max(self._confirmed_offset, offset)
        elif offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            if self._pending:
                self._confirmed_offset = max(self._confirmed_offset, self._pending[0].update_id)

    def _delete_webhook(self, params: _Params) -> Any:
        if params.flag("drop_pending_updates"):
            with self._cond:
                self._pending.clear()
                self._confirmed_offset = max(self._confirmed_offset, self._next_update_id)
        return True

    def _get_webhook_info(self, _params: _Params) -> Any:
        with self._cond:
            return {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }

    def _set_my_commands(self, params: _Params) -> Any:
        commands = params.json_value("commands", "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        with self._cond:
            self._commands[key] = tuple(_freeze(command) for command in commands)
        return True

    def _get_my_commands(self, params: _Params) -> Any:
        with self._cond:
            return [
                _thaw(command) for command in self._commands.get(self._commands_key(params), ())
            ]

    def _delete_my_commands(self, params: _Params) -> Any:
        with self._cond:
            self._commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: _Params) -> tuple[str, str]:
        scope = params.json_value("scope", "scope")
        return _scope_key(scope if isinstance(scope, dict) else None), params.text(
            "language_code"
        ) or ""

    def _send_message(self, params: _Params) -> Any:
        text, entities, raw, mode = _formatted(params, "text", caption=False)
        with self._cond:
            chat = self._chat(params)
            markup = _reply_markup(params)
            reply_to = self._reply_target(params, chat)
            thread_id = params.integer("message_thread_id")
            preview = _link_preview(params)
            self._check_flood(chat, edit=False)
            message = self._add_message(
                chat,
                sender_id=self.bot_id,
                text=text,
                raw_text=raw,
                parse_mode=mode,
                entities=entities,
                reply_markup=markup,
                reply_to_message_id=reply_to,
                message_thread_id=thread_id,
                link_preview_options=_freeze(preview),
            )
            return self._message_json(chat, message)

    def _send_document(self, params: _Params) -> Any:
        caption, entities, raw, mode = _formatted(params, "caption", caption=True)
        with self._cond:
            chat = self._chat(params)
            info = self._input_file(params, "document")
            markup = _reply_markup(params)
            reply_to = self._reply_target(params, chat)
            thread_id = params.integer("message_thread_id")
            self._check_flood(chat, edit=False)
            message = self._add_message(
                chat,
                sender_id=self.bot_id,
                text=caption,
                raw_text=raw,
                parse_mode=mode,
                entities=entities,
                reply_markup=markup,
                reply_to_message_id=reply_to,
                message_thread_id=thread_id,
                document=info,
            )
            return self._message_json(chat, message)

    def _input_file(self, params: _Params, name: str) -> FileInfo:
        upload = params.files.get(name)
        value = params.text(name)
        if upload is None and value is not None and value.startswith("attach://"):
            upload = params.files.get(value.removeprefix("attach://"))
        if upload is not None:
            return self.register_file(
                upload.data, file_name=upload.filename, mime_type=upload.content_type
            )
        if value is None:
            raise _bad(f"there is no {name} in the request")
        known = self._files.get(value)
        if known is not None:
            return known[0]
        if value.startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        raise _bad("wrong file identifier/HTTP URL specified")

    def _edit_message_text(self, params: _Params) -> Any:
        text, entities, raw, mode = _formatted(params, "text", caption=False)
        with self._cond:
            chat, message = self._editable(params)
            if message.document is not None or message.photo is not None:
                raise _bad("there is no text in the message to edit")
            markup = _reply_markup(params)
            if (text, entities, markup) == (
                message.text,
                message.entities,
                _thaw(message.reply_markup),
            ):
                raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
            self._check_flood(chat, edit=True)
            preview = _link_preview(params)
            return self._replace(
                chat,
                message,
                text=text,
                raw_text=raw,
                parse_mode=mode,
                entities=entities,
                reply_markup=_freeze(markup),
                link_preview_options=_freeze(preview),
            )

    def _edit_message_reply_markup(self, params: _Params) -> Any:
        with self._cond:
            chat, message = self._editable(params)
            markup = _reply_markup(params)
            if markup == _thaw(message.reply_markup):
                raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
            self._check_flood(chat, edit=True)
            return self._replace(chat, message, reply_markup=_freeze(markup))

    def _editable(self, params: _Params) -> tuple[_Chat, ChatMessage]:
        if params.get("inline_message_id") is not None:
            raise _bad("inline messages are not emulated")
        chat = self._chat(params)
        message_id = params.integer("message_id", missing="message identifier is not specified")
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return chat, message

    def _replace(self, chat: _Chat, message: ChatMessage, **changes: Any) -> Any:
        now = time.time()
        version = MessageVersion(
            text=message.text,
            raw_text=message.raw_text,
            parse_mode=message.parse_mode,
            entities=message.entities,
            reply_markup=message.reply_markup,
            at=message.sent_at if not message.history else message.history[-1].at,
        )
        edited = replace(
            message, edit_date=int(now), history=(*message.history, version), **changes
        )
        chat.messages[message.message_id] = edited
        self._cond.notify_all()
        return self._message_json(chat, edited)

    def _delete_message(self, params: _Params) -> Any:
        with self._cond:
            chat = self._chat(params)
            message_id = params.integer("message_id", missing="message identifier is not specified")
            message = chat.messages.get(message_id or 0)
            if message is None or message.deleted:
                raise _bad("message to delete not found")
            chat.messages[message.message_id] = replace(message, deleted=True)
            self._cond.notify_all()
        return True

    def _send_chat_action(self, params: _Params) -> Any:
        with self._cond:
            chat = self._chat(params)
            action = params.text("action")
            if action not in _CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            chat.actions.append(
                ChatAction(
                    chat_id=chat.info.id,
                    action=action,
                    message_thread_id=params.integer("message_thread_id"),
                    at=time.time(),
                )
            )
            self._cond.notify_all()
        return True

    def _answer_callback_query(self, params: _Params) -> Any:
        query_id = params.text("callback_query_id") or ""
        with self._cond:
            callback = self._callbacks.get(query_id)
            expired = (
                callback is not None
                and self._callback_window is not None
                and time.monotonic() - callback.created > self._callback_window
            )
            if callback is None or callback.answered or expired:
                raise _bad(_QUERY_TOO_OLD.removeprefix("Bad Request: "))
            callback.answered = True
            self._answered.append(
                AnsweredCallback(
                    callback_query_id=query_id,
                    user_id=callback.user_id,
                    data=callback.data,
                    text=params.text("text"),
                    show_alert=params.flag("show_alert"),
                    url=params.text("url"),
                    at=time.time(),
                )
            )
            self._cond.notify_all()
        return True

    def _get_file(self, params: _Params) -> Any:
        file_id = params.text("file_id") or ""
        with self._cond:
            known = self._files.get(file_id)
        if known is None:
            raise _bad("invalid file_id")
        info = known[0]
        if info.file_size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": info.file_size,
            "file_path": info.file_path,
        }

    # --- helpers of the methods -------------------------------------------------------------------

    def _chat(self, params: _Params) -> _Chat:
        raw = params.text("chat_id")
        if raw is None:
            raise _bad("chat_id is empty")
        if raw.startswith("@"):
            chat = self._chats_by_username.get(raw[1:].lower())
        else:
            try:
                chat = self._chats.get(int(raw))
            except ValueError:
                chat = None
        if chat is None:
            raise _bad("chat not found")
        if chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.bot_status == "kicked":
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat.info.type} chat")
        if chat.bot_status == "left":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.info.type} chat")
        return chat

    def _reply_target(self, params: _Params, chat: _Chat) -> int | None:
        reply = params.json_value("reply_parameters", "reply parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.integer("reply_to_message_id")
            allow_missing = params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        replied = chat.messages.get(int(message_id))
        if replied is None or replied.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return replied.message_id

    def _check_flood(self, chat: _Chat, *, edit: bool) -> None:
        limits = self._rate_limits
        if limits is None or self._global_bucket is None or (edit and not limits.count_edits):
            return
        now = time.monotonic()
        if chat.bucket is None:
            if chat.info.type == "private":
                rate, burst = limits.private_per_second, limits.private_burst
            else:
                rate, burst = limits.group_per_minute / 60, limits.group_burst
            chat.bucket = _Bucket(rate, burst, burst, now)
        wait = max(chat.bucket.wait_time(now), self._global_bucket.wait_time(now))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        chat.bucket.tokens -= 1
        self._global_bucket.tokens -= 1


def _request_params(request: Request) -> _Params:
    values: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and request.body:
        try:
            body = request.json()
        except ValueError:
            raise _bad("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad("can't parse JSON object")
        values.update(body)
    else:
        values.update(request.form)
    return _Params(values, request.files)


def _formatted(
    params: _Params, name: str, *, caption: bool
) -> tuple[str, tuple[Entity, ...], str, str | None]:
    """Parse a text or caption parameter like the Bot API: markup, trimming, limits.

    Returns:
        Plain text, entities, the raw parameter and the parse mode.
    """
    raw = params.text(name) or ""
    mode = params.text("parse_mode")
    parser = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
    try:
        if mode is not None:
            if mode.lower() not in parser:
                raise _bad("unsupported parse_mode")
            text, entities = parser[mode.lower()](raw)
        else:
            explicit = params.json_value("caption_entities" if caption else "entities", "entities")
            text, entities = raw, [Entity.from_json(entity) for entity in explicit or ()]
    except MarkupError as error:
        raise _bad(f"can't parse entities: {error}") from None
    except (KeyError, TypeError, ValueError):
        raise _bad("can't parse entities JSON object") from None
    text, final = _finalize(text, entities)
    if not caption and not text:
        raise _bad("message text is empty")
    if _utf16_len(text) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
        raise _bad("message caption is too long" if caption else "message is too long")
    return text, final, raw, mode


def _reply_markup(params: _Params) -> dict[str, Any] | None:
    markup = params.json_value("reply_markup", "reply keyboard markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not _BUTTON_ACTIONS & button.keys():
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
    ):
        raise _bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not (isinstance(url, str) and _checked_link(url)):
        raise _bad("BUTTON_URL_INVALID")


def _link_preview(params: _Params) -> dict[str, Any] | None:
    options = params.json_value("link_preview_options", "link preview options")
    if isinstance(options, dict):
        return options
    if params.flag("disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def _scope_key(scope: Mapping[str, Any] | None) -> str:
    if not scope or scope.get("type") == "default":
        return "default"
    return json.dumps(_thaw(scope), sort_keys=True)


def _member_json(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A Bot API ``ChatMember`` of ``status`` "member", "left" or "kicked" (banned for good)."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _document_json(info: FileInfo) -> dict[str, Any]:
    result: dict[str, Any] = {
        "file_id": info.file_id,
        "file_unique_id": info.file_unique_id,
        "file_size": info.file_size,
    }
    if info.file_name is not None:
        result["file_name"] = info.file_name
    if info.mime_type is not None:
        result["mime_type"] = info.mime_type
    return result


def _voice_json(info: FileInfo) -> dict[str, Any]:
    result: dict[str, Any] = {
        "file_id": info.file_id,
        "file_unique_id": info.file_unique_id,
        "duration": info.duration or 0,
        "file_size": info.file_size,
    }
    if info.mime_type is not None:
        result["mime_type"] = info.mime_type
    return result


def _photo_json(info: FileInfo) -> dict[str, Any]:
    return {
        "file_id": info.file_id,
        "file_unique_id": info.file_unique_id,
        "file_size": info.file_size,
        "width": info.width or 0,
        "height": info.height or 0,
    }
