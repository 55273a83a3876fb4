"""What a chat session receives: updates from the gateway and answers from providers.

The protocol is the union alias :data:`SessionMessage` at the bottom.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from runtime import Message
from storage import GroupAccess, UserState

ChatKind = Literal["private", "group", "supergroup", "channel"]


class UserRef(msgspec.Struct, frozen=True, kw_only=True):
    """Who sent an update, as Telegram describes them."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} (@{self.username})" if self.username else self.first_name


class IncomingText(Message, frozen=True, kw_only=True):
    """A user wrote plain text in the chat."""

    update_id: int
    chat_id: int
    chat_kind: ChatKind
    message_id: int
    user: UserRef
    topic_id: int = 0  # the forum topic it was written in; 0 outside forum topics
    text: str


class IncomingCommand(Message, frozen=True, kw_only=True):
    """A user sent a /command (lower-cased, without the @botname suffix)."""

    update_id: int
    chat_id: int
    chat_kind: ChatKind
    message_id: int
    user: UserRef
    topic_id: int = 0  # the forum topic it was written in; 0 outside forum topics
    command: str
    args: tuple[str, ...] = ()


class ButtonPressed(Message, frozen=True, kw_only=True):
    """A user pressed an inline button on one of the bot's messages."""

    update_id: int
    chat_id: int
    message_id: int
    callback_id: str
    user: UserRef
    data: str


class UnsupportedContent(Message, frozen=True, kw_only=True):
    """A user sent something the bot cannot read yet (a sticker, a photo...)."""

    update_id: int
    chat_id: int
    chat_kind: ChatKind
    message_id: int
    user: UserRef
    topic_id: int = 0  # the forum topic it was written in; 0 outside forum topics
    kind: str


class IncomingFile(Message, frozen=True, kw_only=True):
    """A user sent a document, a photo or a voice message, maybe with a caption.

    Only what the update announces: the file is not downloaded yet, so the session can refuse
    it (type, size, daily quota) before a byte is fetched. ``file_id`` is what getFile takes;
    ``file_name`` is the user's and is never used as a path.
    """

    update_id: int
    chat_id: int
    chat_kind: ChatKind
    message_id: int
    user: UserRef
    topic_id: int = 0  # the forum topic it was written in; 0 outside forum topics
    kind: Literal["document", "photo", "voice"]
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    caption: str | None = None


class AnswerDone(Message, frozen=True, kw_only=True):
    """The provider finished answering; ``text`` is the whole answer.

    Told after the provider showed it, if Generate asked it to (``display``).
    """

    request_id: str
    provider: str
    model: str
    text: str
    question: str
    topic_id: int = 0  # the forum topic of the question, echoed from Generate
    tokens_in: int | None
    tokens_out: int | None
    latency_ms: int


class AnswerFailed(Message, frozen=True, kw_only=True):
    """The provider could not answer; ``error`` is the error class name (for logs)."""

    request_id: str
    provider: str
    model: str
    error: str
    detail: str
    latency_ms: int
    topic_id: int = 0  # the forum topic of the question, echoed from Generate
    partial: str = ""  # what streamed before it failed
    shown: bool = False  # the provider showed ``partial`` and a friendly line already


class ModelsListed(Message, frozen=True, kw_only=True):
    """A provider's models, in answer to ``ListModels``; empty with ``error`` if it failed."""

    provider: str
    models: tuple[str, ...]
    default_model: str
    error: str | None = None


class ModelMenuDue(Message, frozen=True, kw_only=True):
    """Timer: stop waiting for slow providers and show the /model menu now."""

    menu_id: str


class GenerationOverdue(Message, frozen=True, kw_only=True):
    """Timer: a provider never reported back on this request."""

    request_id: str


class AccessChanged(Message, frozen=True, kw_only=True):
    """An admin moved ``user_id`` to ``state``: drop what this session cached about them.

    Told by the admin actor right after storage has the new state, so a blocked user's
    next message is checked against storage instead of a cached "active".
    """

    user_id: int
    state: UserState


class BotMembershipChanged(Message, frozen=True, kw_only=True):
    """Someone (``by``) added the bot to this group, or removed it (Telegram's my_chat_member).

    Only changes of membership come through: the bot promoted or restricted while it stays
    in the group is not one.
    """

    update_id: int
    chat_id: int
    chat_kind: ChatKind
    title: str | None
    by: UserRef
    status: Literal["added", "removed"]


class GroupAccessChanged(Message, frozen=True, kw_only=True):
    """An admin moved this group to ``access``: the session applies it from the next message.

    Told by the admin actor right after storage has the new state.
    """

    chat_id: int
    access: GroupAccess


SessionMessage = (
    IncomingText
    | IncomingCommand
    | ButtonPressed
    | UnsupportedContent
    | IncomingFile
    | AnswerDone
    | AnswerFailed
    | ModelsListed
    | ModelMenuDue
    | GenerationOverdue
    | AccessChanged
    | BotMembershipChanged
    | GroupAccessChanged
)
