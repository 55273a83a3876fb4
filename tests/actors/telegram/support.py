"""Shared by the render and split tests: a strict Telegram HTML checker, generated Markdown."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

from hypothesis import strategies as st

ALLOWED_TAGS: Final = frozenset(
    {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"},
)
ALLOWED_ATTRIBUTES: Final = {"a": {"href"}, "code": {"class"}}

# Pieces of Markdown syntax, so generated text exercises every construct.
_MARKDOWN_PIECES = st.sampled_from(
    [
        *"*_`~[]()!#>-+|\\<>&\"'.:=\t\n 1abé😀\u200d",
        *["```", "\n\n", "    ", "**", "~~", "1. ", "- ", "> ", "|---|", "&amp;"],
        *["](https://x.org)", "](javascript:x)"],
    ],
)
markdown_texts: Final = st.lists(_MARKDOWN_PIECES | st.text(max_size=4), max_size=80).map("".join)

_TAG = re.compile(r"<[^<>]*>")
_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9A-Fa-f]+);)")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not one Telegram knows")
        for name, _ in attrs:
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")


def html_problems(html: str) -> list[str]:
    """Everything in ``html`` that Telegram's HTML parser would refuse (empty when valid)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = checker.problems + [f"<{tag}> left open" for tag in checker.stack]
    outside_tags = _TAG.sub("", html)
    if "<" in outside_tags or ">" in outside_tags:
        problems.append("unescaped < or > in text")
    problems.extend(f"bare & at {match.start()}" for match in _AMPERSAND.finditer(html))
    return problems
