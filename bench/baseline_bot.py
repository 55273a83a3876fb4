"""The baseline of the bot benchmarks: a plain python-telegram-bot Application doing our job.

It answers every text message by asking an OpenAI-compatible chat API (the same emulator,
model, system prompt and conversation history as our bot) and replying with
``sendMessage``: what a straightforward PTB bot looks like, written the way PTB's own
examples are. No handicaps: ``concurrent_updates(True)`` (up to 256 updates handled at
once), PTB's default HTTP pool (256 connections to Telegram), one shared
``httpx.AsyncClient`` with httpx's default limits (100 connections) to the LLM, the answer
streamed (``"stream": true``, as our bot does) and sent once complete. The history of each
chat lives in ``context.chat_data`` and is trimmed to the same token budget as ours (about
four characters a token). No access control, persistence, pacing or retries: those are
part of what our bot does on top, and part of what the benchmark charges it for.

The benchmarks start it as a subprocess (``bench/bot_bench.py``); to run it by hand
against the emulators::

    TELEGRAM_BOT_TOKEN=123456:TEST LLM_API_KEY=sk-test \\
        .venv/bin/python -m bench.baseline_bot --telegram http://127.0.0.1:PORT \\
        --llm http://127.0.0.1:PORT2/v1

It stops on SIGTERM or Ctrl-C (PTB's ``run_polling`` handles both).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

SYSTEM_PROMPT_ENV = "BASELINE_SYSTEM_PROMPT"
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant talking with people in a Telegram chat."


def estimate_tokens(text: str) -> int:
    """The same stand-in for a tokenizer as our storage uses: about four characters a token."""
    return (len(text) + 3) // 4


class LlmChat:
    """One streamed chat completion per question, over one shared ``httpx.AsyncClient``."""

    def __init__(self, *, base_url: str, api_key: str, model: str, system_prompt: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._model = model
        self._system_prompt = system_prompt
        self._http: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def answer(self, history: list[dict[str, str]]) -> str:
        """Stream the answer to ``history`` (user/assistant turns) and return its text.

        Raises:
            httpx.HTTPError: the API failed or answered with an error status.
        """
        if self._http is None:
            raise RuntimeError("LlmChat.open() was not awaited")
        body = {
            "model": self._model,
            "messages": [{"role": "system", "content": self._system_prompt}, *history],
            "stream": True,
        }
        parts: list[str] = []
        async with self._http.stream(
            "POST", f"{self._base_url}/chat/completions", json=body, headers=self._headers
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk: dict[str, Any] = json.loads(data)
                for choice in chunk.get("choices", ()):
                    content = choice.get("delta", {}).get("content")
                    if content:
                        parts.append(content)
        return "".join(parts)


def trimmed(history: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
    """The newest turns of ``history`` that fit in ``budget`` tokens."""
    total = sum(estimate_tokens(turn["content"]) for turn in history)
    start = 0
    while start < len(history) and total > budget:
        total -= estimate_tokens(history[start]["content"])
        start += 1
    return history[start:]


def build(args: argparse.Namespace) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application: one handler for text messages, an error handler, the LLM client."""
    llm = LlmChat(
        base_url=args.llm,
        api_key=os.environ.get("LLM_API_KEY", ""),
        model=args.model,
        system_prompt=os.environ.get(SYSTEM_PROMPT_ENV, DEFAULT_SYSTEM_PROMPT),
    )
    budget: int = args.context_token_budget

    async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        history: list[dict[str, str]] = context.chat_data.setdefault("history", [])  # type: ignore[union-attr]
        question = {"role": "user", "content": message.text}
        try:
            text = await llm.answer([*history, question])
        except httpx.HTTPError as exc:
            await message.reply_text(f"Sorry, the model is not available now ({exc}).")
            return
        history.extend((question, {"role": "assistant", "content": text}))
        history[:] = trimmed(history, budget)
        await context.bot.send_message(message.chat_id, text or "(empty answer)")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        print(f"error handling {update!r}: {context.error!r}", file=sys.stderr)

    async def post_init(_app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await llm.open()

    async def post_shutdown(_app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await llm.close()

    base = args.telegram.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(True)  # noqa: FBT003 - PTB's own API
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, answer_text))
    application.add_error_handler(on_error)
    return application


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--telegram", required=True, help="Bot API root, e.g. http://127.0.0.1:8081"
    )
    parser.add_argument("--llm", required=True, help="OpenAI-compatible API root (…/v1)")
    parser.add_argument("--model", default="deepseek-chat")
    parser.add_argument("--context-token-budget", type=int, default=6000)
    parser.add_argument("--poll-timeout", type=int, default=1, help="getUpdates long-poll seconds")
    args = parser.parse_args(argv)
    application = build(args)
    print("baseline running", flush=True)
    application.run_polling(
        allowed_updates=["message"], timeout=args.poll_timeout, drop_pending_updates=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
