"""The offline demo model: a labelled, scripted answer streamed word by word."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from actors.sandbox.demo import DEMO_API_KEY, DEMO_LABEL, DEMO_MODELS, DemoModel, demo_answer


@pytest.fixture
def demo() -> Iterator[DemoModel]:
    with DemoModel(word_delay=0.0) as model:
        yield model


def test_every_answer_says_it_is_a_scripted_demo_and_quotes_the_question() -> None:
    answer = demo_answer("What   is\nPython?", DEMO_MODELS[0])

    assert answer.startswith(f"**{DEMO_LABEL}**")
    assert "> What is Python?" in answer
    assert "```" not in answer


def test_the_verbose_model_adds_a_code_block() -> None:
    assert "```sh" in demo_answer("hi", DEMO_MODELS[1])


def test_a_very_long_question_is_quoted_short() -> None:
    quote = next(
        line for line in demo_answer("word " * 500, None).splitlines() if line.startswith(">")
    )

    assert len(quote) < 210
    assert quote.endswith("…")


def test_the_answer_streams_in_many_chunks_over_the_openai_api(demo: DemoModel) -> None:
    request = {
        "model": DEMO_MODELS[0],
        "stream": True,
        "messages": [{"role": "user", "content": "Hello"}],
    }
    pieces: list[str] = []
    with httpx.stream(
        "POST",
        f"{demo.base_url}/chat/completions",
        json=request,
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices:
                    pieces.append(choices[0]["delta"].get("content") or "")

    assert "".join(pieces) == demo_answer("Hello", DEMO_MODELS[0])
    assert len([piece for piece in pieces if piece]) > 20
