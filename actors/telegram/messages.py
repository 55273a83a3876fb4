"""What the Telegram gateway is asked to do. The protocol is :data:`GatewayCommand`.

Sessions speak in chats and drafts, never in Telegram message ids for their own
answers: the gateway keeps track of which message shows which draft, renders Markdown,
splits long text and paces everything within Telegram's limits.

In a forum, a reply lands in the topic of the message it answers, but "typing…" and a
message that is no reply go to General unless they name their ``topic_id``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from runtime import Message

TextFormat = Literal["plain", "markdown", "html"]


class Button(msgspec.Struct, frozen=True, kw_only=True):
    """An inline keyboard button; ``data`` must fit Telegram's 64-byte callback_data."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


class SendText(Message, frozen=True, kw_only=True):
    """Send a message (split if longer than one Telegram message)."""

    chat_id: int
    text: str
    format: TextFormat = "markdown"
    buttons: Keyboard = ()
    reply_to_message_id: int | None = None
    topic_id: int = 0  # the forum topic (message_thread_id) to post in; 0: none


class EditText(Message, frozen=True, kw_only=True):
    """Replace the text (and buttons) of a message the bot sent earlier."""

    chat_id: int
    message_id: int
    text: str
    format: TextFormat = "markdown"
    buttons: Keyboard = ()


class ShowTyping(Message, frozen=True, kw_only=True):
    """Show "typing…" in the chat (in forum topic ``topic_id``) while an answer is prepared."""

    chat_id: int
    topic_id: int = 0  # the forum topic (message_thread_id) to post in; 0: none


class ShowDraft(Message, frozen=True, kw_only=True):
    """Show the answer so far: sent the first time, edited afterwards.

    Drafts for the same ``draft_id`` that have not gone out yet are replaced by the
    newest one, so a slow chat gets fewer, fuller edits instead of a backlog.
    """

    chat_id: int
    draft_id: str
    markdown: str
    reply_to_message_id: int | None = None
    topic_id: int = 0  # the forum topic (message_thread_id) to post in; 0: none


class FinishAnswer(Message, frozen=True, kw_only=True):
    """The final answer for a draft: rendered, split, and ``notice`` appended as is.

    Blank ``markdown`` keeps what the draft shows (a session that gave up on an answer
    does not know what streamed), so only the notice is added.
    """

    chat_id: int
    draft_id: str
    markdown: str
    notice: str = ""
    reply_to_message_id: int | None = None
    topic_id: int = 0  # the forum topic (message_thread_id) to post in; 0: none


class AnswerButton(Message, frozen=True, kw_only=True):
    """Acknowledge a button press (stops the spinner), optionally with a toast text."""

    callback_id: str
    text: str = ""


class UpdateHandled(Message, frozen=True, kw_only=True):
    """Event: the session produced everything it will for ``update_id`` (maybe nothing).

    Told after the last reply for that update, so the gateway marks the update done in the
    durable inbox once every reply queued before this event has been accepted by Telegram.
    ``chat_id`` is the chat of the update (replies may also have gone to other chats).
    """

    update_id: int
    chat_id: int


class DeleteMessage(Message, frozen=True, kw_only=True):
    """Delete message ``message_id`` in the chat (a user's message that held a password).

    Done at once, outside the chat's paced lane; a failure is logged, never retried for long
    (the bot may lack the right, or the message may be gone already).
    """

    chat_id: int
    message_id: int


GatewayCommand = (
    SendText | EditText | ShowTyping | ShowDraft | FinishAnswer | AnswerButton | DeleteMessage
)
