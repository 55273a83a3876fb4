"""The storage actor: the single owner of the SQLite store, one message per operation.

The connection is opened in ``on_start`` (on the actor's own thread, which sqlite3
requires) and closed in ``on_stop``. Reads are asks that return frozen records; writes
are tells handled in the order each sender sent them. A storage error is let through:
the asker gets it, and the supervisor restarts this actor with a fresh connection.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from loguru import logger

from runtime import Actor, ActorContext, Message, receive
from storage import (
    ChatKind,
    ChatSettings,
    LlmRequestStats,
    ModelDiff,
    ModelEntry,
    RequestStatus,
    Role,
    Store,
    Turn,
    User,
    UserCounts,
    UserState,
    UserUpsert,
)
from storage.errors import StorageUnavailable


class OpenChat(Message, frozen=True, kw_only=True):
    """Ask: register the chat if new; reply with its :class:`ChatState`."""

    chat_id: int
    kind: ChatKind
    title: str | None = None


class ChatState(Message, frozen=True, kw_only=True):
    """A chat's settings and its context turns, oldest first."""

    settings: ChatSettings
    turns: tuple[Turn, ...]


class GetUser(Message, frozen=True, kw_only=True):
    """Ask: the user record, or None for someone who never asked for access."""

    user_id: int


class RegisterUser(Message, frozen=True, kw_only=True):
    """Ask: create (as ``initial_state``) or refresh a user; reply :class:`UserUpsert`."""

    user_id: int
    first_name: str
    username: str | None
    is_admin: bool = False
    initial_state: UserState = "pending"


class SetUserState(Message, frozen=True, kw_only=True):
    """Ask: move a user to ``state`` as decided by admin ``by``; reply the new record."""

    user_id: int
    state: UserState
    by: int | None


class ListUsers(Message, frozen=True, kw_only=True):
    """Ask: a page of users, optionally only those in ``state``."""

    state: UserState | None = None
    limit: int = 20
    offset: int = 0


class CountUsers(Message, frozen=True, kw_only=True):
    """Ask: how many users are in each state."""


class AppendTurn(Message, frozen=True, kw_only=True):
    """Tell: add one turn to a chat's context, then trim it to ``budget`` tokens."""

    chat_id: int
    role: Role
    text: str
    budget: int


class ClearContext(Message, frozen=True, kw_only=True):
    """Tell: forget a chat's context."""

    chat_id: int


class SetChatModel(Message, frozen=True, kw_only=True):
    """Tell: remember the provider and model a chat chose."""

    chat_id: int
    provider: str
    model: str


class RecordLlmRequest(Message, frozen=True, kw_only=True):
    """Tell: one LLM call and how it went."""

    chat_id: int
    user_id: int
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    status: RequestStatus
    error: str | None = None
    correlation_id: str | None = None


class GetLlmStats(Message, frozen=True, kw_only=True):
    """Ask: aggregates of LLM requests since ``since`` (epoch seconds)."""

    since: float


class CountActiveChats(Message, frozen=True, kw_only=True):
    """Ask: how many chats made an LLM call since ``since`` (epoch seconds)."""

    since: float


class ListCachedModels(Message, frozen=True, kw_only=True):
    """Ask: the models providers listed when last asked (only ``provider``'s if given)."""

    provider: str | None = None


class ReplaceModels(Message, frozen=True, kw_only=True):
    """Ask or tell: store a provider's current model list; replies what was added and removed."""

    provider: str
    models: tuple[tuple[str, str], ...]


StorageRequest = (
    OpenChat
    | GetUser
    | RegisterUser
    | SetUserState
    | ListUsers
    | CountUsers
    | AppendTurn
    | ClearContext
    | SetChatModel
    | RecordLlmRequest
    | GetLlmStats
    | CountActiveChats
    | ListCachedModels
    | ReplaceModels
)


M = TypeVar("M")
R = TypeVar("R")
PATIENCE_SECONDS = 60.0


