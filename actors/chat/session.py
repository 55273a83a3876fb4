"""The chat session: one actor per chat, living in the ``/sessions`` keyed pool.

It decides everything about a conversation: who may talk (its :class:`Doorkeeper`, in
``access.py``; admins' decisions are the admin actor's, to which ``/admin``, ``/debug`` and
``a:`` buttons are forwarded), the commands (``/model`` and ``/mode`` are its
:class:`Menus`, in ``menus.py``), the context (persisted on every turn, so a restart or a
passivation loses nothing), and the answer in flight. Messages that arrive while an
answer is being generated wait in order in ``_waiting``; each is answered in turn.

The common path (a known user's text in an open chat, and the answer's outcome) is
handled on the event loop while the session's thread is idle (see :meth:`on_start`);
whatever would ask storage or read a file runs on the thread.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from loguru import logger

from actors.admin.commands import BUTTON_PREFIX
from actors.admin.messages import AdminButton, AdminCommand
from actors.chat import texts
from actors.chat.access import Doorkeeper
from actors.chat.context import FileRef, Remembered, recall, remembered, trim
from actors.chat.files import DAY_SECONDS, FileDesk, FileQuestion, FileSettings
from actors.chat.menus import MENU_WAIT_SECONDS, Menus
from actors.chat.messages import (
    AccessChanged,
    AnswerDone,
    AnswerFailed,
    BotMembershipChanged,
    ButtonPressed,
    ChatKind,
    GenerationOverdue,
    GroupAccessChanged,
    IncomingCommand,
    IncomingFile,
    IncomingText,
    ModelMenuDue,
    ModelsListed,
    UnsupportedContent,
    UserRef,
)
from actors.chat.spending import Charge, Spending
from actors.config import ModeConfig
from actors.files import CannotRead, Refused, attachment_tokens
from actors.flows.messages import CancelFlow, CaptureInput, FlowInput, ReleaseInput
from actors.llm.provider import AnswerDisplay, CancelGenerate, Generate
from actors.llm.wire import Turn as LlmTurn
from actors.storage import (
    AppendTurn,
    ChatState,
    ClearContext,
    CountFiles,
    LoadContext,
    OpenChat,
    RecordFile,
    RecordLlmRequest,
    SettleUsage,
    WriteTogether,
)
from actors.telegram.downloads import DownloadFailed, DownloadFile, FileDownloaded
from actors.telegram.messages import (
    AnswerButton,
    FinishAnswer,
    SendText,
    ShowTyping,
    UpdateHandled,
)
from actors.usage import UsagePolicy
from runtime import (
    Actor,
    ActorContext,
    Address,
    AsyncLoop,
    TimerHandle,
    current_correlation_id,
    receive,
)
from storage import ChatSettings, Turn, estimate_tokens


@dataclass(frozen=True, kw_only=True)
class SessionSettings:
    """What every session needs to know from the configuration."""

    admin_ids: frozenset[int]
    default_provider: str
    provider_models: Mapping[str, str]  # provider -> its default model
    system_prompt: str  # used when no modes are given
    modes: Mapping[str, ModeConfig] = field(default_factory=dict)
    default_mode: str = ""
    context_budget: int = 6000
    edit_interval: float = 1.0
    generation_timeout: float = 300.0
    storage_timeout: float = 10.0
    usage: UsagePolicy = field(default_factory=UsagePolicy.unlimited)


@dataclass(kw_only=True)
class _Answer:
    request_id: str
    user_id: int
    message_id: int
    question: str
    provider: str
    model: str
    generation: int
    topic_id: int = 0
    update_id: int = 0
    charge: Charge | None = None  # None only for answers without a provider call
    file: FileRef | None = None  # the kept file the question was about, for follow-ups
    file_tokens: int = 0  # its estimated cost in the context budget
    overdue: TimerHandle | None = None  # cancelled when the answer ends: see tell_later


class _FromUpdate(Protocol):
    """A message made from one Telegram update: IncomingText, IncomingCommand, ..."""

    @property
    def update_id(self) -> int: ...

    @property
    def message_id(self) -> int: ...


U = TypeVar("U", bound=_FromUpdate)


def answers_update(
    handler: Callable[[ChatSession, U], None],
) -> Callable[[ChatSession, U], None]:
    """Tell the gateway the update is handled when ``handler`` returns, unless it kept it.

    Every handler of a message made from an update (one with an ``update_id``) needs this:
    an update never said to be handled stays pending and is answered again at each start.

    The durable inbox marks an update done once what the session sent for it is out, and
    replays it at the next start otherwise: so every way out of a handler (an early return
    included) must say so. A handler that leaves work for later (a question queued for an
    answer, a menu waiting for providers) calls :meth:`ChatSession._keep`, and says so itself
    when that work ends. If the handler raises, nothing is said: the message is retried, and
    the gateway marks it done if the session gives up on it.
    """

    @functools.wraps(handler)
    def wrapper(self: ChatSession, message: U) -> None:
        self._kept = None
        # In a group, what the session says replies to the message it answers: people see
        # whom it answers, and in a forum the reply lands in that message's topic.
        self._asking = message.message_id if self.chat_id < 0 else None
        try:
            handler(self, message)
        finally:
            self._asking = None
        if self._kept != message.update_id:
            self._handled(message.update_id)

    return wrapper


def _tokens_of(turn: LlmTurn) -> int:
    """A turn's estimated tokens: its text, and each file it carries."""
    return estimate_tokens(turn.text) + sum(
        attachment_tokens(a.mime_type, len(a.data)) for a in turn.attachments
    )


