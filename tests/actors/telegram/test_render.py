from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.telegram import render
from actors.telegram.render import html_to_plain, markdown_to_html, telegram_length
from tests.actors.telegram.support import html_problems, markdown_texts

_SAMPLE_ANSWER = """# Plan

Here is **the plan** with `code`, a [link](https://example.com) and _emphasis_.

1. First step
2. Second step
   - detail with ~~old~~ text

> A quote
> > nested

| name | value |
|------|------:|
| a    | 1     |

```python
def main() -> None:
    print("<done> & dusted")
```
"""


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        pytest.param("# Title\n\nText", "<b>Title</b>\n\nText", id="heading"),
        pytest.param("### Deep *title*", "<b>Deep <i>title</i></b>", id="heading-with-markup"),
        pytest.param("**bold** and __bold__", "<b>bold</b> and <b>bold</b>", id="bold"),
        pytest.param("*italic* and _italic_", "<i>italic</i> and <i>italic</i>", id="italic"),
        pytest.param("~~gone~~", "<s>gone</s>", id="strike"),
        pytest.param("***both***", "<i><b>both</b></i>", id="bold-italic"),
        pytest.param("`a < b && c`", "<code>a &lt; b &amp;&amp; c</code>", id="inline-code"),
        pytest.param("one\ntwo", "one\ntwo", id="soft-break-kept-as-line-break"),
        pytest.param("First.\n\nSecond.", "First.\n\nSecond.", id="paragraphs"),
        pytest.param(
            "```python\nif a < b:\n    print('&')\n```",
            "<pre><code class=\"language-python\">if a &lt; b:\n    print('&amp;')</code></pre>",
            id="fenced-code-with-language",
        ),
        pytest.param("```\nx = 1\n```", "<pre>x = 1</pre>", id="fenced-code-without-language"),
        pytest.param(
            "~~~ rust ignore\nfn f() {}\n~~~",
            '<pre><code class="language-rust">fn f() {}</code></pre>',
            id="tilde-fence-first-word-is-language",
        ),
        pytest.param(
            "Code:\n\n    x = 1\n    y = 2", "Code:\n\n<pre>x = 1\ny = 2</pre>", id="indented-code"
        ),
        pytest.param("```\n\n```", "", id="empty-code-block-dropped"),
        pytest.param("- one\n- two", "• one\n• two", id="bullet-list"),
        pytest.param("* one\n\n* two", "• one\n• two", id="loose-bullet-list-kept-compact"),
        pytest.param("1. one\n2. two", "1. one\n2. two", id="ordered-list"),
        pytest.param(
            "1. one\n1. two\n1. three", "1. one\n2. two\n3. three", id="ordered-list-counts-itself"
        ),
        pytest.param("3. three\n4. four", "3. three\n4. four", id="ordered-list-start"),
        pytest.param(
            "- a\n  - b\n    - c\n- d",
            "• a\n  • b\n    • c\n• d",
            id="nested-bullets-indented",
        ),
        pytest.param("1. a\n   - b", "1. a\n   • b", id="nested-under-number-indented-to-its-text"),
        pytest.param(
            "- item\n\n  more text",
            "• item\n  more text",
            id="list-item-paragraphs",
        ),
        pytest.param(
            "- run:\n\n  ```sh\n    ls\n  ```",
            '• run:\n<pre><code class="language-sh">  ls</code></pre>',
            id="code-in-list-keeps-its-own-indentation",
        ),
        pytest.param("> quoted\n> text", "<blockquote>quoted\ntext</blockquote>", id="blockquote"),
        pytest.param(
            "> outer\n>\n> > inner",
            "<blockquote>outer\n\ninner</blockquote>",
            id="nested-blockquote-flattened",
        ),
        pytest.param(
            "above\n\n---\n\nbelow", "above\n\n────────────\n\nbelow", id="horizontal-rule"
        ),
        pytest.param(
            "| a | long |\n|:-:|-----:|\n| xy | 1 |\n| z | **22** |",
            "<pre>a  | long\n---+-----\nxy |    1\nz  |   22</pre>",
            id="table-as-monospace-with-alignment",
        ),
        pytest.param(
            "| a |\n|---|\n| 日本 |\n| x&y |",
            "<pre>a\n----\n日本\nx&amp;y</pre>",
            id="table-counts-wide-characters-twice",
        ),
        pytest.param(
            "[site](https://example.com/?a=1&b=2)",
            '<a href="https://example.com/?a=1&amp;b=2">site</a>',
            id="link",
        ),
        pytest.param(
            "<https://example.com>",
            '<a href="https://example.com">https://example.com</a>',
            id="autolink",
        ),
        pytest.param(
            "<me@example.com>",
            '<a href="mailto:me@example.com">me@example.com</a>',
            id="email-autolink",
        ),
        pytest.param("[me](tg://user?id=42)", '<a href="tg://user?id=42">me</a>', id="tg-link"),
        pytest.param(
            "[**bold** link](http://x.org)",
            '<a href="http://x.org"><b>bold</b> link</a>',
            id="link-with-markup",
        ),
        pytest.param(
            "[](https://x.org)",
            '<a href="https://x.org">https://x.org</a>',
            id="empty-link-shows-url",
        ),
        pytest.param(
            "![a cat](https://x.org/cat.png)",
            '<a href="https://x.org/cat.png">a cat</a>',
            id="image-as-link",
        ),
        pytest.param(
            "![](https://x.org/c.png)",
            '<a href="https://x.org/c.png">https://x.org/c.png</a>',
            id="image-without-alt",
        ),
        pytest.param(
            "[![logo](https://x.org/l.png)](https://x.org)",
            '<a href="https://x.org">logo</a>',
            id="image-inside-link-is-its-alt-text",
        ),
        pytest.param("Tom & Jerry", "Tom &amp; Jerry", id="ampersand-escaped"),
        pytest.param(
            "&copy; &lt;b&gt; &#128512;",
            "© &lt;b&gt; 😀",
            id="markdown-entities-decoded-then-escaped",
        ),
        pytest.param('say "hi"', 'say "hi"', id="quotes-in-text-left-alone"),
        pytest.param(r"\*not italic\*", "*not italic*", id="backslash-escapes"),
    ],
)
def test_markdown_renders_as_telegram_html(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        pytest.param(
            "<script>alert('x')</script>",
            "&lt;script&gt;alert('x')&lt;/script&gt;",
            id="script-tag",
        ),
        pytest.param("a <b>bold</b> claim", "a &lt;b&gt;bold&lt;/b&gt; claim", id="inline-tag"),
        pytest.param("<div>\nblock\n</div>", "&lt;div&gt;\nblock\n&lt;/div&gt;", id="html-block"),
        pytest.param("<!-- note -->", "&lt;!-- note --&gt;", id="comment"),
        pytest.param("1 < 2 > 0", "1 &lt; 2 &gt; 0", id="comparison"),
    ],
)
def test_raw_html_in_markdown_is_shown_as_escaped_text(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        pytest.param(
            "[click](javascript:alert(1))", "[click](javascript:alert(1))", id="javascript"
        ),
        pytest.param("[file](file:///etc/passwd)", "[file](file:///etc/passwd)", id="file"),
        pytest.param("[down](ftp://x.org/f)", "down", id="ftp"),
        pytest.param("[page](/relative/page)", "page", id="relative"),
        pytest.param("[anchor](#top)", "anchor", id="anchor"),
        pytest.param("![pic](data:image/png;base64,AAAA)", "pic", id="data-image"),
    ],
)
def test_links_with_unsafe_schemes_are_shown_as_text(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


def test_double_quotes_in_attributes_are_escaped() -> None:
    assert markdown_to_html('```py"><b>\nx\n```') == (
        '<pre><code class="language-py&quot;&gt;&lt;b&gt;">x</code></pre>'
    )


def test_link_destinations_are_percent_encoded_so_quotes_cannot_end_the_attribute() -> None:
    assert markdown_to_html('<https://x.org/"onclick>') == (
        '<a href="https://x.org/%22onclick">https://x.org/"onclick</a>'
    )


def test_lone_surrogates_become_replacement_characters() -> None:
    assert markdown_to_html("a\ud83d b") == "a\ufffd b"


@pytest.mark.parametrize(
    ("draft", "html"),
    [
        pytest.param(
            "Look:\n```python\nprint(1",
            'Look:\n\n<pre><code class="language-python">print(1</code></pre>',
            id="unclosed-fence",
        ),
        pytest.param("Some **bold", "Some **bold", id="unclosed-bold"),
        pytest.param("Some `code", "Some `code", id="unclosed-backtick"),
        pytest.param("[link](https://x.o", "[link](https://x.o", id="unfinished-link"),
        pytest.param("- ", "•", id="empty-list-item"),
        pytest.param("```", "", id="bare-fence"),
        pytest.param("| a |\n|-", "<pre>a\n-</pre>", id="unfinished-table"),
    ],
)
def test_unfinished_drafts_render_to_closed_tags(draft: str, html: str) -> None:
    assert markdown_to_html(draft) == html


def test_every_prefix_of_a_streamed_answer_renders_valid_html() -> None:
    for end in range(len(_SAMPLE_ANSWER) + 1):
        html = markdown_to_html(_SAMPLE_ANSWER[:end])
        assert html_problems(html) == [], _SAMPLE_ANSWER[:end]


def test_a_whole_answer_renders_every_construct() -> None:
    assert markdown_to_html(_SAMPLE_ANSWER) == (
        "<b>Plan</b>\n\n"
        "Here is <b>the plan</b> with <code>code</code>, a "
        '<a href="https://example.com">link</a> and <i>emphasis</i>.\n\n'
        "1. First step\n"
        "2. Second step\n"
        "   • detail with <s>old</s> text\n\n"
        "<blockquote>A quote\n\nnested</blockquote>\n\n"
        "<pre>name | value\n-----+------\na    |     1</pre>\n\n"
        '<pre><code class="language-python">def main() -&gt; None:\n'
        '    print("&lt;done&gt; &amp; dusted")</code></pre>'
    )


@given(markdown_texts)
def test_any_markdown_renders_to_balanced_telegram_tags_only(markdown: str) -> None:
    assert html_problems(markdown_to_html(markdown)) == []


@given(st.text())
def test_any_text_renders_to_balanced_telegram_tags_only(text: str) -> None:
    assert html_problems(markdown_to_html(text)) == []


# Words, the punctuation of prose, and what makes a line a block: the cases where the
# plain-text shortcut must agree with the parser, or stand aside.
_PROSE_PIECES = st.sampled_from(
    [
        *"ab é😀.,:;!?'\"()/%$@^{}=-+#>",
        *("1.", "2)", "\n", "\n\n", "   ", "    ", "\xa0", "\t", "\r", "\x00", "\u2028"),
        *("http://x.y", "----", "===", "Hello", " - "),
    ]
)


@given(st.lists(_PROSE_PIECES, max_size=40).map("".join))
def test_plain_text_skips_the_parser_with_the_same_html(text: str) -> None:
    assert markdown_to_html(text) == render._parsed(render._SURROGATE.sub("\ufffd", text))


@pytest.mark.parametrize(
    "text",
    ["Hello there.", "Two lines\nof text", "One.\n\n  Two, indented a little.  ", "3 + 4 = 7"],
)
def test_everyday_sentences_take_the_plain_text_shortcut(text: str) -> None:
    assert render._is_plain(text)


@pytest.mark.parametrize(
    "text",
    ["**bold**", "- item", "1. first", "# title", "> quote", "a & b", "    code", "x\ty"],
)
def test_text_with_markup_goes_through_the_parser(text: str) -> None:
    assert not render._is_plain(text)


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        pytest.param("<b>bold</b> <i>it</i>", "bold it", id="tags-dropped"),
        pytest.param(
            "a &lt; b &amp;&amp; c &gt; d &quot;q&quot;", 'a < b && c > d "q"', id="named-entities"
        ),
        pytest.param("&#128512; &#x1F600;", "😀 😀", id="numeric-entities"),
        pytest.param('<a href="https://x.org/?a=1&amp;b=2">x</a>', "x", id="attributes-dropped"),
        pytest.param("&nbsp;", "&nbsp;", id="entities-telegram-does-not-know-kept"),
        pytest.param("&#0; &#xD800; &#1114112;", "\ufffd \ufffd \ufffd", id="invalid-code-points"),
        pytest.param("<pre>\n  x\n</pre>", "\n  x\n", id="whitespace-kept"),
    ],
)
def test_html_to_plain_shows_what_telegram_displays(html: str, plain: str) -> None:
    assert html_to_plain(html) == plain


def test_html_to_plain_undoes_rendering_of_plain_text() -> None:
    text = 'if a < b && c > d: print("x")'
    assert html_to_plain(markdown_to_html(text)) == text


@pytest.mark.parametrize(
    ("text", "length"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("hello", 5, id="ascii"),
        pytest.param("héllo €", 7, id="bmp"),
        pytest.param("a😀", 3, id="emoji-counts-two"),
        pytest.param("👨\u200d👩\u200d👧", 8, id="zwj-family"),
        pytest.param("\U0001d538", 2, id="astral-letter"),
    ],
)
def test_telegram_length_counts_utf16_code_units(text: str, length: int) -> None:
    assert telegram_length(text) == length
