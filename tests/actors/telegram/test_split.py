from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.telegram.render import html_to_plain, markdown_to_html, telegram_length
from actors.telegram.split import MESSAGE_LIMIT, split_html, split_plain
from tests.actors.telegram.support import html_problems, markdown_texts

_PYTHON_PRE = '<pre><code class="language-python">'


def _displayed(chunks: tuple[str, ...]) -> list[str]:
    return [html_to_plain(chunk) for chunk in chunks]


def _assert_pieces_of(original: str, pieces: list[str]) -> None:
    """Each piece is the next run of ``original``, with only whitespace left out between."""
    position = 0
    for piece in pieces:
        found = original.find(piece, position)
        assert found >= 0, piece
        assert not original[position:found].strip(), original[position:found]
        position = found + len(piece)
    assert not original[position:].strip()


def _paragraphs(count: int, words: int) -> list[str]:
    return [
        f"Paragraph {n} " + " ".join(f"word{i}" for i in range(words)) + "." for n in range(count)
    ]


def test_a_short_answer_stays_one_message_unchanged() -> None:
    html = markdown_to_html("**Hi** there, see [docs](https://x.org).\n\n```py\nx = 1\n```")
    assert split_html(html) == (html,)


def test_the_default_limit_is_telegrams_4096() -> None:
    assert MESSAGE_LIMIT == 4096
    assert len(split_html("a" * 4096)) == 1
    assert len(split_html("a" * 4097)) == 2


def test_a_long_answer_splits_at_paragraph_boundaries() -> None:
    paragraphs = _paragraphs(count=40, words=36)
    html = markdown_to_html("\n\n".join(paragraphs))
    assert len(html) > 10_000
    chunks = split_html(html)
    assert len(chunks) == 3
    for chunk in chunks:
        assert telegram_length(html_to_plain(chunk)) <= MESSAGE_LIMIT
        assert chunk.startswith("Paragraph ")
        assert chunk.endswith(".")
    assert "\n\n".join(chunks) == html


def test_paragraph_boundaries_win_over_later_line_breaks_and_spaces() -> None:
    text = "first paragraph\n\nsecond line one\nsecond line two and more words"
    assert split_plain(text, limit=40) == (
        "first paragraph",
        "second line one",
        "second line two and more words",
    )


def test_line_breaks_win_over_spaces() -> None:
    assert split_plain("aaa bbb\nccc ddd eee", limit=15) == ("aaa bbb", "ccc ddd eee")


def test_spaces_win_over_cutting_a_word() -> None:
    assert split_plain("alpha beta gamma", limit=12) == ("alpha beta", "gamma")


def test_a_separator_too_early_is_passed_over_for_a_fuller_message() -> None:
    text = "Hi\n\n" + "word " * 30
    chunks = split_plain(text, limit=60)
    assert chunks[0].startswith("Hi\n\nword word")


def test_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_plain("a" * 10_000) == ("a" * 4096, "a" * 4096, "a" * 1808)


def test_a_long_bold_word_is_cut_with_bold_reopened() -> None:
    assert split_html("<b>" + "x" * 12 + "</b>", limit=5) == (
        "<b>xxxxx</b>",
        "<b>xxxxx</b>",
        "<b>xx</b>",
    )


def test_a_huge_code_block_splits_into_valid_pre_blocks_with_its_language() -> None:
    lines = [f"    print({i})  # step {i}" for i in range(1000)]
    html = markdown_to_html("```python\n" + "\n".join(lines) + "\n```")
    chunks = split_html(html)
    assert len(chunks) > 4
    for chunk in chunks:
        assert chunk.startswith(_PYTHON_PRE)
        assert chunk.endswith("</code></pre>")
        assert html_problems(chunk) == []
        assert telegram_length(html_to_plain(chunk)) <= MESSAGE_LIMIT
    assert "\n".join(_displayed(chunks)) == "\n".join(lines)


def test_code_lines_keep_their_indentation_at_a_cut() -> None:
    html = "<pre>def f():\n    return 1</pre>"
    assert split_html(html, limit=12) == ("<pre>def f():</pre>", "<pre>    return 1</pre>")


