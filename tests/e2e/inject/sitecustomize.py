"""Fault injection for one e2e test, loaded into the bot's own process.

``tests/e2e/test_faults_actors.py`` starts ``main.py`` with this directory on PYTHONPATH
and ``BOT_TEST_POISON`` set to a marker. Python imports ``sitecustomize`` at start-up, so
before ``main.py`` runs, the chat session's text handler is wrapped to raise on any text
containing the marker: an update that crashes its session every time, as a bug would.
Nothing here is imported by the bot itself; without the variable this module does nothing.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path


def _poison(marker: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository's root
    from actors.chat.messages import IncomingText  # noqa: PLC0415 - only when injecting
    from actors.chat.session import ChatSession  # noqa: PLC0415 - after the path is set

    handler = ChatSession.on_text

    @functools.wraps(handler)
    def on_text(self: ChatSession, message: IncomingText) -> None:
        if marker in message.text:
            raise RuntimeError("injected fault: a poison update")
        handler(self, message)

    ChatSession.on_text = on_text  # type: ignore[method-assign]


if marker := os.environ.get("BOT_TEST_POISON"):
    _poison(marker)
