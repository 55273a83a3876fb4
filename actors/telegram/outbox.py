"""Everything the bot sends to Telegram: paced per chat, and retried where that is safe.

Lives on the shared event loop, owned by the gateway actor. Each chat has a lane (a
queue and a task); a lane works through its queue one API call at a time, waiting on its
own token bucket and the global one. What Telegram says decides what happens next:

- 429 ``retry_after``: this lane pauses that long and retries the same call; other
  lanes carry on (unlike PTB's AIORateLimiter, which pauses everything).
- ``BadRequest`` is permanent (PTB makes it a ``NetworkError`` subclass, so it is caught
  first): "can't parse entities" is retried once as plain text, "message is not
  modified" counts as done, anything else is logged and dropped.
- ``TimedOut``/``NetworkError``: retried with exponential backoff capped at 30 s, for
  about 17 minutes of outage, then logged and dropped, if the call certainly did not reach
  Telegram (see :mod:`actors.telegram.delivery`) or is safe to repeat (an edit, "typing…").
- A new message whose request may have reached Telegram is not blindly sent again, as the
  Bot API has no idempotency key and no way to look up a message whose id we never got.
  After a read timeout (Telegram had the whole request) it is not sent again at all: it
  most likely shows, and when Telegram is slow every copy would show (at most once, then;
  the rare loss is a line that died with the request unprocessed). After a connection
  dropped while awaiting the answer (most often a kept-alive connection Telegram had
  closed, so the request was never read) it is sent once more, never a third time (so at
  worst twice, where a blind retry showed it up to 41 times). A streamed answer whose first
  message was so left unknown gets no further drafts (they could only add copies); its
  final text is sent as a new message unless it is what that first message showed.
- "typing…" is skipped when something to show is already queued behind it or when every
  call slot is taken (under a backlog it would only hold up answers), and no more calls
  are in flight than the HTTP pool has connections. A draft still queued when the final
  text of its answer arrives is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from actors.telegram.delivery import Delivery, delivery_of
from actors.telegram.messages import (
    AnswerButton,
    DeleteMessage,
    EditText,
    FinishAnswer,
    GatewayCommand,
    Keyboard,
    SendText,
    ShowDraft,
    ShowTyping,
)
from actors.telegram.pacing import Pacing, TokenBucket
from actors.telegram.render import html_to_plain, markdown_to_html
from actors.telegram.split import split_html, split_plain

MAX_DRAFTS = 10_000
DELETE_ATTEMPTS = 3
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(kw_only=True)
class _Call:
    """One Bot API call: send or edit one message, or show typing."""

    chat_id: int
    text: str = ""
    parse_mode: str | None = ParseMode.HTML
    markup: InlineKeyboardMarkup | None = None
    edit_message_id: int | None = None
    reply_to: int | None = None
    topic_id: int = 0
    typing: bool = False
    draft_key: tuple[int, str] | None = None
    attempts: int = 0
    resent: bool = False  # sent again once after it may have reached Telegram

    @property
    def repeatable(self) -> bool:
        """True if making the call twice shows the same as making it once."""
        return self.typing or self.edit_message_id is not None


@dataclass(kw_only=True)
class _Draft:
    message_id: int | None  # None: its first message may show, but its id is not known
    shown: str


@dataclass(frozen=True, kw_only=True)
class _Barrier:
    """A mark in a lane: ``reached`` runs once everything queued before it is done."""

    reached: Callable[[], None]


@dataclass(kw_only=True)
class _Lane:
    bucket: TokenBucket
    queue: deque[GatewayCommand | _Call | _Barrier] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    paused_until: float = 0.0


def keyboard_markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
    )


def seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Outbox:
    """Per-chat paced sending; see the module docstring. Use only on its event loop."""

    def __init__(
        self,
        bot: Bot,
        pacing: Pacing,
        *,
        max_chars: int = 4096,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._bot = bot
        self._pacing = pacing
        self._max_chars = max_chars
        self._clock = clock or asyncio.get_running_loop().time
        self._global = TokenBucket(pacing.global_rate, pacing.global_rate, self._clock)
        self._lanes: dict[int, _Lane] = {}
        # No more calls in flight than the HTTP pool has connections: past that they would
        # queue inside httpcore, whose pool is slow to work through a long backlog.
        self._in_flight = asyncio.Semaphore(pacing.max_in_flight)
        self._drafts: OrderedDict[tuple[int, str], _Draft] = OrderedDict()
        self._side_tasks: set[asyncio.Task[None]] = set()
        # Called (chat id, draft id, message id) when a draft's first message is sent.
        self.on_new_draft: Callable[[int, str, int], None] | None = None
        self.sent = 0
        self.dropped = 0
        self._in_progress = 0

    # -- intake -------------------------------------------------------------------------

    def submit(self, command: GatewayCommand) -> None:
        """Queue ``command``; must be called on the outbox's event loop."""
        if isinstance(command, AnswerButton | DeleteMessage):
            side = (
                self._answer_button(command)
                if isinstance(command, AnswerButton)
                else self._delete(command)
            )
            task = asyncio.create_task(side)
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
            return
        lane = self._lane(command.chat_id)
        if isinstance(command, ShowDraft) and self._coalesce(lane, command):
            return
        if isinstance(command, FinishAnswer):
            self._drop_draft(lane, command.draft_id)
        lane.queue.append(command)
        if lane.task is None:
            lane.task = asyncio.create_task(self._run(command.chat_id, lane))

    def adopt_draft(self, chat_id: int, draft_id: str, message_id: int) -> None:
        """Show draft ``draft_id`` in ``message_id`` (sent earlier, e.g. by a killed process).

        Its drafts and its final text then edit that message instead of sending a new one.
        """
        self._drafts.setdefault((chat_id, draft_id), _Draft(message_id=message_id, shown=""))

    def after_queued(self, chat_id: int, reached: Callable[[], None]) -> None:
        """Call ``reached`` once all that is queued for ``chat_id`` now was sent or given up.

        The durable inbox marks an update done this way. If the outbox is closed first,
        ``reached`` is never called. Must be called on the outbox's event loop.
        """
        lane = self._lane(chat_id)
        lane.queue.append(_Barrier(reached=reached))
        if lane.task is None:
            lane.task = asyncio.create_task(self._run(chat_id, lane))

    def pending(self) -> int:
        """Commands and calls queued or being made; safe to read from another thread."""
        return self._in_progress + sum(len(lane.queue) for lane in tuple(self._lanes.values()))

    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` for every lane to empty; return what is left."""
        deadline = self._clock() + timeout
        while self.pending() or any(lane.task for lane in self._lanes.values()):
            if self._clock() >= deadline:
                break
            await asyncio.sleep(0.02)
        return self.pending()

    async def close(self) -> None:
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        tasks.extend(self._side_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        left = self.pending()
        if left:
            logger.warning("outbox closed with {} call(s) unsent", left)
        self._lanes.clear()

    def _lane(self, chat_id: int) -> _Lane:
        lane = self._lanes.get(chat_id)
        if lane is None:
            pacing = self._pacing
            rate = pacing.group_per_minute / 60.0 if chat_id < 0 else pacing.per_chat_rate
            lane = _Lane(bucket=TokenBucket(rate, pacing.per_chat_burst, self._clock))
            self._lanes[chat_id] = lane
        return lane

    @staticmethod
    def _coalesce(lane: _Lane, draft: ShowDraft) -> bool:
        for index, queued in enumerate(lane.queue):
            if isinstance(queued, ShowDraft) and queued.draft_id == draft.draft_id:
                lane.queue[index] = draft
                return True
        return False

    @staticmethod
    def _drop_draft(lane: _Lane, draft_id: str) -> None:
        """The final text is queued: a draft of it still waiting would only be overwritten."""
        for index, queued in enumerate(lane.queue):
            if isinstance(queued, ShowDraft) and queued.draft_id == draft_id:
                del lane.queue[index]
                return

    # -- the lane ---------------------------------------------------------------------------

    async def _run(self, chat_id: int, lane: _Lane) -> None:
        try:
            while lane.queue:
                item = lane.queue.popleft()
                if isinstance(item, _Barrier):
                    item.reached()
                    continue
                if not isinstance(item, _Call):
                    lane.queue.extendleft(reversed(self._expand(item)))
                    continue
                if item.typing and self._typing_adds_nothing(lane):
                    continue
                self._in_progress += 1
                try:
                    await self._pace(lane, item)
                    retry = await self._attempt(item, lane)
                finally:
                    self._in_progress -= 1
                if retry:
                    lane.queue.appendleft(item)
        finally:
            lane.task = None
            if not lane.queue and lane.bucket.idle:
                self._lanes.pop(chat_id, None)

    def _typing_adds_nothing(self, lane: _Lane) -> bool:
        """True if something to show is queued behind "typing…", or every call slot is taken.

        Under a backlog "typing…" would only hold up answers: it is the first thing shed.
        """
        return self._in_flight.locked() or any(not isinstance(i, _Barrier) for i in lane.queue)

    async def _pace(self, lane: _Lane, call: _Call) -> None:
        pause = lane.paused_until - self._clock()
        if pause > 0:
            await asyncio.sleep(pause)
        if call.typing:
            return
        await lane.bucket.take()
        await self._global.take()

    async def _attempt(self, call: _Call, lane: _Lane) -> bool:
        """Make one call; return True if it should be retried."""
        try:
            async with self._in_flight:
                await self._perform(call)
        except RetryAfter as exc:
            wait = min(seconds(exc.retry_after), self._pacing.max_retry_after)
            lane.paused_until = self._clock() + wait
            logger.warning("telegram 429 in chat {}: pausing this chat {:g}s", call.chat_id, wait)
            return True
        except BadRequest as exc:
            return await self._bad_request(call, exc)
        except Forbidden as exc:
            logger.warning("telegram refused chat {}: {}", call.chat_id, exc.message)
            self.dropped += 1
        except NetworkError as exc:  # after BadRequest, its subclass: permanent errors first
            if not self._may_resend(call, exc):
                return False
            call.attempts += 1
            if call.attempts > self._pacing.network_retries:
                logger.error(
                    "giving up on chat {} after {} network errors: {}",
                    call.chat_id,
                    call.attempts,
                    exc,
                )
                self.dropped += 1
                return False
            delay = min(
                self._pacing.retry_backoff * 2 ** min(call.attempts - 1, 30),
                self._pacing.max_network_backoff,
            )
            logger.warning(
                "network error sending to chat {} ({}); retry in {:g}s", call.chat_id, exc, delay
            )
            lane.paused_until = self._clock() + delay
            return True
        except TelegramError as exc:
            logger.error("telegram error in chat {}: {}", call.chat_id, exc)
            self.dropped += 1
        return False

    def _may_resend(self, call: _Call, exc: NetworkError) -> bool:
        """False if ``call`` may have reached Telegram and must not be made again."""
        delivery = delivery_of(exc)
        if call.repeatable or delivery is Delivery.NOT_SENT:
            return True
        if delivery is Delivery.MAYBE_SENT and not call.resent:
            call.resent = True
            logger.warning(
                "connection lost after sending to chat {} ({}); sending once more, "
                "so it may show twice",
                call.chat_id,
                exc,
            )
            return True
        logger.warning(
            "a message to chat {} may have reached Telegram ({}: {}); not sending it again, "
            "so it may be missing",
            call.chat_id,
            delivery.value,
            exc,
        )
        if call.draft_key is not None:
            self._remember_draft(call.draft_key, _Draft(message_id=None, shown=call.text))
        return False

    async def _bad_request(self, call: _Call, exc: BadRequest) -> bool:
        text = exc.message.lower()
        if "not modified" in text:
            return False
        if "parse entities" in text and call.parse_mode is not None:
            logger.warning(
                "telegram rejected entities in chat {} ({}); sending plain text",
                call.chat_id,
                exc.message,
            )
            call.text = html_to_plain(call.text)
            call.parse_mode = None
            return True
        if "message to edit not found" in text and call.edit_message_id is not None:
            call.edit_message_id = None
            return True
        if "thread not found" in text and call.topic_id:  # the topic was deleted meanwhile
            call.topic_id = 0
            return True
        logger.error("telegram bad request in chat {}: {}", call.chat_id, exc.message)
        self.dropped += 1
        return False

    async def _perform(self, call: _Call) -> None:
        bot = self._bot
        if call.typing:
            await bot.send_chat_action(
                call.chat_id, ChatAction.TYPING, message_thread_id=call.topic_id or None
            )
            return
        if call.edit_message_id is not None:
            await bot.edit_message_text(
                call.text,
                chat_id=call.chat_id,
                message_id=call.edit_message_id,
                parse_mode=call.parse_mode,
                reply_markup=call.markup,
                link_preview_options=NO_PREVIEW,
            )
            message_id = call.edit_message_id
        else:
            sent = await bot.send_message(
                call.chat_id,
                call.text,
                parse_mode=call.parse_mode,
                reply_markup=call.markup,
                link_preview_options=NO_PREVIEW,
                message_thread_id=call.topic_id or None,
                # If the question was deleted meanwhile, answer anyway rather than fail.
                reply_parameters=None
                if call.reply_to is None
                else ReplyParameters(call.reply_to, allow_sending_without_reply=True),
            )
            message_id = sent.message_id
        self.sent += 1
        if call.draft_key is not None:
            if call.edit_message_id is None and self.on_new_draft is not None:
                self.on_new_draft(*call.draft_key, message_id)
            self._remember_draft(call.draft_key, _Draft(message_id=message_id, shown=call.text))

    def _remember_draft(self, key: tuple[int, str], draft: _Draft) -> None:
        self._drafts[key] = draft
        self._drafts.move_to_end(key)
        while len(self._drafts) > MAX_DRAFTS:
            self._drafts.popitem(last=False)

    async def _delete(self, command: DeleteMessage) -> None:
        """deleteMessage, at once; a 429 or a network error is retried a few times only."""
        for attempt in range(1, DELETE_ATTEMPTS + 1):
            try:
                await self._global.take()
                await self._bot.delete_message(command.chat_id, command.message_id)
            except RetryAfter as exc:
                wait = min(seconds(exc.retry_after), self._pacing.max_retry_after)
            except BadRequest as exc:  # before NetworkError, its base: gone, too old, no right
                logger.warning("could not delete a message in chat {}: {}", command.chat_id, exc)
                return
            except NetworkError as exc:
                wait = self._pacing.retry_backoff * 2 ** (attempt - 1)
                logger.warning("deleting in chat {} failed ({})", command.chat_id, exc)
            except TelegramError as exc:
                logger.warning("could not delete a message in chat {}: {}", command.chat_id, exc)
                return
            else:
                return
            if attempt < DELETE_ATTEMPTS:
                await asyncio.sleep(wait)
        logger.error("gave up deleting message {} in chat {}", command.message_id, command.chat_id)

    async def _answer_button(self, command: AnswerButton) -> None:
        try:
            await self._bot.answer_callback_query(command.callback_id, text=command.text or None)
        except TelegramError as exc:
            logger.warning("answering button {} failed: {}", command.callback_id, exc)

    # -- from commands to calls -------------------------------------------------------------

    def _expand(self, command: GatewayCommand) -> list[_Call]:
        if isinstance(command, ShowTyping):
            return [_Call(chat_id=command.chat_id, topic_id=command.topic_id, typing=True)]
        if isinstance(command, SendText):
            chunks, mode = self._chunks(command.text, command.format)
            calls = [
                _Call(
                    chat_id=command.chat_id, text=chunk, parse_mode=mode, topic_id=command.topic_id
                )
                for chunk in chunks
            ]
            if calls:
                calls[0].reply_to = command.reply_to_message_id
                calls[-1].markup = keyboard_markup(command.buttons)
            return calls
        if isinstance(command, EditText):
            chunks, mode = self._chunks(command.text, command.format)
            return [
                _Call(
                    chat_id=command.chat_id,
                    text=chunks[0] if chunks else "…",
                    parse_mode=mode,
                    markup=keyboard_markup(command.buttons),
                    edit_message_id=command.message_id,
                )
            ]
        if isinstance(command, ShowDraft):
            return self._draft_calls(command)
        if isinstance(command, FinishAnswer):
            return self._finish_calls(command)
        return []

    def _chunks(self, text: str, text_format: str) -> tuple[tuple[str, ...], str | None]:
        if text_format == "plain":
            return split_plain(text, self._max_chars), None
        rendered = markdown_to_html(text) if text_format == "markdown" else text
        return split_html(rendered, self._max_chars), ParseMode.HTML

    def _draft_calls(self, command: ShowDraft) -> list[_Call]:
        key = (command.chat_id, command.draft_id)
        # A draft shows only its first message's worth: render just enough Markdown for it,
        # so a long answer streaming in does not cost the whole event loop a full render on
        # every edit. (The renderer is built for unfinished Markdown.)
        head = command.markdown[: self._max_chars * 2]
        chunks = split_html(markdown_to_html(head), self._max_chars)
        if not chunks:
            return []
        draft = self._drafts.get(key)
        if draft is not None and (draft.message_id is None or draft.shown == chunks[0]):
            return []  # nothing new, or a message we cannot edit that may already show
        return [
            _Call(
                chat_id=command.chat_id,
                text=chunks[0],
                edit_message_id=draft.message_id if draft else None,
                reply_to=None if draft else command.reply_to_message_id,
                topic_id=command.topic_id,
                draft_key=key,
            )
        ]

    def _finish_calls(self, command: FinishAnswer) -> list[_Call]:
        key = (command.chat_id, command.draft_id)
        draft = self._drafts.pop(key, None)
        rendered = markdown_to_html(command.markdown) if command.markdown.strip() else ""
        if not rendered and draft is not None:
            # No final words (the sender lost track of them): keep what the draft shows.
            rendered = draft.shown
        if command.notice:
            notice = html.escape(command.notice, quote=False)
            rendered = f"{rendered}\n\n{notice}" if rendered else notice
        chunks = split_html(rendered, self._max_chars) if rendered else ()
        calls: list[_Call] = []
        for index, chunk in enumerate(chunks):
            if index == 0 and draft is not None:
                if draft.shown == chunk:
                    continue  # shown already (most likely, if its id is not known)
                if draft.message_id is not None:
                    calls.append(
                        _Call(chat_id=command.chat_id, text=chunk, edit_message_id=draft.message_id)
                    )
                    continue
            reply_to = command.reply_to_message_id if index == 0 else None
            calls.append(
                _Call(
                    chat_id=command.chat_id,
                    text=chunk,
                    reply_to=reply_to,
                    topic_id=command.topic_id,
                )
            )
        return calls