def test_a_cut_link_is_reopened_with_its_href() -> None:
    html = 'see <a href="https://x.org/?a=1&amp;b=2">the long link text</a>'
    assert split_html(html, limit=12) == (
        'see <a href="https://x.org/?a=1&amp;b=2">the long</a>',
        '<a href="https://x.org/?a=1&amp;b=2">link text</a>',
    )


def test_nested_tags_are_closed_and_reopened_in_order() -> None:
    html = "<blockquote><b>one <i>two three</i></b> four</blockquote>"
    assert split_html(html, limit=10) == (
        "<blockquote><b>one <i>two</i></b></blockquote>",
        "<blockquote><b><i>three</i></b> four</blockquote>",
    )


def test_entities_are_never_cut() -> None:
    html = "&lt;&amp;&gt;" * 10
    chunks = split_html(html, limit=4)
    assert all(html_problems(chunk) == [] for chunk in chunks)
    assert "".join(_displayed(chunks)) == "<&>" * 10


def test_whitespace_at_cut_points_is_trimmed() -> None:
    chunks = split_plain("one   \n\n\n   two  three \n four", limit=8)
    assert chunks == ("one", "two", "three", "four")
    html_chunks = split_html("<b>one</b>\n\n\n  <i>two</i>   \n", limit=4)
    assert html_chunks == ("<b>one</b>", "<i>two</i>")


def test_emoji_count_two_units_and_are_never_cut_in_half() -> None:
    assert split_plain("😀" * 10, limit=5) == ("😀😀",) * 5
    assert split_html("<b>" + "😀" * 3 + "</b>", limit=3) == ("<b>😀</b>",) * 3


def test_a_cut_does_not_separate_joined_emoji_when_it_can_avoid_it() -> None:
    family = "👨\u200d👩\u200d👧"
    assert split_plain(family * 3, limit=12) == (family,) * 3
    assert split_plain("🇺🇸🇬🇧🇫🇷", limit=6) == ("🇺🇸", "🇬🇧", "🇫🇷")
    assert split_plain("e\u0301" * 4, limit=3) == ("e\u0301",) * 4


def test_nothing_visible_gives_no_messages() -> None:
    assert split_html("") == ()
    assert split_html("<b> </b>\n\n<i></i>") == ()
    assert split_plain(" \n\t ") == ()


def test_a_stray_closing_tag_is_dropped() -> None:
    assert split_html("a</b>b<i>c</i>") == ("ab<i>c</i>",)


def test_a_limit_too_small_for_an_emoji_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_html("text", limit=1)
    with pytest.raises(ValueError, match="at least 2"):
        split_plain("text", limit=0)


def test_a_100_kb_answer_splits_in_one_pass() -> None:
    markdown = "\n\n".join(f"**{p}** and `code` 😀" for p in _paragraphs(count=420, words=30))
    html = markdown_to_html(markdown)
    assert len(html) > 100_000
    chunks = split_html(html)
    assert all(telegram_length(html_to_plain(chunk)) <= MESSAGE_LIMIT for chunk in chunks)
    _assert_pieces_of(html_to_plain(html), _displayed(chunks))


@given(markdown_texts, st.integers(min_value=2, max_value=120))
def test_every_chunk_of_rendered_html_is_valid_fits_and_keeps_the_text(
    markdown: str,
    limit: int,
) -> None:
    html = markdown_to_html(markdown)
    chunks = split_html(html, limit)
    for chunk in chunks:
        assert html_problems(chunk) == [], chunk
        displayed = html_to_plain(chunk)
        assert displayed.strip()
        assert telegram_length(displayed) <= limit
    _assert_pieces_of(html_to_plain(html), _displayed(chunks))


@given(st.text(), st.integers(min_value=2, max_value=50))
def test_every_plain_chunk_fits_and_keeps_the_text(text: str, limit: int) -> None:
    chunks = split_plain(text, limit)
    for chunk in chunks:
        assert chunk.strip()
        assert chunk == chunk.strip()
        assert telegram_length(chunk) <= limit
    _assert_pieces_of(text, list(chunks))


@given(st.text(st.characters(codec="utf-8", exclude_characters="<>&")), st.integers(2, 30))
def test_split_plain_and_split_html_cut_escaped_text_alike(text: str, limit: int) -> None:
    chunks = split_html(text, limit)
    assert _displayed(chunks) == list(split_plain(text, limit))
    assert all(not re.search(r"[<>]", chunk) for chunk in chunks)
