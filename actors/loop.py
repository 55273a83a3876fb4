"""The actor that owns the shared event loop's thread, so the loop has a place in the tree."""

from __future__ import annotations

from runtime import Actor, ActorContext, AsyncLoop


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
