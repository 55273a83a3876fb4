"""Cut a long answer into Telegram messages that each fit the message limit.

Telegram counts the limit (4096) on the text it displays, in UTF-16 code units, after parsing
the HTML. So the HTML is read once into its displayed text plus the tags between characters;
cuts are chosen on the text, preferring a blank line, then a line break, then a space, and only
then the middle of a word (never inside a character's UTF-16 pair, and where possible not
between an emoji and its modifiers); each piece is written back as HTML with the tags that were
open at the cut closed at its end and re-opened, attributes and all, at the start of the next.
Whitespace at a cut is dropped, except the indentation at the start of a line of code.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from html import escape
from itertools import accumulate
from typing import TYPE_CHECKING, Final

from actors.telegram.render import html_to_plain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MESSAGE_LIMIT: Final = 4096
_TAG: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*>|<[^<>]*>")
_ASTRAL: Final = re.compile(r"[\U00010000-\U0010FFFF]")
_ZWJ: Final = "\u200d"
# What attaches to the character before it, besides combining marks: variation selectors, skin
# tones and the tag characters of subdivision flags.
_MODIFIER: Final = re.compile("[\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
_REGIONAL: Final = re.compile("[\U0001f1e6-\U0001f1ff]")
_MARKS: Final = frozenset({"Mn", "Mc", "Me"})
# A separator this early in the window would make a needlessly short message: look further.
_SHORTEST_SHARE: Final = 3
# How far back from a hard cut to look for a place between two graphemes.
_GRAPHEME_LOOKBACK: Final = 32


def split_html(html: str, limit: int = MESSAGE_LIMIT) -> tuple[str, ...]:
    """Split Telegram HTML into messages whose displayed text has at most ``limit`` units.

    Every piece is valid HTML on its own and holds some visible text; an answer with none
    gives ``()``. The tags in ``html`` are expected to be balanced; a stray closing tag is
    dropped rather than passed on.

    Raises:
        ValueError: ``limit`` is below 2, too small to hold an emoji.
    """
    text, tags = _parse(html)
    code = _CodeSpans(tags, len(text))
    pieces = []
    stack: list[_Tag] = []
    pending = iter(tags)
    tag = next(pending, None)
    for start, stop in _spans(text, limit, code.contains):
        while tag is not None and tag.position <= start:
            _apply(tag, stack)
            tag = next(pending, None)
        out = [opened.raw for opened in stack]
        cursor = start
        while tag is not None and tag.position < stop:
            out.append(escape(text[cursor : tag.position], quote=False))
            out.extend(_apply(tag, stack))
            cursor = tag.position
            tag = next(pending, None)
        out.append(escape(text[cursor:stop], quote=False))
        out.extend(f"</{opened.name}>" for opened in reversed(stack))
        pieces.append("".join(out))
    return tuple(pieces)


def split_plain(text: str, limit: int = MESSAGE_LIMIT) -> tuple[str, ...]:
    """Split plain text into messages of at most ``limit`` UTF-16 units, cutting as ``split_html``.

    Raises:
        ValueError: ``limit`` is below 2, too small to hold an emoji.
    """
    return tuple(text[start:stop] for start, stop in _spans(text, limit, lambda _: False))


@dataclass(frozen=True, slots=True)
class _Tag:
    """A tag of the HTML, standing before the character at ``position`` of the text."""

    position: int
    name: str
    raw: str
    closing: bool


def _parse(html: str) -> tuple[str, list[_Tag]]:
    """Read ``html`` into its displayed text and its tags, in order."""
    parts: list[str] = []
    tags: list[_Tag] = []
    length = 0
    last = 0
    for match in _TAG.finditer(html):
        part = html_to_plain(html[last : match.start()])
        parts.append(part)
        length += len(part)
        last = match.end()
        closing, name = match.group(1, 2)
        raw = match.group()
        # Nameless and self-closing tags display nothing and Telegram has none: dropped.
        if name and not raw.endswith("/>"):
            tags.append(_Tag(position=length, name=name.lower(), raw=raw, closing=bool(closing)))
    parts.append(html_to_plain(html[last:]))
    return "".join(parts), tags


def _apply(tag: _Tag, stack: list[_Tag]) -> list[str]:
    """Update the open tags for ``tag``; return the markup that writes the change."""
    if not tag.closing:
        stack.append(tag)
        return [tag.raw]
    names = [opened.name for opened in stack]
    if tag.name not in names:
        return []
    closed = []
    while stack:
        opened = stack.pop()
        closed.append(f"</{opened.name}>")
        if opened.name == tag.name:
            break
    return closed


class _CodeSpans:
    """Which characters of the text lie in a ``<pre>`` block, whose indentation matters."""

    def __init__(self, tags: list[_Tag], end: int) -> None:
        self._starts: list[int] = []
        self._stops: list[int] = []
        depth = 0
        for tag in tags:
            if tag.name != "pre":
                continue
            if not tag.closing:
                if depth == 0:
                    self._starts.append(tag.position)
                depth += 1
            elif depth:
                depth -= 1
                if depth == 0:
                    self._stops.append(tag.position)
        if depth:
            self._stops.append(end)

    def contains(self, index: int) -> bool:
        span = bisect_right(self._starts, index) - 1
        return span >= 0 and index < self._stops[span]


def _spans(text: str, limit: int, keeps_spaces: Callable[[int], bool]) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` of each message's text, trimmed, never empty."""
    if limit < 2:  # noqa: PLR2004 - the two units of one astral-plane character
        raise ValueError(f"a Telegram message limit must be at least 2, got {limit}")
    window = _Window(text, limit)
    start = _skip_spaces(text, 0, keeps_spaces)
    while start < len(text):
        end = window.end(start)
        stop, resume = (end, end) if end == len(text) else _cut(text, start, end)
        trimmed = stop
        while trimmed > start and text[trimmed - 1].isspace():
            trimmed -= 1
        if trimmed > start:
            yield start, trimmed
        start = _skip_spaces(text, resume, keeps_spaces)