def patient(handler: Callable[[StorageActor, M], R]) -> Callable[[StorageActor, M], R]:
    """Retry a handler while the database is locked or otherwise briefly unavailable.

    Waiting here, on the storage actor's own thread, keeps every write in order and keeps a
    long lock (a backup, an operator's sqlite3 shell) from turning into a restart storm
    that would take the whole tree down. Past ``PATIENCE_SECONDS`` the error goes through.
    """

    @functools.wraps(handler)
    def wrapper(self: StorageActor, message: M) -> R:
        return self.patiently(lambda: handler(self, message))

    return wrapper


class StorageActor(Actor):
    """Owns the :class:`storage.Store`; see the module docstring."""

    def __init__(self, context: ActorContext, path: Path, *, busy_timeout: float = 5.0) -> None:
        super().__init__(context)
        self._path = path
        self._busy_timeout = busy_timeout
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("storage is not open")
        return self._store

    def patiently(self, operation: Callable[[], R]) -> R:
        delay = 0.25
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            try:
                return operation()
            except StorageUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("storage unavailable ({}); retrying in {:g}s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def on_start(self) -> None:
        self._store = self.patiently(
            lambda: Store.open(self._path, busy_timeout=self._busy_timeout)
        )

    def on_stop(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @receive
    @patient
    def open_chat(self, message: OpenChat) -> ChatState:
        store = self.store
        if store.get_chat(message.chat_id) is None:
            store.upsert_chat(message.chat_id, kind=message.kind, title=message.title)
        return ChatState(
            settings=store.get_chat_settings(message.chat_id),
            turns=store.load_context(message.chat_id),
        )

    @receive
    @patient
    def get_user(self, message: GetUser) -> User | None:
        return self.store.get_user(message.user_id)

    @receive
    @patient
    def register_user(self, message: RegisterUser) -> UserUpsert:
        return self.store.upsert_user(
            message.user_id,
            first_name=message.first_name,
            username=message.username,
            is_admin=message.is_admin or None,
            initial_state=message.initial_state,
        )

    @receive
    @patient
    def set_user_state(self, message: SetUserState) -> User:
        return self.store.set_user_state(message.user_id, message.state, message.by)

    @receive
    @patient
    def list_users(self, message: ListUsers) -> tuple[User, ...]:
        return self.store.list_users(message.state, message.limit, message.offset)

    @receive
    @patient
    def count_users(self, _message: CountUsers) -> UserCounts:
        return self.store.count_users_by_state()

    @receive
    @patient
    def append_turn(self, message: AppendTurn) -> None:
        self.store.append_turn(message.chat_id, message.role, message.text)
        self.store.trim_context(message.chat_id, message.budget)

    @receive
    @patient
    def clear_context(self, message: ClearContext) -> None:
        self.store.clear_context(message.chat_id)

    @receive
    @patient
    def set_chat_model(self, message: SetChatModel) -> None:
        self.store.set_chat_model(message.chat_id, message.provider, message.model)

    @receive
    @patient
    def record_llm_request(self, message: RecordLlmRequest) -> None:
        self.store.record_llm_request(
            chat_id=message.chat_id,
            user_id=message.user_id,
            provider=message.provider,
            model=message.model,
            tokens_in=message.tokens_in,
            tokens_out=message.tokens_out,
            latency_ms=message.latency_ms,
            status=message.status,
            error=message.error,
            correlation_id=message.correlation_id,
        )

    @receive
    @patient
    def llm_stats(self, message: GetLlmStats) -> LlmRequestStats:
        return self.store.llm_request_stats(message.since)

    @receive
    @patient
    def count_active_chats(self, message: CountActiveChats) -> int:
        return self.store.count_active_chats(message.since)

    @receive
    @patient
    def list_cached_models(self, message: ListCachedModels) -> tuple[ModelEntry, ...]:
        return self.store.list_models(message.provider)

    @receive
    @patient
    def replace_models(self, message: ReplaceModels) -> ModelDiff:
        return self.store.replace_models(message.provider, dict(message.models))
