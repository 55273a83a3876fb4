"""When an update taken from Telegram is done: its replies were accepted, or it had none.

The durable inbox keeps every update pending until then, and replays pending ones at the
next start. An update is done when two things are true:

1. its session said so (``UpdateHandled``, told after its last reply for that update), and
2. every reply queued for it before that has left the outbox: accepted by Telegram, or given
   up on (a permanent error such as a user who blocked the bot; retrying forever would not
   help).

Replies go into per-chat lanes that work in order, so (2) is a barrier put at the end of
each lane the update's replies went to (its own chat, plus any other chat a reply carrying
its correlation id ``u<update_id>`` was queued for, e.g. an access request shown to the
admins). When every barrier is reached, ``done(update_id)`` runs. If the outbox closes
first (shutdown past its grace period, or a crash), the update stays pending.

Everything here runs on the outbox's event loop: no locks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from actors.telegram.outbox import Outbox

_UPDATE_CID = re.compile(r"u(\d+)")


def update_id_of(correlation_id: str | None) -> int | None:
    """The update id in a correlation id ``u<update_id>``, or None for any other id."""
    match = _UPDATE_CID.fullmatch(correlation_id or "")
    return int(match.group(1)) if match else None


class Completions:
    """Tracks open updates and marks each done once its replies are out; see the module doc."""

    def __init__(self, outbox: Outbox, done: Callable[[int], None]) -> None:
        self._outbox = outbox
        self._done = done
        self._open: dict[int, set[int]] = {}  # update id -> chats its replies went to

    @property
    def open_count(self) -> int:
        """Updates handed to sessions and not yet done."""
        return len(self._open)

    def opened(self, update_id: int, chat_id: int) -> None:
        """``update_id`` was handed to the session of ``chat_id``."""
        self._open.setdefault(update_id, set()).add(chat_id)

    def replied(self, update_id: int, chat_id: int) -> None:
        """A reply for ``update_id`` was queued for ``chat_id`` (ignored once it is done)."""
        chats = self._open.get(update_id)
        if chats is not None:
            chats.add(chat_id)

    def handled(self, update_id: int, chat_id: int) -> None:
        """The session will send nothing more for ``update_id``: done once its replies are out.

        An update this tracker never saw (opened by an earlier incarnation of the gateway)
        waits for its own chat's lane only.
        """
        chats = self._open.pop(update_id, set())
        chats.add(chat_id)
        left = len(chats)

        def reached() -> None:
            nonlocal left
            left -= 1
            if left == 0:
                self._done(update_id)

        for chat in sorted(chats):
            self._outbox.after_queued(chat, reached)
