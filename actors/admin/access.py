"""Access decisions: what approve, reject, block and unblock do to a user, in words.

:func:`decide` is pure: from the user's record it says which state to store (if any),
what to tell the user (if anything) and what to answer the admin; the admin actor
carries it out. :func:`decide_group` does the same for a group (a negative id).
:func:`chats_to_tell` says which chat sessions must forget a cached "active" for the
user, so a block takes effect on their very next message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from actors.admin.commands import AccessAction
from actors.chat import texts
from runtime import SystemSnapshot
from storage import Chat, User, UserState


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """What one action does: the state it stores, the user's notice, the admin's words."""

    target: UserState
    notice: str | None  # None: the user is not told (a block is silent)
    done: str
    already: str


TRANSITIONS: Final[Mapping[AccessAction, Transition]] = {
    "approve": Transition(
        target="active", notice=texts.ACCESS_APPROVED, done="✅ Approved", already="approved"
    ),
    "reject": Transition(
        target="blocked", notice=texts.ACCESS_DECLINED, done="❌ Declined", already="declined"
    ),
    "block": Transition(target="blocked", notice=None, done="⛔ Blocked", already="blocked"),
    "unblock": Transition(
        target="active", notice=texts.ACCESS_RESTORED, done="✅ Unblocked", already="active"
    ),
}


# What a group is told of a decision (in the group); a block is silent there too.
GROUP_NOTICES: Final[Mapping[AccessAction, str | None]] = {
    "approve": texts.GROUP_APPROVED,
    "reject": texts.GROUP_DECLINED,
    "block": None,
    "unblock": texts.GROUP_RESTORED,
}


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of an action: ``state`` None means nothing changes."""

    verdict: str
    state: UserState | None = None
    notice: str | None = None


def decide(
    action: AccessAction, user_id: int, record: User | None, *, admin_ids: frozenset[int]
) -> Decision:
    """What ``action`` does to user ``user_id``, whose stored record is ``record``.

    Nothing changes for someone who never wrote to the bot, for an admin about to be
    shut out (admins come from config.toml and are always let in anyway), for an unblock
    of someone who is not blocked (a pending request is approved, not unblocked), or when
    the user is already where the action would put them.
    """
    if record is None:
        return Decision(verdict=f"No user with id {user_id} has asked for access.")
    name = f"{record.first_name} ({user_id})"
    transition = TRANSITIONS[action]
    if transition.target == "blocked" and user_id in admin_ids:
        return Decision(verdict=f"{name} is an admin (admin_ids in config.toml): not changed.")
    if action == "unblock" and record.state == "pending":
        return Decision(verdict=f"{name} is not blocked: their request is pending.")
    if record.state == transition.target:
        return Decision(verdict=f"{name} is already {transition.already}.")
    return Decision(
        verdict=f"{transition.done} {name}.", state=transition.target, notice=transition.notice
    )


def decide_group(action: AccessAction, chat_id: int, record: Chat | None) -> Decision:
    """What ``action`` does to the group ``chat_id``, whose stored record is ``record``.

    Like :func:`decide`: nothing changes for a chat the bot never saw (or a private one),
    for an unblock of a group that is not blocked, or when the group is already where the
    action puts it. A group the bot has left can be decided on (the decision holds when
    someone adds the bot back) but is not told: the bot cannot speak there.
    """
    if record is None or record.kind not in ("group", "supergroup"):
        return Decision(verdict=f"No group with id {chat_id} is known.")
    name = f"{record.title or 'The group'} ({chat_id})"
    transition = TRANSITIONS[action]
    if action == "unblock" and record.access != "blocked":
        return Decision(verdict=f"{name} is not blocked.")
    if record.access == transition.target:
        return Decision(verdict=f"{name} is already {transition.already}.")
    notice = None if record.access == "left" else GROUP_NOTICES[action]
    return Decision(verdict=f"{transition.done} {name}.", state=transition.target, notice=notice)


def chats_to_tell(snapshot: SystemSnapshot, sessions_path: str, user_id: int) -> tuple[int, ...]:
    """The chats whose session may have cached the user's access: theirs and live groups.

    The user's private chat (its id is the user's id) comes first, whether or not its
    session is alive; group chats (negative ids) only if their session is alive now: a
    session that is not alive has no cache, and one spawned later reads storage afresh.
    """
    pool = snapshot.find(sessions_path)
    groups = sorted(
        int(key)
        for node in (pool.children if pool is not None else ())
        if (key := node.path.rsplit("/", 1)[-1]).startswith("-") and key[1:].isdigit()
    )
    return (user_id, *groups)
