"""Messages drawn from Telegram's entities: what a Telegram client shows, and nothing unsafe."""

from __future__ import annotations

from actors.sandbox.render import message_html, safe_link
from actors.telegram.render import markdown_to_html
from tests.emulators.telegram import Entity, parse_html


def html_of(bot_html: str) -> str:
    """What the page shows for a message the bot sent with parse_mode=HTML."""
    text, entities = parse_html(bot_html)
    return message_html(text, entities)


def test_text_without_entities_is_escaped() -> None:
    assert message_html('<script>alert("x")</script> & co', []) == (
        '&lt;script&gt;alert("x")&lt;/script&gt; &amp; co'
    )


def test_telegrams_html_subset_comes_back_as_the_same_tags() -> None:
    bot_html = "<b>bold</b> <i>it</i> <u>under</u> <s>gone</s> <code>x = 1</code>"

    assert html_of(bot_html) == bot_html


def test_nested_entities_stay_nested() -> None:
    assert html_of("<b>bold <i>both</i></b>") == "<b>bold <i>both</i></b>"


def test_overlapping_entities_are_closed_and_reopened_around_each_other() -> None:
    entities = [
        Entity(type="bold", offset=0, length=4),
        Entity(type="italic", offset=2, length=4),
    ]

    assert message_html("abcdef", entities) == "<b>ab<i>cd</i></b><i>ef</i>"


def test_offsets_count_utf16_units_so_emoji_do_not_shift_entities() -> None:
    assert html_of("😀 <b>bold</b> 👍🏽 <i>it</i>") == "😀 <b>bold</b> 👍🏽 <i>it</i>"


def test_a_javascript_link_is_shown_as_plain_text() -> None:
    entities = [Entity(type="text_link", offset=0, length=5, url="javascript:alert(1)")]

    assert message_html("click", entities) == "<span>click</span>"


def test_a_link_gets_an_escaped_href_and_opens_elsewhere() -> None:
    shown = html_of('<a href="https://example.com/?a=1&amp;b=&quot;2&quot;">site</a>')

    assert shown == (
        '<a href="https://example.com/?a=1&amp;b=&quot;2&quot;" target="_blank" '
        'rel="noopener noreferrer">site</a>'
    )


def test_a_bare_address_becomes_an_http_link_as_in_telegram() -> None:
    assert safe_link("example.com/page") == "http://example.com/page"
    assert safe_link("localhost:8080/x") == "http://localhost:8080/x"
    assert safe_link("data:text/html,<b>") is None
    assert safe_link("java\tscript:alert(1)") is None


def test_a_code_block_keeps_a_harmless_language_and_drops_a_crafted_one() -> None:
    good = [Entity(type="pre", offset=0, length=5, language="python")]
    bad = [Entity(type="pre", offset=0, length=5, language='x" onclick="alert(1)')]

    assert message_html("print", good) == '<pre data-language="python">print</pre>'
    assert message_html("print", bad) == "<pre>print</pre>"


def test_a_newline_right_after_a_block_is_not_shown_twice() -> None:
    assert html_of("<blockquote>quote</blockquote>\nafter") == (
        "<blockquote>quote</blockquote>after"
    )


def test_commands_mentions_and_spoilers_get_classes_the_page_acts_on() -> None:
    entities = [
        Entity(type="bot_command", offset=5, length=6),
        Entity(type="mention", offset=15, length=8),
        Entity(type="spoiler", offset=25, length=6),
    ]

    shown = message_html("send /model to @someone, secret", entities)

    assert '<span class="tg-command">/model</span>' in shown
    assert '<span class="tg-mention">@someone</span>' in shown
    assert '<span class="tg-spoiler">secret</span>' in shown


def test_an_llm_answer_renders_as_the_bot_would_show_it() -> None:
    answer = "**Hi** <img src=x onerror=alert(1)>\n\n```python\nprint(1)\n```"

    shown = html_of(markdown_to_html(answer))

    assert shown.startswith("<b>Hi</b> &lt;img src=x onerror=alert(1)&gt;")
    assert '<pre data-language="python">' in shown
    assert "<img" not in shown


def test_entities_outside_the_text_or_empty_are_ignored() -> None:
    entities = [
        Entity(type="bold", offset=10, length=3),
        Entity(type="italic", offset=1, length=0),
    ]

    assert message_html("abc", entities) == "abc"
