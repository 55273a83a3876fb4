"""A chat's conversation context: the turns sent to the LLM, oldest first, within a budget.

A chat has one context, but a forum group has one per topic: ``topic_id`` is the topic's
thread id, 0 for the chat's own context (every chat that is not a forum). Each turn
carries a token count so the context can be trimmed to a budget without a tokenizer.
Unless the caller knows the real count, it is :func:`estimate_tokens`, an estimate.
``system`` turns (the chat's instructions) survive trimming.

A user turn about a file a model read as itself (an image, a voice message) also records
where that file is (``file_path``, relative to ``[storage] files_dir``, and ``file_mime``),
so a follow-up can send the file again; its ``tokens`` then include the file's estimate.
The file may be gone by then (retention deletes old files): the reference is a hint, and
the turn's text must stand on its own.
"""

from __future__ import annotations

import math
from typing import Literal

from storage.chats import ChatTable
from storage.errors import RecordNotFound
from storage.record import Record

Role = Literal["system", "user", "assistant"]

BYTES_PER_TOKEN = 4
"""Roughly how many UTF-8 bytes one token covers for common BPE tokenizers."""


def estimate_tokens(text: str) -> int:
    """Estimate the tokens in ``text`` as its UTF-8 length over :data:`BYTES_PER_TOKEN`.

    An estimate, not a count: about right for English (~4 characters a token); it
    over-counts Cyrillic a little and under-counts CJK a little. Counting bytes rather than
    characters keeps non-Latin scripts from being badly under-counted, so a trimmed context
    errs on the side of fitting the model's window.
    """
    return math.ceil(len(text.encode()) / BYTES_PER_TOKEN)


class Turn(Record, frozen=True, kw_only=True):
    """One message of a chat's context; ``id`` grows with every turn, in order."""

    id: int
    chat_id: int
    role: Role
    text: str
    tokens: int
    created_at: float
    topic_id: int = 0
    file_path: str | None = None  # the file the turn was about, relative to files_dir
    file_mime: str | None = None  # its MIME type; set exactly when file_path is


class ContextTable(ChatTable):
    """The ``turns`` table; mixed into :class:`storage.Store`. Turns need a registered chat."""

    def append_turn(
        self,
        chat_id: int,
        role: Role,
        text: str,
        *,
        tokens: int | None = None,
        topic_id: int = 0,
        file_path: str | None = None,
        file_mime: str | None = None,
    ) -> Turn:
        """Add a turn at the end of the chat's context.

        Args:
            chat_id: a chat registered with ``upsert_chat``.
            role: who spoke.
            text: what was said.
            tokens: the real token count if the provider reported one, or the caller's
                estimate (text and file); else estimated from ``text``.
            topic_id: the forum topic whose context it joins; 0 for the chat's own.
            file_path: the stored file the turn was about, relative to ``files_dir``.
            file_mime: that file's MIME type; given exactly when ``file_path`` is.

        Raises:
            RecordNotFound: the chat is not registered.
            ConstraintViolation: ``role`` is unknown, ``tokens`` is negative, or only one
                of ``file_path`` and ``file_mime`` is given.
        """
        count = estimate_tokens(text) if tokens is None else tokens
        action = f"append a {role} turn to chat {chat_id}"
        with self._writing(action) as db:
            if self.get_chat(chat_id) is None:
                raise RecordNotFound(
                    f"{action}: chat {chat_id} is not registered in {self.path};"
                    " call upsert_chat first",
                    path=self.path,
                    table="chats",
                    key=chat_id,
                )
            turn = self._record(
                db,
                Turn,
                "INSERT INTO turns"
                " (chat_id, topic_id, role, text, tokens, created_at, file_path, file_mime)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (chat_id, topic_id, role, text, count, self._now(), file_path, file_mime),
            )
        assert turn is not None, "INSERT ... RETURNING yields the row"
        return turn

    def load_context(self, chat_id: int, *, topic_id: int = 0) -> tuple[Turn, ...]:
        """The turns of the chat's context (or a topic's), oldest first; empty if unknown."""
        with self._reading(f"load context of chat {chat_id} topic {topic_id}") as db:
            return self._records(
                db,
                Turn,
                "SELECT * FROM turns WHERE chat_id = ? AND topic_id = ? ORDER BY id",
                (chat_id, topic_id),
            )

    def clear_context(self, chat_id: int, *, keep_system: bool = False, topic_id: int = 0) -> int:
        """Forget the turns of the chat's context or a topic's (but ``system`` turns if
        ``keep_system``); other topics keep theirs.

        Returns:
            How many turns were deleted.
        """
        with self._writing(f"clear context of chat {chat_id} topic {topic_id}") as db:
            cursor = db.execute(
                "DELETE FROM turns WHERE chat_id = ? AND topic_id = ?"
                " AND NOT (? AND role = 'system')",
                (chat_id, topic_id, keep_system),
            )
            return cursor.rowcount

    def trim_context(self, chat_id: int, max_tokens: int, *, topic_id: int = 0) -> int:
        """Delete the oldest non-system turns until the context fits ``max_tokens``.

        ``system`` turns are never deleted, so if they alone exceed the budget, every other
        turn goes and the context still exceeds it. The newest turn gets no special
        protection: a single turn larger than the budget is deleted too.

        Returns:
            How many turns were deleted.

        Raises:
            ValueError: ``max_tokens`` is negative.
        """
        if max_tokens < 0:
            raise ValueError(f"max_tokens must not be negative, got {max_tokens}")
        action = f"trim context of chat {chat_id} topic {topic_id} to {max_tokens} tokens"
        with self._writing(action) as db:
            # Only what the decision needs: the texts (and a record per turn) would cost
            # more than the rest of the trim, which runs after every turn written.
            turns: list[tuple[int, str, int]] = db.conn.execute(
                "SELECT id, role, tokens FROM turns WHERE chat_id = ? AND topic_id = ? ORDER BY id",
                (chat_id, topic_id),
            ).fetchall()
            excess = sum(tokens for _, _, tokens in turns) - max_tokens
            doomed: list[int] = []
            for turn_id, role, tokens in turns:
                if excess <= 0:
                    break
                if role != "system":
                    doomed.append(turn_id)
                    excess -= tokens
            db.conn.executemany("DELETE FROM turns WHERE id = ?", [(id_,) for id_ in doomed])
        return len(doomed)
