"""The offline demo model: the OpenAI-compatible emulator answering with a labelled script.

Without any API key the sandbox must still answer, or a first try on a fresh machine ends at
"no provider is available". So the project's own LLM emulator stands in, on 127.0.0.1, and
every answer says plainly that it is a scripted demo, never a model's opinion. The answer is
Markdown (so the bot's rendering shows: bold, a list, code) and streams word by word with a
pause between words, long enough that the bot edits its message in place a few times.
"""

from __future__ import annotations

from typing import Final

from tests.emulators.llm_script import Answer, RecordedRequest, Reply
from tests.emulators.openai_compat import OpenAIEmulator

DEMO_PROVIDER: Final = "demo"
DEMO_MODELS: Final = ("offline-demo", "offline-demo-verbose")
DEMO_API_KEY: Final = "sandbox-offline-demo"  # the local emulator's own key, not a secret
DEMO_LABEL: Final = "Offline demo model"
_WORD_DELAY: Final = 0.07
_QUOTE_LIMIT: Final = 200


def demo_answer(question: str, model: str | None) -> str:
    """The scripted Markdown answer to ``question``; it quotes the question, never obeys it."""
    quoted = " ".join(question.split())
    if len(quoted) > _QUOTE_LIMIT:
        quoted = quoted[: _QUOTE_LIMIT - 1] + "…"
    lines = [
        (
            f"**{DEMO_LABEL}** (`{model or DEMO_MODELS[0]}`): no LLM API key is set, so this "
            "answer is scripted, not generated."
        ),
        "",
        f"> {quoted or '(an empty message)'}",
        "",
        "What you can try here, as in Telegram:",
        "- watch this message being **edited in place** while it streams in;",
        "- pick another model with /model, forget the conversation with /clear;",
        "- switch to the admin and look at `/admin stats` or `/debug tree`.",
    ]
    if model == DEMO_MODELS[1]:
        lines += [
            "",
            "The verbose demo model adds a code block:",
            "",
            "```sh",
            "export DEEPSEEK_API_KEY=sk-...   # or MISTRAL_API_KEY, GEMINI_API_KEY",
            "python main.py --sandbox",
            "```",
        ]
    lines += ["", "_Set a provider's API key and restart the sandbox to talk to a real model._"]
    return "\n".join(lines)


class DemoModel(OpenAIEmulator):
    """An OpenAI-compatible server on 127.0.0.1 whose every answer is :func:`demo_answer`.

    Use it like the emulator it is: ``with DemoModel() as demo: ... demo.base_url``.
    """

    def __init__(self, *, port: int = 0, word_delay: float = _WORD_DELAY) -> None:
        super().__init__(api_key=DEMO_API_KEY, models=DEMO_MODELS, reasoning_models=(), port=port)
        self._word_delay = word_delay

    def answer(self, reply: Reply, request: RecordedRequest, *, default_reasoning: bool) -> Answer:
        """Replace the emulator's default echo with the demo script, streamed word by word."""
        if reply.text is None:
            text = demo_answer(request.last_user_text, request.model)
            reply = Reply(text=text, chunk_delay=self._word_delay)
        del default_reasoning  # the demo never "thinks": its answer is a script
        return super().answer(reply, request, default_reasoning=False)
