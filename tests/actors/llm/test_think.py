"""ThinkSplitter: <think> blocks move to reasoning wherever the chunk boundaries fall."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from actors.llm import ReasoningDelta, TextDelta, ThinkSplitter


def split(chunks: list[str]) -> tuple[str, str]:
    """Feed the chunks and return (reasoning, text) as the user would see them."""
    splitter = ThinkSplitter()
    items = [item for chunk in chunks for item in splitter.feed(chunk)] + splitter.flush()
    reasoning = "".join(i.text for i in items if isinstance(i, ReasoningDelta))
    text = "".join(i.text for i in items if isinstance(i, TextDelta))
    return reasoning, text


def test_text_without_tags_passes_through_at_once() -> None:
    splitter = ThinkSplitter()

    assert splitter.feed("Hello, world") == [TextDelta(text="Hello, world")]
    assert splitter.flush() == []


def test_a_think_block_becomes_reasoning_and_the_blank_line_after_it_is_dropped() -> None:
    assert split(["<think>\nplan\n</think>\n\nAnswer"]) == ("\nplan\n", "Answer")


def test_tags_split_at_every_position_are_still_recognised() -> None:
    text = "<think>abc</think>xyz"
    for cut in range(1, len(text)):
        assert split([text[:cut], text[cut:]]) == ("abc", "xyz"), cut


def test_a_possible_tag_start_is_held_back_until_it_is_decided() -> None:
    splitter = ThinkSplitter()

    assert splitter.feed("a <thi") == [TextDelta(text="a ")]
    assert splitter.feed("s is not a tag") == [TextDelta(text="<this is not a tag")]


def test_a_held_back_tag_prefix_is_released_at_the_end_of_the_stream() -> None:
    splitter = ThinkSplitter()

    assert splitter.feed("x <") == [TextDelta(text="x ")]
    assert splitter.flush() == [TextDelta(text="<")]


def test_an_unclosed_block_is_reasoning_to_the_end() -> None:
    assert split(["<think>still thinking", " when cut"]) == ("still thinking when cut", "")


def test_text_before_the_block_stays_text() -> None:
    assert split(["Sure. <think>why</think> Here."]) == ("why", "Sure. Here.")


@given(
    reasoning=st.text(alphabet="ab<>/ \n", max_size=20).filter(lambda s: "</think>" not in s),
    answer=st.text(alphabet="ab<>/ ", max_size=20).filter(lambda s: "<think>" not in s),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
)
def test_any_chunking_gives_the_same_result_as_one_chunk(
    reasoning: str, answer: str, cuts: list[int]
) -> None:
    whole = f"<think>{reasoning}</think>{answer}"
    bounds = sorted({min(cut, len(whole)) for cut in cuts} | {0, len(whole)})
    chunks = [whole[start:end] for start, end in itertools.pairwise(bounds)]

    assert split(chunks) == split([whole]) == (reasoning, answer.lstrip())
