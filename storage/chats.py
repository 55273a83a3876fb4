"""Chats the bot is in, and each chat's choice of provider, model and mode.

A chat is registered with :meth:`ChatTable.upsert_chat` when the bot first hears from it;
settings and context turns belong to a registered chat. Settings left unset (None) mean
"use the configured default", which storage does not know.

A group also has an access state, like a user's (:data:`GroupAccess`): who added the bot and
what was decided. None is a private chat, or a group from before group access was recorded.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from storage.connection import Connection
from storage.errors import RecordNotFound
from storage.record import Record, to_record

ChatKind = Literal["private", "group", "supergroup", "channel"]
GroupAccess = Literal["pending", "active", "blocked", "left"]
"""A group's access: waiting for an admin, let in, shut out, or the bot is no longer in it."""
GROUP_ACCESS: tuple[GroupAccess, ...] = get_args(GroupAccess)


class ChatSettings(Record, frozen=True, kw_only=True):
    """A chat's overrides; None means the configured default applies."""

    provider: str | None = None
    model: str | None = None
    mode: str | None = None


class Chat(Record, frozen=True, kw_only=True):
    """A Telegram chat the bot is in; times are UTC epoch seconds."""

    chat_id: int
    kind: ChatKind
    title: str | None
    settings: ChatSettings
    created_at: float
    updated_at: float
    access: GroupAccess | None = None  # None: a private chat, or a group with no decision yet
    added_by: int | None = None  # who last added the bot to the group
    added_at: float | None = None
    decided_at: float | None = None  # when ``access`` last changed (None while pending)
    decided_by: int | None = None  # ...and by whom: an admin, the adder, or who removed it


class ChatTable(Connection):
    """The ``chats`` table; mixed into :class:`storage.Store`."""

    def upsert_chat(self, chat_id: int, *, kind: ChatKind, title: str | None = None) -> Chat:
        """Register a chat, or refresh its kind and title; its settings are kept."""
        with self._writing(f"upsert chat {chat_id}") as db:
            rows = list(
                db.query(
                    "INSERT INTO chats (chat_id, kind, title, created_at, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (chat_id) DO UPDATE"
                    " SET kind = excluded.kind, title = excluded.title,"
                    " updated_at = excluded.updated_at RETURNING *",
                    (chat_id, kind, title, self._now()),
                )
            )
        return self._chat_from(rows[0])

    def get_chat(self, chat_id: int) -> Chat | None:
        """The registered chat with this id, or None."""
        with self._reading(f"get chat {chat_id}") as db:
            rows = list(db.query("SELECT * FROM chats WHERE chat_id = ?", (chat_id,)))
        return self._chat_from(rows[0]) if rows else None

    def get_chat_settings(self, chat_id: int) -> ChatSettings:
        """The chat's settings; all None (defaults) for a chat never registered."""
        chat = self.get_chat(chat_id)
        return chat.settings if chat is not None else ChatSettings()

    def set_chat_model(self, chat_id: int, provider: str | None, model: str | None) -> ChatSettings:
        """Choose the chat's provider and model; both None returns it to the default.

        Raises:
            ValueError: only one of ``provider`` and ``model`` is None.
            RecordNotFound: the chat is not registered.
        """
        if (provider is None) != (model is None):
            raise ValueError(
                f"provider and model are set or cleared together, got {provider!r}, {model!r}"
            )
        return self._update_settings(
            chat_id,
            f"set model of chat {chat_id} to {provider}/{model}",
            "UPDATE chats SET provider = ?, model = ?, updated_at = ? WHERE chat_id = ?"
            " RETURNING *",
            (provider, model, self._now(), chat_id),
        )

    def set_chat_mode(self, chat_id: int, mode: str | None) -> ChatSettings:
        """Choose the chat's mode; None returns it to the default.

        Raises:
            RecordNotFound: the chat is not registered.
        """
        return self._update_settings(
            chat_id,
            f"set mode of chat {chat_id} to {mode!r}",
            "UPDATE chats SET mode = ?, updated_at = ? WHERE chat_id = ? RETURNING *",
            (mode, self._now(), chat_id),
        )

    def set_group_access(
        self, chat_id: int, access: GroupAccess, *, by: int | None, added: bool = False
    ) -> Chat:
        """Record a group's access as changed by user ``by``; ``added``: ``by`` added the bot.

        ``decided_at`` and ``decided_by`` change only when ``access`` does (and are None
        while it is pending), so re-adding the bot to a blocked group keeps who blocked it.

        Raises:
            RecordNotFound: no group (or supergroup) with this id is registered.
            ConstraintViolation: ``access`` is not one of :data:`GROUP_ACCESS`.
        """
        action = f"set access of group {chat_id} to {access!r}"
        with self._writing(action) as db:
            rows = list(
                db.query(
                    "UPDATE chats SET"
                    " decided_at = CASE WHEN access IS ?1 THEN decided_at"
                    "   WHEN ?1 = 'pending' THEN NULL ELSE ?2 END,"
                    " decided_by = CASE WHEN access IS ?1 THEN decided_by"
                    "   WHEN ?1 = 'pending' THEN NULL ELSE ?3 END,"
                    " added_by = CASE WHEN ?4 THEN ?3 ELSE added_by END,"
                    " added_at = CASE WHEN ?4 THEN ?2 ELSE added_at END,"
                    " access = ?1, updated_at = ?2"
                    " WHERE chat_id = ?5 AND kind IN ('group', 'supergroup') RETURNING *",
                    (access, self._now(), by, added, chat_id),
                )
            )
            if not rows:
                raise RecordNotFound(
                    f"{action}: no group {chat_id} is registered in {self.path}",
                    path=self.path,
                    table="chats",
                    key=chat_id,
                )
        return self._chat_from(rows[0])

    def list_groups(
        self, access: GroupAccess | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[Chat, ...]:
        """Groups the bot knows, the oldest added (or seen) first; only those in ``access``.

        With ``access`` None every group is listed, those with no decision included.

        Raises:
            ValueError: ``limit`` or ``offset`` is negative.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must not be negative, got {limit}, {offset}")
        with self._reading("list groups") as db:
            rows = list(
                db.query(
                    "SELECT * FROM chats WHERE kind IN ('group', 'supergroup')"
                    " AND (?1 IS NULL OR access = ?1)"
                    " ORDER BY coalesce(added_at, created_at), chat_id LIMIT ?2 OFFSET ?3",
                    (access, limit, offset),
                )
            )
        return tuple(self._chat_from(row) for row in rows)

    def count_groups(self, access: GroupAccess | None = None) -> int:
        """How many groups are in ``access`` (every group for None)."""
        with self._reading("count groups") as db:
            rows = list(
                db.query(
                    "SELECT count(*) AS n FROM chats WHERE kind IN ('group', 'supergroup')"
                    " AND (?1 IS NULL OR access = ?1)",
                    (access,),
                )
            )
        return int(rows[0]["n"])

    def _update_settings(
        self, chat_id: int, action: str, update_sql: str, params: tuple[object, ...]
    ) -> ChatSettings:
        with self._writing(action) as db:
            rows = list(db.query(update_sql, params))
            if not rows:
                raise RecordNotFound(
                    f"{action}: chat {chat_id} is not registered in {self.path};"
                    " call upsert_chat first",
                    path=self.path,
                    table="chats",
                    key=chat_id,
                )
        return self._chat_from(rows[0]).settings

    def _chat_from(self, row: dict[str, Any]) -> Chat:
        settings = {key: row.pop(key) for key in ("provider", "model", "mode")}
        return to_record(Chat, {**row, "settings": settings}, path=self.path)
