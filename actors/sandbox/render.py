"""Draw a Telegram message (plain text plus entities) as safe HTML for the sandbox's web page.

Telegram clients never see the HTML a bot sends: the Bot API parses it into plain text and
*entities* (bold from offset 3, 5 UTF-16 units long, ...), and the client draws those. The
sandbox page does the same from what the Telegram emulator parsed, so what it shows is what a
Telegram user would see, not a second opinion on the bot's markup.

Safety: every piece of text is escaped, the only tags written are the fixed ones below, the
only attributes are escaped constants or escaped, scheme-checked links. So a message holding
``<script>`` or ``javascript:`` shows as text; the page's Content-Security-Policy is a second
fence. Entities may overlap (Telegram allows it for entities given explicitly); they are closed
and reopened around each other so the HTML stays well nested.
"""

from __future__ import annotations

import itertools
import re
from html import escape
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence


class EntityLike(Protocol):
    """What is read of a Bot API ``MessageEntity`` (the emulator's ``Entity`` fits)."""

    @property
    def type(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def url(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...


_SIMPLE: Final = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "mention": ('<span class="tg-mention">', "</span>"),
    "hashtag": ('<span class="tg-hashtag">', "</span>"),
    "cashtag": ('<span class="tg-hashtag">', "</span>"),
    "bot_command": ('<span class="tg-command">', "</span>"),
    "phone_number": ('<span class="tg-phone">', "</span>"),
    "text_mention": ('<span class="tg-mention">', "</span>"),
}
# Outer first when two entities start and end together: Telegram's own nesting order.
_PRIORITY: Final = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "url": 49,
    "email": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
}
_BLOCKS: Final = frozenset({"pre", "blockquote", "expandable_blockquote"})
_LINK_SCHEMES: Final = ("http://", "https://", "tg://", "mailto:")
_LANGUAGE: Final = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")


def safe_link(url: str) -> str | None:
    """``url`` if a browser may follow it from the page, else None (``javascript:``, ...).

    A bare ``example.com`` (an automatic ``url`` entity) gets ``http://`` as Telegram does.
    """
    url = url.strip()
    if not url or any(char.isspace() or ord(char) < 0x20 for char in url):  # noqa: PLR2004
        return None
    if url.lower().startswith(_LINK_SCHEMES):
        return url
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url) and not re.match(r"[^:/]+:\d", url):
        return None  # some other scheme
    return "http://" + url


def _tags(entity: EntityLike, covered: str) -> tuple[str, str]:
    """Opening and closing HTML of one entity; ``covered`` is the text it spans."""
    if entity.type in _SIMPLE:
        return _SIMPLE[entity.type]
    if entity.type == "pre":
        language = entity.language or ""
        if _LANGUAGE.fullmatch(language):
            return f'<pre data-language="{escape(language)}">', "</pre>"
        return "<pre>", "</pre>"
    target: str | None = None
    if entity.type == "text_link":
        target = safe_link(entity.url or "")
    elif entity.type == "url":
        target = safe_link(covered)
    elif entity.type == "email":
        target = "mailto:" + covered.strip()
    if target is None:
        return "<span>", "</span>"  # an unknown entity, or a link not worth following
    href = escape(target, quote=True)
    return f'<a href="{href}" target="_blank" rel="noopener noreferrer">', "</a>"


def _unit_to_index(text: str) -> list[int]:
    """Python string index at each UTF-16 offset (an offset inside a pair maps to its end)."""
    table = [0]
    for index, char in enumerate(text, start=1):
        if ord(char) > 0xFFFF:  # noqa: PLR2004 - outside the BMP: two UTF-16 units
            table.append(index)
        table.append(index)
    return table


def message_html(text: str, entities: Sequence[EntityLike]) -> str:
    """Render ``text`` with its entities as HTML for the page; the text itself is escaped.

    Newlines stay newlines (the page shows messages with ``white-space: pre-wrap``). Entities
    of zero length or outside the text are ignored, as Telegram ignores them.
    """
    to_index = _unit_to_index(text)
    last = len(to_index) - 1
    spans: list[tuple[int, int, int, EntityLike]] = []
    for order, entity in enumerate(entities):
        start = to_index[max(0, min(entity.offset, last))]
        end = to_index[max(0, min(entity.offset + entity.length, last))]
        if end > start:
            spans.append((start, end, order, entity))
    bounds = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    block_ends = {end for _, end, _, entity in spans if entity.type in _BLOCKS}
    out: list[str] = []
    stack: list[tuple[int, int, int, EntityLike]] = []
    closing: dict[int, str] = {}
    for start, end in itertools.pairwise(bounds):
        active = [span for span in spans if span[0] <= start and span[1] >= end]
        keep = 0
        while keep < len(stack) and stack[keep] in active:
            keep += 1
        while len(stack) > keep:
            out.append(closing.pop(stack.pop()[2]))
        opening = [span for span in active if span not in stack]
        opening.sort(key=lambda span: (-span[1], _PRIORITY.get(span[3].type, 50), span[2]))
        for span in opening:
            begin, finish = _tags(span[3], text[span[0] : span[1]])
            out.append(begin)
            closing[span[2]] = finish
            stack.append(span)
        piece = text[start:end]
        if start in block_ends and piece.startswith("\n"):
            piece = piece[1:]  # a block already ends its line, as in Telegram's clients
        out.append(escape(piece, quote=False))
    out.extend(closing.pop(span[2]) for span in reversed(stack))
    return "".join(out)
