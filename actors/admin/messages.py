"""What the admin actor receives: admin commands and button presses, forwarded by sessions.

The protocol is the union alias :data:`AdminMessage` at the bottom. Sessions forward
without judging: the admin actor itself checks that ``user`` is an admin.
"""

from __future__ import annotations

from actors.chat.messages import UserRef
from runtime import Message


class AdminCommand(Message, frozen=True, kw_only=True):
    """Someone sent ``/admin ...`` or ``/debug ...`` in chat ``chat_id``.

    ``command`` is ``"admin"`` or ``"debug"``; ``args`` are the words after it.
    """

    chat_id: int
    message_id: int
    user: UserRef
    command: str
    args: tuple[str, ...] = ()


class AdminButton(Message, frozen=True, kw_only=True):
    """Someone pressed a button whose data starts with ``a:`` on message ``message_id``."""

    chat_id: int
    message_id: int
    callback_id: str
    user: UserRef
    data: str


class NotifyAdmins(Message, frozen=True, kw_only=True):
    """Tell every admin ``text`` in their private chat with the bot.

    Anyone may send this (the scheduler's refresh diff, health transitions, crash
    reports). Notices with the same ``topic`` are rate-limited by the receiver
    (``[admin] alert_interval_seconds``), so a flapping source cannot flood admins;
    ``urgent`` notices skip the limit (a state change the admin must see).
    """

    text: str
    topic: str
    urgent: bool = False


AdminMessage = AdminCommand | AdminButton | NotifyAdmins
