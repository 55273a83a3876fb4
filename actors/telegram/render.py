"""Turn an LLM's Markdown answer into the HTML that Telegram's Bot API accepts.

Telegram's ``parse_mode="HTML"`` understands a handful of tags (``b``, ``i``, ``u``, ``s``,
``code``, ``pre``, ``a href``, ``blockquote``, ``tg-spoiler``) and rejects the whole message
("can't parse entities") on anything else: an unknown tag, an unclosed one, a stray ``<`` or
``&``. So the Markdown is parsed with markdown-it-py and every node of its syntax tree is
written out by hand here, escaping all text; nothing from the answer reaches the output
unescaped, raw HTML in the answer included.

The same answer is re-rendered many times while it streams in, so an unfinished draft must
render too: markdown-it closes an open code fence at the end of the text and leaves an unclosed
``**`` or backtick as literal text, and every tag written here is closed by the code that
opened it.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from html import escape
from typing import TYPE_CHECKING, Final

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

if TYPE_CHECKING:
    from collections.abc import Iterable

# Links with any other scheme (javascript:, file:, relative paths, ...) are shown as their text.
_SAFE_SCHEMES: Final = frozenset({"http", "https", "tg", "mailto"})
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_TAG: Final = re.compile(r"<[^<>]*>")
# Telegram knows only these named entities, and every numeric one.
_ENTITY: Final = re.compile(r"&(?:#([0-9]+)|#[xX]([0-9A-Fa-f]+)|(lt|gt|amp|quot));")
_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
# Text the fast path may render without the parser (see _is_plain): no character that can
# start inline markup or an entity, no control character, no whitespace but spaces and
# newlines, and no line that can open a block.
_NOT_PLAIN: Final = re.compile(r"[`*_~\[\]<>&\\|\x00-\x09\x0b-\x1f\x7f-\x9f]|[^\S \n]")
_BLOCK_START: Final = re.compile(r"^(?: *(?:[-+=#>]|\d+[.)])|    )", re.MULTILINE)
_BLANK_LINE: Final = re.compile(r"\n *\n[ \n]*")
_BULLET: Final = "•"
_RULE: Final = "─" * 12


def markdown_to_html(text: str) -> str:
    """Render Markdown (CommonMark plus tables and ``~~strike~~``) as Telegram HTML.

    Headings become a bold line, lists become ``•``/``1.`` lines indented by nesting, tables a
    monospace ``<pre>`` block, images links, nested quotes one quote; blocks are separated by a
    blank line. The result may be empty (a draft holding only ``"```"``, say): Telegram refuses
    to send an empty message, so the caller must skip it.
    """
    # A lone surrogate (possible after JSON decoding) cannot be sent to Telegram at all.
    text = _SURROGATE.sub("\ufffd", text)
    return _plain_paragraphs(text) if _is_plain(text) else _parsed(text)


def _parsed(text: str) -> str:
    root = SyntaxTreeNode(_PARSER.parse(text))
    return _blocks(root.children, _Context()).strip()


# Built once: building a parser (its rule chains, its renderer) costs more than parsing a
# short answer. Parsing does not change it, so any thread may use it.
_PARSER: Final = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _is_plain(text: str) -> bool:
    """True if ``text`` is paragraphs of plain words: what the parser would leave as it is.

    Most short replies and every draft of a first sentence are; they skip the parser (a
    third of the event loop's rendering time in a burst). The test suite checks that both
    paths agree on every text this accepts.
    """
    return _NOT_PLAIN.search(text) is None and _BLOCK_START.search(text) is None


def _plain_paragraphs(text: str) -> str:
    """What the parser makes of plain paragraphs: lines trimmed, one blank line between."""
    paragraphs = (
        "\n".join(line.strip(" ") for line in paragraph.strip(" \n").split("\n"))
        for paragraph in _BLANK_LINE.split(text)
    )
    return _text("\n\n".join(p for p in paragraphs if p))


def html_to_plain(html: str) -> str:
    """Return the text Telegram would display for ``html``: tags dropped, entities decoded.

    Used to measure a message and as the fallback body when Telegram rejects the entities.
    Whitespace is kept as it is (Telegram itself trims the ends of a message).
    """
    return _ENTITY.sub(_decode_entity, _TAG.sub("", html))


def telegram_length(text: str) -> int:
    """Count ``text`` the way Telegram's limits do: in UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True, slots=True)
class _Context:
    """Where in the tree a node sits, for the constructs Telegram cannot nest."""

    in_link: bool = False
    in_quote: bool = False


def _blocks(nodes: Iterable[SyntaxTreeNode], ctx: _Context, separator: str = "\n\n") -> str:
    return separator.join(part for node in nodes if (part := _block(node, ctx)))


def _block(node: SyntaxTreeNode, ctx: _Context) -> str:  # noqa: PLR0911 - one case per construct
    match node.type:
        case "paragraph":
            return _inline_block(node, ctx)
        case "heading":
            return _wrap("b", _inline_block(node, ctx))
        case "fence" | "code_block":
            return _code_block(node)
        case "bullet_list" | "ordered_list":
            return _list(node, ctx)
        case "blockquote":
            inner = _blocks(node.children, replace(ctx, in_quote=True))
            # Telegram cannot nest quotes: an inner quote joins the outer one.
            return inner if ctx.in_quote else _wrap("blockquote", inner)
        case "hr":
            return _RULE
        case "table":
            return _table(node)
        case _:  # html_block and anything newer: shown as text, never passed through
            return _text(node.content.strip("\n"))


def _inline_block(node: SyntaxTreeNode, ctx: _Context) -> str:
    return "".join(_inlines(child.children, ctx) for child in node.children)


def _inlines(nodes: Iterable[SyntaxTreeNode], ctx: _Context) -> str:
    return "".join(_inline(node, ctx) for node in nodes)


def _inline(node: SyntaxTreeNode, ctx: _Context) -> str:  # noqa: PLR0911 - one case per construct
    match node.type:
        case "text":
            return _text(node.content)
        case "softbreak" | "hardbreak":
            return "\n"
        case "code_inline":
            return _wrap("code", _text(node.content))
        case "strong":
            return _wrap("b", _inlines(node.children, ctx))
        case "em":
            return _wrap("i", _inlines(node.children, ctx))
        case "s":
            return _wrap("s", _inlines(node.children, ctx))
        case "link":
            return _link(node, ctx)
        case "image":
            return _image(node, ctx)
        case _:  # html_inline and anything newer: shown as text, never passed through
            return _text(node.content)


def _link(node: SyntaxTreeNode, ctx: _Context) -> str:
    href = str(node.attrs.get("href", ""))
    inner = _inlines(node.children, replace(ctx, in_link=True))
    if ctx.in_link or not _is_safe(href):
        return inner
    if not html_to_plain(inner).strip():
        inner = _text(href)
    return f'<a href="{_attribute(href)}">{inner}</a>'


def _image(node: SyntaxTreeNode, ctx: _Context) -> str:
    src = str(node.attrs.get("src", ""))
    alt = _text(_plain(node.children))
    if ctx.in_link or not _is_safe(src):
        return alt
    return f'<a href="{_attribute(src)}">{alt or _text(src)}</a>'


def _is_safe(url: str) -> bool:
    scheme = _SCHEME.match(url)
    return scheme is not None and scheme.group(1).lower() in _SAFE_SCHEMES


def _code_block(node: SyntaxTreeNode) -> str:
    code = node.content.removesuffix("\n")
    if not code.strip():
        return ""
    words = node.info.split(maxsplit=1)
    if not words:
        return f"<pre>{_text(code)}</pre>"
    language = _attribute(words[0])
    return f'<pre><code class="language-{language}">{_text(code)}</code></pre>'


def _list(node: SyntaxTreeNode, ctx: _Context) -> str:
    start = int(node.attrs.get("start", 1))
    items = []
    for number, item in enumerate(node.children, start):
        # "1. 1. 1." numbers itself in Markdown: count rather than copy the markers.
        marker = f"{number}. " if node.type == "ordered_list" else f"{_BULLET} "
        body = _blocks(item.children, ctx, separator="\n")
        items.append(_hang(marker, body) if body else marker.rstrip())
    return "\n".join(items)


def _hang(marker: str, body: str) -> str:
    """Put ``marker`` before ``body`` and indent its other lines under the marker's text.

    Code blocks are not indented (Telegram draws them as boxes of their own) and lines inside
    them keep their own indentation, so copied code stays as written. Text is escaped, so every
    ``<pre>`` in ``body`` is a tag this module wrote.
    """
    indent = " " * len(marker)
    lines = body.split("\n")
    out = [marker + lines[0]]
    depth = lines[0].count("<pre>") - lines[0].count("</pre>")
    for line in lines[1:]:
        indented = line and depth == 0 and not line.startswith("<pre>")
        out.append(indent + line if indented else line)
        depth += line.count("<pre>") - line.count("</pre>")
    return "\n".join(out)


def _table(node: SyntaxTreeNode) -> str:
    """Lay a table out as aligned monospace text: Telegram has no table markup."""
    rows: list[list[str]] = []
    aligns: list[str] = []
    for section in node.children:
        for table_row in section.children:
            rows.append([_cell_text(cell) for cell in table_row.children])
            if not aligns:
                aligns = [str(cell.attrs.get("style", "")) for cell in table_row.children]
    if not rows:
        return ""
    widths = [0] * max(len(row) for row in rows)
    for row in rows:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], _width(cell))
    lines = [_table_row(row, widths, aligns) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    layout = "\n".join(lines)
    return f"<pre>{_text(layout)}</pre>"


def _cell_text(cell: SyntaxTreeNode) -> str:
    return "".join(_plain(inline.children) for inline in cell.children)


def _table_row(row: list[str], widths: list[int], aligns: list[str]) -> str:
    cells = []
    for column, width in enumerate(widths):
        cell = row[column] if column < len(row) else ""
        gap = width - _width(cell)
        align = aligns[column] if column < len(aligns) else ""
        if align.endswith("right"):
            cells.append(" " * gap + cell)
        elif align.endswith("center"):
            cells.append(" " * (gap // 2) + cell + " " * (gap - gap // 2))
        else:
            cells.append(cell + " " * gap)
    return " | ".join(cells).rstrip()


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospace font: wide East Asian characters take two."""
    return sum(
        0
        if unicodedata.category(char) in {"Mn", "Me", "Cf"}
        else 2
        if unicodedata.east_asian_width(char) in {"W", "F"}
        else 1
        for char in text
    )


def _plain(nodes: Iterable[SyntaxTreeNode]) -> str:
    """The text of inline nodes without any markup (for table cells and image captions)."""
    parts = []
    for node in nodes:
        if node.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif node.children:
            parts.append(_plain(node.children))
        else:
            parts.append(node.content)
    return "".join(parts)


def _wrap(tag: str, inner: str) -> str:
    return f"<{tag}>{inner}</{tag}>" if inner else ""


def _text(text: str) -> str:
    return escape(text, quote=False)


def _attribute(value: str) -> str:
    return escape(value, quote=False).replace('"', "&quot;")


def _decode_entity(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if name:
        return _NAMED[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if not 0 < code <= sys.maxunicode:
        return "\ufffd"
    return _SURROGATE.sub("\ufffd", chr(code))