class ChatSession(Actor):
    """See the module docstring. The chat id is this actor's pool key."""

    def __init__(
        self,
        context: ActorContext,
        *,
        settings: SessionSettings,
        storage: Address,
        gateway: Address,
        admin: Address,
        providers: Mapping[str, Address],
        files: FileSettings | None = None,
        loop: AsyncLoop | None = None,
    ) -> None:
        super().__init__(context)
        self.chat_id = int(context.key or "0")
        self._loop = loop
        self._settings = settings
        self._storage = storage
        self._gateway = gateway
        self._admin = admin
        self._providers = providers
        self._chat: ChatSettings | None = None
        self._contexts: dict[int, list[Remembered]] = {}  # topic id (0: the chat's) -> turns
        self._waiting: deque[IncomingText | FileQuestion] = deque()
        self._files = FileDesk(files) if files is not None else None  # None: files refused
        # Per topic, bumped by /clear: answers to questions asked before are not kept.
        self._generations: dict[int, int] = {}
        self._abandoned: deque[str] = deque(maxlen=64)  # request ids given up as overdue
        self._answer: _Answer | None = None
        self._kept: int | None = None  # the update the running handler left work for
        self._asking: int | None = None  # in a group, the message the running handler answers
        self._captures: dict[int, CaptureInput] = {}  # user id -> whose flow reads their text
        self._spending = Spending(
            settings.usage,
            storage,
            admin_ids=settings.admin_ids,
            storage_timeout=settings.storage_timeout,
        )
        self._door = Doorkeeper(
            self.chat_id,
            storage=storage,
            gateway=gateway,
            admin_ids=settings.admin_ids,
            storage_timeout=settings.storage_timeout,
            say=self._say,
        )
        self._menus = Menus(
            self.chat_id,
            storage=storage,
            gateway=gateway,
            providers=providers,
            modes=settings.modes,
            spending=self._spending,
            say=self._say,
            handled=self._handled,
        )

    def on_start(self) -> None:
        if self._loop is not None:
            # The common path (a known user's text, the answer's outcome) is decided on the
            # event loop, where the text arrives and where Generate is served: it never
            # crosses to this actor's thread and back. Anything that would ask storage or
            # read a file still runs here, on this thread.
            self.serve_idle_on_loop(
                self._loop,
                {IncomingText: self._answers_from_memory, AnswerDone: self._settles_from_memory},
            )

    def _answers_from_memory(self, message: IncomingText) -> bool:
        """Whether :meth:`on_text` can take ``message`` without waiting on storage or disk."""
        capture = self._captures.get(message.user.id)
        if capture is not None:  # the text goes to the flow's owner; a lapsed one, here
            return time.time() <= capture.until
        if self._chat is None or not self._door.admits_from_memory(message.user):
            return False
        return self._answer is not None or self._starts_from_memory(message)

    def _settles_from_memory(self, message: AnswerDone) -> bool:
        """Whether :meth:`on_done` can book ``message`` (and start the next answer) so."""
        answer = self._answer
        if answer is None or answer.request_id != message.request_id:
            return False  # an earlier incarnation's: rare, and it may load a topic
        if answer.topic_id not in self._contexts:
            return False
        return not self._waiting or self._starts_from_memory(self._waiting[0])

    def _starts_from_memory(self, message: IncomingText | FileQuestion) -> bool:
        """Whether :meth:`_next_answer` can start ``message``'s answer without waiting: its
        context is loaded and holds no file to read again, and no budget is to be asked."""
        if not isinstance(message, IncomingText) or self._spending.policy.enabled:
            return False
        if self._model()[0] not in self._providers:
            return False
        turns = self._contexts.get(message.topic_id)
        if turns is None:
            return False
        return self._files is None or all(turn.file is None for turn in turns)

    # -- context -------------------------------------------------------------------------

    def _open(self, kind: ChatKind) -> ChatSettings:
        if self._chat is None:
            state: ChatState = self._storage.ask(
                OpenChat(chat_id=self.chat_id, kind=kind), timeout=self._settings.storage_timeout
            )
            self._chat = state.settings
            self._contexts[0] = remembered(state.turns)
        return self._chat

    def _context(self, topic_id: int) -> list[Remembered]:
        """The turns of the chat's context, or of a forum topic's (loaded when first needed).

        :meth:`_open` loads the chat's own (topic 0); a topic's are asked of storage the
        first time the topic speaks, so a group with many topics loads only those in use.
        """
        turns = self._contexts.get(topic_id)
        if turns is None:
            stored: tuple[Turn, ...] = self._storage.ask(
                LoadContext(chat_id=self.chat_id, topic_id=topic_id),
                timeout=self._settings.storage_timeout,
            )
            turns = self._contexts[topic_id] = remembered(stored)
        return turns

    def _model(self) -> tuple[str, str]:
        chat = self._chat
        if chat and chat.provider is not None and chat.provider in self._providers and chat.model:
            return chat.provider, chat.model
        provider = self._settings.default_provider
        if provider not in self._providers and self._providers:
            provider = next(iter(self._providers))
        return provider, self._settings.provider_models.get(provider, "")

    def _mode(self) -> ModeConfig | None:
        """The chat's mode: its choice if still configured, else the default, else the first.

        None only when no modes are configured at all (then ``system_prompt`` applies).
        """
        modes = self._settings.modes
        chosen = self._chat.mode if self._chat is not None else None
        for name in (chosen, self._settings.default_mode):
            if name is not None and name in modes:
                return modes[name]
        return next(iter(modes.values()), None)

    def _remember(
        self,
        question: str,
        answer: str,
        topic_id: int,
        *,
        file: FileRef | None = None,
        file_tokens: int = 0,
    ) -> tuple[AppendTurn, AppendTurn]:
        """Add a question and its answer to the context; return the writes that store them.

        The caller sends the writes with the rest of the answer's, in one transaction.
        Only answered questions enter the context: a question whose answer failed is
        dropped, so the next message starts clean instead of dragging it along. A question
        about a file keeps a reference to it (``file``), and its cost counts in the budget.
        """
        budget = self._settings.context_budget
        turns = self._context(topic_id)
        asked = Remembered(
            role="user", text=question, tokens=estimate_tokens(question) + file_tokens, file=file
        )
        said = Remembered(role="assistant", text=answer, tokens=estimate_tokens(answer))
        turns.extend((asked, said))
        trim(turns, budget)

        def write(turn: Remembered) -> AppendTurn:
            return AppendTurn(
                chat_id=self.chat_id,
                role=turn.role,
                text=turn.text,
                budget=budget,
                topic_id=topic_id,
                tokens=turn.tokens,
                file_path=turn.file.path if turn.file is not None else None,
                file_mime=turn.file.mime_type if turn.file is not None else None,
            )

        return write(asked), write(said)

    def _prompt(
        self, question: str | LlmTurn, topic_id: int, model: tuple[str, str] | None = None
    ) -> tuple[LlmTurn, ...]:
        """System prompt, the context (same-role neighbours merged), then ``question``.

        ``question`` is a text, or a whole turn when it carries a file as an attachment.
        With the ``(provider, model)`` the prompt goes to, the context's newest files that
        model reads go again with their turns, read from disk here (see
        :func:`actors.chat.context.recall`); without, the context is its text alone.
        """
        last = question if isinstance(question, LlmTurn) else LlmTurn(role="user", text=question)
        files = self._files
        if files is not None and model is not None:
            context = recall(
                self._context(topic_id),
                reads=files.capabilities(*model).reads,
                load=files.recall,
            )
        else:
            context = [LlmTurn(role=t.role, text=t.text) for t in self._context(topic_id)]
        merged: list[LlmTurn] = []
        for turn in (*context, last):
            if merged and merged[-1].role == turn.role:
                merged[-1] = LlmTurn(
                    role=turn.role,
                    text=f"{merged[-1].text}\n\n{turn.text}",
                    attachments=merged[-1].attachments + turn.attachments,
                )
            else:
                merged.append(turn)
        mode = self._mode()
        system = mode.system_prompt if mode is not None else self._settings.system_prompt
        return (LlmTurn(role="system", text=system), *merged)

    # -- access (actors/chat/access.py) -----------------------------------------------------

    def _say(
        self,
        text: str,
        *,
        text_format: str = "plain",
        reply_to: int | None = None,
        update_id: int | None = None,
    ) -> None:
        """Send ``text`` to the chat; ``update_id`` names the update it answers when that is
        not the one being handled (a queued question refused after another's answer), so
        the durable inbox counts the line as that update's reply."""
        self._gateway.tell(
            SendText(
                chat_id=self.chat_id,
                text=text,
                format="plain" if text_format == "plain" else "markdown",
                reply_to_message_id=reply_to if reply_to is not None else self._asking,
            ),
            correlation_id=None if update_id is None else f"u{update_id}",
        )

    @receive
    def on_access_changed(self, message: AccessChanged) -> None:
        """An admin changed a user's access: forget the cached "active", drop their queue."""
        if message.user_id in self._settings.admin_ids:
            return
        self._door.forget(message.user_id)
        if message.state != "active":
            self._captures.pop(message.user_id, None)
            for dropped in (m for m in self._waiting if m.user.id == message.user_id):
                self._handled(dropped.update_id)
            self._waiting = deque(m for m in self._waiting if m.user.id != message.user_id)
            self._sync_busy()

    @receive
    def on_group_access_changed(self, message: GroupAccessChanged) -> None:
        """An admin decided on this group: apply it; a block drops what non-admins queued."""
        self._door.group_decided(message.access)
        if message.access == "blocked":
            admins = self._settings.admin_ids
            for dropped in (m for m in self._waiting if m.user.id not in admins):
                self._handled(dropped.update_id)
            self._waiting = deque(m for m in self._waiting if m.user.id in admins)
            self._sync_busy()

    @receive
    def on_membership(self, message: BotMembershipChanged) -> None:
        """The bot was added to this group or removed from it: the group's access follows.

        What follows, and who is told, is :meth:`Doorkeeper.membership_changed`'s to say.
        Not wrapped in :func:`answers_update` (there is no message to reply to): it says
        the update is handled itself, once all is told.
        """
        self._door.membership_changed(message)
        self._handled(message.update_id)

    def _keep(self, update_id: int) -> None:
        """The running handler leaves work for ``update_id``: it is not handled on return."""
        self._kept = update_id

    def _handled(self, update_id: int) -> None:
        """Everything for ``update_id`` was told to the gateway: it may mark it done."""
        self._gateway.tell(UpdateHandled(update_id=update_id, chat_id=self.chat_id))

    def _sync_busy(self) -> None:
        """Keep the pool from passivating or evicting this session while it has work."""
        self.context.set_busy(
            self._answer is not None
            or bool(self._waiting)
            or bool(self._captures)
            or bool(self._files and self._files.waiting)
        )

    def on_stop(self) -> None:
        if self._waiting:
            # Only after a crash (or a shutdown past its grace period) can this be: the
            # pool never passivates a busy session. Say so rather than stay silent.
            logger.warning("chat {}: {} queued message(s) lost", self.chat_id, len(self._waiting))
            self._say(texts.LOST_MESSAGES)
        # After a crash the gateway still runs: what this incarnation held is answered (the
        # line above, or an answer arriving later), so do not replay it at the next start.
        # At shutdown the gateway has stopped first: these are dead letters, and the
        # updates stay pending in the inbox, to be answered after the restart.
        held = [m.update_id for m in self._waiting]
        held.extend(self._files.waiting if self._files is not None else ())
        if self._answer is not None:
            held.append(self._answer.update_id)
        unshown = self._menus.unshown
        if unshown is not None:
            held.append(unshown)
        for update_id in held:
            self._handled(update_id)

    # -- input lent to a flow (actors/flows) ------------------------------------------------

    @receive
    def on_capture(self, message: CaptureInput) -> None:
        """A flow waits for this user's answer: their next texts go to its owner, not the LLM.

        Only owners this session knows may capture (the admin actor); while a capture holds,
        the session stays busy so it is not passivated, which would forget the capture. It
        lapses by itself at ``until``, should the owner never release it.
        """
        if message.owner != self._admin.path:
            logger.warning(
                "chat {}: capture by unknown owner {} ignored", self.chat_id, message.owner
            )
            return
        self._captures[message.user_id] = message
        self.context.tell_later(
            max(0.0, message.until - time.time()),
            ReleaseInput(user_id=message.user_id, flow_id=message.flow_id),
        )
        self._sync_busy()

    @receive
    def on_release(self, message: ReleaseInput) -> None:
        capture = self._captures.get(message.user_id)
        if capture is not None and capture.flow_id == message.flow_id:
            del self._captures[message.user_id]
            self._sync_busy()

    def _capture_of(self, user: UserRef) -> CaptureInput | None:
        capture = self._captures.get(user.id)
        if capture is not None and time.time() > capture.until:
            del self._captures[user.id]
            self._sync_busy()
            return None
        return capture

    def _cancel_flow(self, user: UserRef) -> None:
        """``/cancel``: end the flow waiting for this user's answer, if there is one."""
        capture = self._capture_of(user)
        if capture is None:
            self._say(texts.NOTHING_TO_CANCEL)
            return
        del self._captures[user.id]
        self._sync_busy()
        self._admin.tell(CancelFlow(chat_id=self.chat_id, user=user, flow_id=capture.flow_id))

    # -- incoming text ----------------------------------------------------------------------

    @receive
    @answers_update
    def on_text(self, message: IncomingText) -> None:
        capture = self._capture_of(message.user)
        if capture is not None:
            self._admin.tell(
                FlowInput(
                    chat_id=self.chat_id,
                    message_id=message.message_id,
                    user=message.user,
                    text=message.text,
                    flow_id=capture.flow_id,
                )
            )
            return
        self._open(message.chat_kind)
        state = self._door.state_of(message.user)
        if state != "active":
            self._door.refuse(state, chatter=True)
            return
        self._waiting.append(message)
        self._keep(message.update_id)
        self._next_answer()
        self._sync_busy()

    @receive
    @answers_update
    def on_unsupported(self, message: UnsupportedContent) -> None:
        if self._door.state_of(message.user) == "active":
            self._say(texts.UNSUPPORTED, reply_to=message.message_id)

    # -- files: documents, photos, voice (actors/chat/files.py) ------------------------------

    @receive
    @answers_update
    def on_file(self, message: IncomingFile) -> None:
        """Refuse a file from what its update announces, or have the gateway fetch it."""
        self._open(message.chat_kind)
        state = self._door.state_of(message.user)
        if state != "active":
            self._door.refuse(state, chatter=True)
            return
        if self._files is None:
            self._say(texts.FILES_OFF, reply_to=message.message_id)
            return
        sent_today: int = self._storage.ask(
            CountFiles(user_id=message.user.id, since=time.time() - DAY_SECONDS),
            timeout=self._settings.storage_timeout,
        )
        decision = self._files.admit(message, sent_today=sent_today)
        if isinstance(decision, Refused):
            self._say(decision.reason, reply_to=message.message_id)
            return
        ticket = uuid.uuid4().hex[:16]
        self._files.expect(ticket, message, decision.mime_type)
        self._gateway.tell(ShowTyping(chat_id=self.chat_id, topic_id=message.topic_id))
        self._gateway.tell(
            DownloadFile(
                ticket=ticket,
                file_id=message.file_id,
                max_bytes=self._files.settings.limits.max_bytes,
                reply_to=self.context.address,
            )
        )
        self._keep(message.update_id)
        self._sync_busy()

    @receive
    def on_file_downloaded(self, message: FileDownloaded) -> None:
        """Make the file a question the current model can take, keep it, and queue it."""
        taken = self._files.take(message.ticket) if self._files is not None else None
        if taken is None or self._files is None:
            return
        incoming, mime_type = taken
        provider, model = self._model()
        prepared = self._files.question_for(
            incoming, mime_type, message.data, provider=provider, model=model
        )
        if isinstance(prepared, CannotRead):
            self._say(prepared.reason, reply_to=incoming.message_id)
            self._handled(incoming.update_id)
            self._sync_busy()
            return
        try:
            row = self._files.keep(
                incoming, mime_type, message.data, correlation_id=current_correlation_id()
            )
        except OSError:
            logger.exception("chat {}: could not store a file", self.chat_id)
            self._say(texts.FILE_NOT_STORED, reply_to=incoming.message_id)
            self._handled(incoming.update_id)
            self._sync_busy()
            return
        self._storage.tell(RecordFile(file=row))
        if prepared.truncated:
            self._say(texts.FILE_TRUNCATED, reply_to=incoming.message_id)
        self._waiting.append(
            FileQuestion(
                update_id=incoming.update_id,
                message_id=incoming.message_id,
                user=incoming.user,
                text=prepared.remembered,
                turn=prepared.turn,
                topic_id=incoming.topic_id,
                file=FileRef(path=row.path, mime_type=mime_type) if prepared.reattach else None,
                file_tokens=attachment_tokens(mime_type, len(message.data))
                if prepared.reattach
                else 0,
            )
        )
        self._next_answer()
        self._sync_busy()

    @receive
    def on_file_failed(self, message: DownloadFailed) -> None:
        """The file could not be fetched (or was bigger than announced): say why."""
        taken = self._files.take(message.ticket) if self._files is not None else None
        if taken is None:
            return
        incoming, _ = taken
        logger.warning("chat {}: file not downloaded: {}", self.chat_id, message.detail)
        self._say(message.reason, reply_to=incoming.message_id)
        self._handled(incoming.update_id)
        self._sync_busy()

    def _next_answer(self) -> None:
        if self._answer is not None or not self._waiting:
            return
        message = self._waiting.popleft()
        provider, model = self._model()
        address = self._providers.get(provider)
        if address is None:
            self._say(texts.NO_MODELS, update_id=message.update_id)
            self._handled(message.update_id)
            self._next_answer()
            return
        request_id = uuid.uuid4().hex[:16]
        question = message.turn if isinstance(message, FileQuestion) else message.text
        turns = self._prompt(question, message.topic_id, (provider, model))
        charge = self._spending.charge_for(request_id, message.user.id, provider, model)
        refusal = self._spending.reserve(charge, sum(_tokens_of(t) for t in turns))
        if refusal is not None:  # over budget, or a model the asker's tier may not use
            reply_to = message.message_id if self.chat_id < 0 else None
            self._say(refusal, reply_to=reply_to, update_id=message.update_id)
            self._handled(message.update_id)
            self._next_answer()
            return
        answer = _Answer(
            request_id=request_id,
            user_id=message.user.id,
            message_id=message.message_id,
            question=message.text,
            provider=provider,
            model=model,
            generation=self._generations.get(message.topic_id, 0),
            topic_id=message.topic_id,
            update_id=message.update_id,
            charge=charge,
            file=message.file if isinstance(message, FileQuestion) else None,
            file_tokens=message.file_tokens if isinstance(message, FileQuestion) else 0,
        )
        self._answer = answer
        answer.overdue = self.context.tell_later(
            self._settings.generation_timeout, GenerationOverdue(request_id=answer.request_id)
        )
        # The question's own correlation id, not that of the answer that just ended. The
        # provider shows the answer (see AnswerDisplay); this session keeps the books. Told
        # last: whatever this thread does after it holds the GIL the loop needs for the call.
        address.tell(
            Generate(
                request_id=answer.request_id,
                chat_id=self.chat_id,
                model=model or None,
                turns=turns,
                question=message.text,
                topic_id=message.topic_id,
                display=AnswerDisplay(
                    gateway=self._gateway,
                    draft_every=self._settings.edit_interval,
                    reply_to_message_id=self._reply_target(answer),
                ),
            ),
            correlation_id=f"u{message.update_id}",
        )

    # -- the answer --------------------------------------------------------------------------

    def _reply_target(self, answer: _Answer) -> int | None:
        return None if self.chat_id > 0 else answer.message_id

    @receive
    def on_done(self, message: AnswerDone) -> None:
        answer = self._answer
        if answer is None or answer.request_id != message.request_id:
            if message.request_id not in self._abandoned and message.question:
                # Asked by an incarnation that crashed since: the provider showed it, keep it.
                turns = self._remember(message.question, message.text, message.topic_id)
                self._storage.tell(WriteTogether(writes=turns))
            # Given up on or not, the call was made: what it used counts against the budget.
            self._spending.settle_unowned(
                message.request_id,
                message.provider,
                message.model,
                message.tokens_in or 0,
                message.tokens_out or estimate_tokens(message.text),
                fallback_user=self.chat_id,
            )
            return
        self._handled(answer.update_id)  # the provider has shown it (see AnswerDisplay)
        topic = answer.topic_id
        tokens_in = message.tokens_in
        if tokens_in is None:  # the provider did not say: estimate the prompt
            tokens_in = sum(estimate_tokens(t.text) for t in self._prompt(answer.question, topic))
        kept: tuple[AppendTurn, ...] = ()
        if answer.generation == self._generations.get(topic, 0):  # not if /clear came meanwhile
            kept = self._remember(
                answer.question,
                message.text,
                topic,
                file=answer.file,
                file_tokens=answer.file_tokens,
            )
        self._record(
            answer,
            message.latency_ms,
            "ok",
            None,
            tokens_in,
            message.tokens_out if message.tokens_out is not None else estimate_tokens(message.text),
            also=kept,
        )
        self._end_answer(answer)

    @receive
    def on_failed(self, message: AnswerFailed) -> None:
        answer = self._answer
        if answer is None or answer.request_id != message.request_id:
            # Asked by an incarnation that crashed since: give its reservation back.
            self._spending.release_unowned(message.request_id)
            return
        self._fail(
            answer,
            message.error,
            message.detail,
            message.latency_ms,
            partial=message.partial,
            shown=message.shown,
        )

    @receive
    def on_overdue(self, message: GenerationOverdue) -> None:
        answer = self._answer
        if answer is not None and answer.request_id == message.request_id:
            timeout = self._settings.generation_timeout
            self._abandoned.append(answer.request_id)
            provider = self._providers.get(answer.provider)
            if provider is not None:
                provider.tell(CancelGenerate(request_id=answer.request_id))
            self._fail(
                answer, "GenerationOverdue", f"no outcome after {timeout:g}s", int(timeout * 1000)
            )

    def _fail(
        self,
        answer: _Answer,
        error: str,
        detail: str,
        latency_ms: int,
        *,
        partial: str = "",
        shown: bool = False,
    ) -> None:
        """End ``answer`` as failed; show what streamed and a friendly line unless shown.

        Given up on here (overdue), it is not known what streamed: the final text is then
        empty, and the outbox keeps what the draft shows.
        """
        logger.warning(
            "answer for chat {} failed: {}: {} cid={}",
            self.chat_id,
            error,
            detail,
            current_correlation_id(),
        )
        if not shown:
            self._gateway.tell(
                FinishAnswer(
                    chat_id=self.chat_id,
                    draft_id=answer.request_id,
                    markdown=partial,
                    notice=texts.provider_failure(error),
                    reply_to_message_id=self._reply_target(answer),
                    topic_id=answer.topic_id,
                )
            )
        self._handled(answer.update_id)
        self._record(answer, latency_ms, "failed", f"{error}: {detail}"[:500], 0, 0)
        self._end_answer(answer)

    def _end_answer(self, answer: _Answer) -> None:
        if answer.overdue is not None:
            answer.overdue.cancel()  # else its timer holds the message for generation_timeout
        self._answer = None
        self._next_answer()
        self._sync_busy()

    def _record(  # noqa: PLR0917 - one private call site per outcome
        self,
        answer: _Answer,
        latency_ms: int,
        status: str,
        error: str | None,
        tokens_in: int,
        tokens_out: int,
        *,
        also: tuple[AppendTurn, ...] = (),
    ) -> None:
        """Log the call and settle what it cost (or give back what it reserved).

        The log line and the settlement are written with ``also`` (the context turns the
        answer added), in one transaction.
        """
        writes: list[AppendTurn | SettleUsage | RecordLlmRequest] = list(also)
        if answer.charge is not None:
            if status == "ok":
                writes.append(self._spending.settlement(answer.charge, tokens_in, tokens_out))
            else:
                self._spending.release(answer.charge)
        writes.append(
            RecordLlmRequest(
                chat_id=self.chat_id,
                user_id=answer.user_id,
                provider=answer.provider,
                model=answer.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                latency_ms=latency_ms,
                status="ok" if status == "ok" else "failed",
                error=error,
                correlation_id=current_correlation_id(),
            )
        )
        self._storage.tell(WriteTogether(writes=tuple(writes)))

    # -- commands ----------------------------------------------------------------------------

    @receive
    @answers_update
    def on_command(self, message: IncomingCommand) -> None:
        self._open(message.chat_kind)
        command, user = message.command, message.user
        if command == "ping":
            self._say(texts.BOT_READY)
            return
        if command == "start":
            if self._door.is_admin(user):
                self._door.state_of(user)
                self._say(texts.WELCOME.format(name=user.first_name))
            else:
                self._door.request_access(user)
            return
        state = self._door.state_of(user)
        if state != "active":
            self._door.refuse(state)
            return
        self._run(message)

    def _run(self, message: IncomingCommand) -> None:
        """A command of an active user (access is checked by :meth:`on_command`)."""
        command, user = message.command, message.user
        if command == "help":
            provider, model = self._model()
            mode = self._mode()
            help_text = texts.HELP.format(
                model=f"{provider} · {model}", mode=mode.title if mode else "default"
            )
            self._say(help_text + (texts.ADMIN_HELP if self._door.is_admin(user) else ""))
        elif command == "clear":
            topic = message.topic_id
            self._storage.tell(ClearContext(chat_id=self.chat_id, topic_id=topic))
            self._context(topic).clear()
            self._generations[topic] = self._generations.get(topic, 0) + 1
            self._say(texts.CONTEXT_CLEARED)
        elif command == "model":
            menu_id = self._menus.open_models(message.update_id, user.id, reply_to=self._asking)
            if menu_id is not None:
                self._keep(message.update_id)
                self.context.tell_later(MENU_WAIT_SECONDS, ModelMenuDue(menu_id=menu_id))
        elif command == "usage":
            self._say(self._spending.report(user.id))
        elif command == "mode":
            self._menus.show_modes(self._mode(), reply_to=self._asking)
        elif command == "cancel":
            self._cancel_flow(user)
        elif command in ("admin", "debug"):
            self._admin.tell(
                AdminCommand(
                    chat_id=self.chat_id,
                    message_id=message.message_id,
                    user=user,
                    command=command,
                    args=message.args,
                )
            )
        else:
            self._say(texts.UNKNOWN_COMMAND.format(command=command))

    # -- /model and /mode (actors/chat/menus.py) --------------------------------------------

    @receive
    def on_models(self, message: ModelsListed) -> None:
        self._menus.listed(message, self._model())

    @receive
    def on_menu_due(self, message: ModelMenuDue) -> None:
        self._menus.due(message.menu_id, self._model())

    # -- buttons -------------------------------------------------------------------------------

    @receive
    @answers_update
    def on_button(self, message: ButtonPressed) -> None:
        user = message.user
        data = message.data
        if data.startswith(BUTTON_PREFIX):
            self._admin.tell(
                AdminButton(
                    chat_id=self.chat_id,
                    message_id=message.message_id,
                    callback_id=message.callback_id,
                    user=user,
                    data=data,
                )
            )
            return
        if self._door.state_of(user) != "active":
            self._gateway.tell(AnswerButton(callback_id=message.callback_id))
            return
        chosen = self._menus.press(message, self._chat)
        if chosen is not None:
            self._chat = chosen
