"""Typing indicators ("typing…") only for answers that take a while.

Telegram's advice for ``sendChatAction`` is to use it "only when a response from the bot
will take a noticeable amount of time to arrive". A session asks for "typing…" the moment
it starts an answer, and a fast model's answer is then ready a few milliseconds later. Sent
at once, the indicator shows nothing anyone sees and costs the answer itself: one more
HTTP request on the event loop, competing with the answer's request to the model, and one
the answer's ``sendMessage`` waits behind, since the outbox makes a chat's calls one at a
time. With an instant model that was most of our overhead tail (docs/benchmarks.md, "Bots").

:class:`TypingIndicators` holds each :class:`ShowTyping` for ``delay`` seconds and passes it
on only if nothing was shown in that chat meanwhile: a :class:`SendText`, :class:`ShowDraft`
or :class:`FinishAnswer` for the chat drops the held indicator (Telegram clears "typing…"
when the bot sends a message anyway). Everything else goes straight through. Used only on
the event loop that owns the outbox (no locks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from actors.telegram.messages import FinishAnswer, GatewayCommand, SendText, ShowDraft, ShowTyping

TYPING_DELAY = 0.5  # seconds an answer may take before "typing…" is shown


class TypingIndicators:
    """Holds back "typing…" for ``delay`` seconds; see the module docstring.

    Args:
        submit: where commands go on (the outbox's ``submit``).
        delay: seconds to hold an indicator; 0 or less passes it on at once.
    """

    def __init__(self, submit: Callable[[GatewayCommand], None], *, delay: float) -> None:
        self._submit = submit
        self._delay = delay
        self._loop = asyncio.get_running_loop()
        self._held: dict[int, asyncio.TimerHandle] = {}  # chat id -> its indicator's timer

    @property
    def held(self) -> int:
        """Indicators waiting for their delay to pass."""
        return len(self._held)

    def submit(self, command: GatewayCommand) -> None:
        """Pass ``command`` on, holding it back if it is a :class:`ShowTyping`."""
        if isinstance(command, ShowTyping):
            self._hold(command)
            return
        if isinstance(command, SendText | ShowDraft | FinishAnswer):
            self._drop(command.chat_id)
        self._submit(command)

    def close(self) -> None:
        """Forget every held indicator (the outbox is about to close)."""
        for handle in self._held.values():
            handle.cancel()
        self._held.clear()

    def _hold(self, command: ShowTyping) -> None:
        if self._delay <= 0:
            self._submit(command)
        elif command.chat_id not in self._held:  # one already waiting says the same
            self._held[command.chat_id] = self._loop.call_later(self._delay, self._due, command)

    def _due(self, command: ShowTyping) -> None:
        del self._held[command.chat_id]
        self._submit(command)

    def _drop(self, chat_id: int) -> None:
        handle = self._held.pop(chat_id, None)
        if handle is not None:
            handle.cancel()
