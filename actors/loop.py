"""The actor that owns the shared event loop's thread, so the loop has a place in the tree."""

from __future__ import annotations

import asyncio

from runtime import Actor, ActorContext, AsyncLoop


async def let_calls_start() -> None:
    """Give the event loop two turns, so that a call just handed over starts first.

    What is told to an actor served on the loop (the gateway's replies, a provider's
    ``Generate``) is taken in the next turn, and its HTTP call started in the one after.
    A coroutine that would otherwise go on at once with work that competes with that call
    (reading the rest of a stream, a write that wakes the storage actor's thread, which
    then holds the GIL the call needs) awaits this first.
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class LoopKeeper(Actor):
    """Starts the loop in ``on_start`` and closes it in ``on_stop``.

    Everything bound to the loop (provider HTTP clients, the Telegram bot) is started
    after this actor under a ``rest_for_one`` supervisor, so a restarted loop means
    they restart too and rebuild what they had bound to the old one.
    """

    def __init__(self, context: ActorContext, loop: AsyncLoop) -> None:
        super().__init__(context)
        self._loop = loop

    def on_start(self) -> None:
        self._loop.start()

    def on_stop(self) -> None:
        self._loop.close()
