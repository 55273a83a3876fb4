"""Chats the bot is in, and each chat's choice of provider, model and mode.

A chat is registered with :meth:`ChatTable.upsert_chat` when the bot first hears from it;
settings and context turns belong to a registered chat. Settings left unset (None) mean
"use the configured default", which storage does not know.
"""

from __future__ import annotations

from typing import Any, Literal

from storage.connection import Connection
from storage.errors import RecordNotFound
from storage.record import Record, to_record

ChatKind = Literal["private", "group", "supergroup", "channel"]


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
