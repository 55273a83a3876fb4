"""Who may talk in a chat: users one by one, and groups as a whole.

:class:`Doorkeeper` is plain logic a :class:`~actors.chat.session.ChatSession` holds, so
the rules are testable without threads. It reads users' and the group's access from
storage (caching a user's "active" for :data:`ACTIVE_CACHE_SECONDS`, so that a message
does not wait for storage, which may be busy writing what a burst left), registers those
who ask to be let in, tells admins what they must decide, and says why someone gets no
answer. Admins' decisions are the admin actor's; the session forwards what they change
(:meth:`Doorkeeper.forget`, :meth:`Doorkeeper.group_decided`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Literal

from loguru import logger

from actors.admin.commands import access_data
from actors.chat import texts
from actors.chat.messages import BotMembershipChanged, UserRef
from actors.storage import GetChat, GetUser, RegisterUser, SetGroupAccess
from actors.telegram.messages import Button, SendText
from runtime import Address
from storage import Chat, GroupAccess, User, UserState, UserUpsert

# Admins' decisions reach every live session as AccessChanged, which drops the cached
# entry at once (Doorkeeper.forget): the expiry is only a safety net, so it can be long.
# (At 10 s, the first question of a user quiet for that long waited for storage: after a
# burst, up to a second behind its backlog of writes.)
ACTIVE_CACHE_SECONDS = 300.0
# In a group waiting for approval, one "still waiting" reply per this many seconds at most.
PENDING_GROUP_REPLY_SECONDS = 300.0
GROUP_PENDING: Final = "group pending"
Access = UserState | Literal["group pending"] | None
"""Someone's access in this chat: their own state, or :data:`GROUP_PENDING` in a group that
waits for an admin (None: they never asked)."""


class Doorkeeper:
    """One chat's access rules; see the module docstring.

    ``say`` sends a text to this chat (the session's, so a reply in a group answers the
    message being handled); admins are told through ``gateway`` directly.
    """

    def __init__(
        self,
        chat_id: int,
        *,
        storage: Address,
        gateway: Address,
        admin_ids: frozenset[int],
        storage_timeout: float,
        say: Callable[[str], None],
    ) -> None:
        self._chat_id = chat_id
        self._storage = storage
        self._gateway = gateway
        self._admin_ids = admin_ids
        self._timeout = storage_timeout
        self._say = say
        self._active_until: dict[int, float] = {}  # user id -> monotonic end of the cache
        # A group's access, read from storage when first needed (a private chat has none).
        self._access: GroupAccess | None = None
        self._access_known = chat_id > 0
        self._pending_said_at = float("-inf")  # monotonic: the last GROUP_STILL_PENDING

    def is_admin(self, user: UserRef) -> bool:
        return user.id in self._admin_ids

    def state_of(self, user: UserRef) -> Access:
        """``user``'s access in this chat: their own, or in a group with a state, the group's.

        Admins are always let in and a blocked user is always ignored. Otherwise, in an
        active group everyone is let in and in a blocked one no one; in a pending group a
        user approved on their own is, anyone else is :data:`GROUP_PENDING`. A group with
        no state (from before group access, or one the bot left) keeps each user's own.
        """
        own = self.user_state(user)
        if own == "blocked" or self.is_admin(user):
            return own
        match self.group_access():
            case "active":
                return "active"
            case "blocked":
                return "blocked"
            case "pending":
                return "active" if own == "active" else GROUP_PENDING
            case _:  # no state, or the bot left the group
                return own

    def admits_from_memory(self, user: UserRef) -> bool:
        """Whether :meth:`state_of` is ``"active"`` for ``user``, known without storage."""
        if not self._access_known or self._access == "blocked":
            return False
        if self.is_admin(user):
            return user.id in self._active_until  # registered already
        return self._active_until.get(user.id, 0.0) > time.monotonic()

    def group_access(self) -> GroupAccess | None:
        """This group's access, read from storage once; None in a private chat."""
        if not self._access_known:
            chat: Chat | None = self._storage.ask(
                GetChat(chat_id=self._chat_id), timeout=self._timeout
            )
            self._access = chat.access if chat is not None else None
            self._access_known = True
        return self._access

    def user_state(self, user: UserRef) -> UserState | None:
        """The user's own access (None: never asked), whatever the chat."""
        if self.is_admin(user):
            if user.id not in self._active_until:
                self._register(user, admin=True)
                self._active_until[user.id] = float("inf")
            return "active"
        if self._active_until.get(user.id, 0.0) > time.monotonic():
            return "active"
        record: User | None = self._storage.ask(GetUser(user_id=user.id), timeout=self._timeout)
        if record is not None and record.state == "active":
            self._active_until[user.id] = time.monotonic() + ACTIVE_CACHE_SECONDS
        return None if record is None else record.state

    def _register(self, user: UserRef, *, admin: bool = False) -> UserUpsert:
        result: UserUpsert = self._storage.ask(
            RegisterUser(
                user_id=user.id,
                first_name=user.first_name,
                username=user.username,
                is_admin=admin,
                initial_state="active" if admin else "pending",
            ),
            timeout=self._timeout,
        )
        return result

    def refuse(self, state: Access, *, chatter: bool = False) -> None:
        """Say why someone who is not let in gets no answer, where that helps.

        ``chatter`` is a text or a file rather than a command: in a group with no access
        state it is ignored. In a pending group the bot says it waits for an admin, but only
        once per :data:`PENDING_GROUP_REPLY_SECONDS`, however many people address it.
        """
        if state == GROUP_PENDING:
            now = time.monotonic()
            if now - self._pending_said_at >= PENDING_GROUP_REPLY_SECONDS:
                self._pending_said_at = now
                self._say(texts.GROUP_STILL_PENDING)
        elif chatter and self._chat_id < 0:
            pass  # in a group without a state, strangers' chatter is ignored
        elif state is None:
            self._say(texts.ASK_FOR_ACCESS)
        elif state == "pending":
            self._say(texts.ACCESS_STILL_PENDING)
        # blocked users (and blocked groups) are ignored: nothing they send reaches anyone

    def request_access(self, user: UserRef) -> None:
        """``/start`` from someone not an admin: welcome them, or register their request.

        In a group with an access state the group's access decides, and nothing is asked
        of admins about the user. A new request is told to every admin, with buttons.
        """
        if self.group_access() not in (None, "left"):  # the group's access decides here
            state = self.state_of(user)
            if state == "active":
                self._say(texts.WELCOME.format(name=user.first_name))
            else:
                self.refuse(state)
            return
        result = self._register(user)
        if result.user.state == "active":
            self._say(texts.WELCOME.format(name=user.first_name))
            return
        if result.user.state == "blocked":
            return
        self._say(texts.ACCESS_REQUESTED if result.created else texts.ACCESS_STILL_PENDING)
        if result.created:
            self._tell_admins(
                f"Access request from {user.display_name}, id {user.id}.", decide_on=user.id
            )

    def _tell_admins(self, text: str, *, decide_on: int | None = None) -> None:
        """Send ``text`` to every admin; with Approve / Reject buttons for id ``decide_on``."""
        buttons = (
            (
                (
                    Button(text="Approve", data=access_data("approve", decide_on)),
                    Button(text="Reject", data=access_data("reject", decide_on)),
                ),
            )
            if decide_on is not None
            else ()
        )
        for admin_id in sorted(self._admin_ids):
            self._gateway.tell(
                SendText(chat_id=admin_id, text=text, format="plain", buttons=buttons)
            )

    def forget(self, user_id: int) -> None:
        """An admin changed the user's access: their cached "active" no longer holds."""
        self._active_until.pop(user_id, None)

    def group_decided(self, access: GroupAccess) -> None:
        """An admin decided on this group: what it says now holds, without asking storage."""
        self._access, self._access_known = access, True

    def membership_changed(self, message: BotMembershipChanged) -> None:
        """The bot was added to this group or removed from it: the group's access follows.

        Added by an admin or an approved user, the group is active and the bot says hello;
        by anyone else it is pending, and admins get Approve / Reject buttons for it. An
        admin's decision made while the bot was out (active, blocked) holds, unless an admin
        adds the bot. Removed, it is "left" (a blocked one stays blocked): the bot cannot
        speak there, so only admins are told. The new access is stored before anyone is
        told (storage is asked, so a failure raises and nothing is said).
        """
        by, before = message.by, self.group_access()
        if message.status == "removed":
            after: GroupAccess = "blocked" if before == "blocked" else "left"
        elif self.is_admin(by):
            after = "active"
        elif before in ("active", "blocked"):
            after = before
        else:
            after = "active" if self.user_state(by) == "active" else "pending"
        self._storage.ask(
            SetGroupAccess(
                chat_id=self._chat_id,
                access=after,
                by=by.id,
                added=message.status == "added",
                kind=message.chat_kind,
                title=message.title,
            ),
            timeout=self._timeout,
        )
        self._access, self._access_known = after, True
        who = f"{by.first_name} ({by.id})"
        group = f"{message.title or 'a group'} ({self._chat_id})"
        logger.info(
            "chat {}: bot {} by user {}; access {}", self._chat_id, message.status, by.id, after
        )
        if message.status == "removed":
            self._tell_admins(f"{who} removed the bot from {group}.")
        elif after == "active":
            self._say(texts.GROUP_WELCOME)
            self._tell_admins(f"{who} added the bot to {group}.")
        elif after == "pending":
            self._say(texts.GROUP_NEEDS_APPROVAL)
            self._tell_admins(
                f"{who} added the bot to {group}. Let the group in?", decide_on=self._chat_id
            )
        else:
            self._tell_admins(
                f"{who} added the bot to {group}, which is blocked: "
                f"/admin unblock {self._chat_id} lets it in."
            )