class _Window:
    """Finds how far a message starting at some index may reach within the limit."""

    def __init__(self, text: str, limit: int) -> None:
        self._limit = limit
        self._length = len(text)
        # Only astral-plane characters count twice; most answers have none.
        self._units: list[int] | None = None
        if _ASTRAL.search(text):
            self._units = [0, *accumulate(2 if char > "\uffff" else 1 for char in text)]

    def end(self, start: int) -> int:
        """The largest ``end`` such that ``text[start:end]`` fits the limit."""
        if self._units is None:
            return min(self._length, start + self._limit)
        return bisect_right(self._units, self._units[start] + self._limit, lo=start) - 1


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Choose where the message ``text[start:end]`` ends and where the next one resumes."""
    earliest = max(start + 1, start + (end - start) // _SHORTEST_SHARE)
    for separator in ("\n\n", "\n"):
        found = text.rfind(separator, earliest, end + len(separator))
        if found >= 0:
            return found, found + len(separator)
    found = max(text.rfind(" ", start + 1, end + 1), text.rfind("\t", start + 1, end + 1))
    if found >= 0:
        return found, found + 1
    for cut in range(end, max(start, end - _GRAPHEME_LOOKBACK), -1):
        if not _joined(text, cut):
            return cut, cut
    return end, end


def _joined(text: str, index: int) -> bool:
    """Whether cutting before ``text[index]`` would split one visible character."""
    before, after = text[index - 1], text[index]
    if _ZWJ in {before, after} or _MODIFIER.match(after) or unicodedata.category(after) in _MARKS:
        return True
    if _REGIONAL.match(before) and _REGIONAL.match(after):
        run = 0
        while index - run - 1 >= 0 and _REGIONAL.match(text[index - run - 1]):
            run += 1
        return run % 2 == 1  # inside a flag, which is a pair of regional indicators
    return False


def _skip_spaces(text: str, index: int, keeps_spaces: Callable[[int], bool]) -> int:
    """Skip whitespace at a cut; in code, only line breaks, keeping a line's indentation."""
    while index < len(text) and text[index].isspace():
        if text[index] != "\n" and keeps_spaces(index):
            break
        index += 1
    return index
