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

from actors.scheduler.messages import JobDue
from runtime import Actor, ActorContext, Address, Message, receive
from storage import (
    BudgetExceeded,
    Chat,
    ChatKind,
    ChatSettings,
    FileRecord,
    GroupAccess,
    InboxUpdate,
    IncomingUpdate,
    LlmRequestStats,
    ModelDiff,
    ModelEntry,
    NewFile,
    RequestStatus,
    Reservation,
    Role,
    Store,
    TierUsage,
    TopUser,
    Turn,
    User,
    UserCounts,
    UserState,
    UserUpsert,
    UserUsage,
    delete_files_before,
)
from storage.errors import ConstraintViolation, RecordNotFound, StorageError, StorageUnavailable


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


class GetChat(Message, frozen=True, kw_only=True):
    """Ask: the chat's record (a group's access included), or None if never registered."""

    chat_id: int


class SetGroupAccess(Message, frozen=True, kw_only=True):
    """Ask: record a group's ``access`` as changed by ``by``; reply the group's :class:`Chat`.

    With ``kind`` the group is registered first (or its kind and title refreshed), as when
    the bot is added to it; ``added`` notes ``by`` as the one who added the bot. Without
    ``kind`` an unregistered group is :class:`RecordNotFound`.
    """

    chat_id: int
    access: GroupAccess
    by: int | None
    added: bool = False
    kind: ChatKind | None = None
    title: str | None = None


class ListGroups(Message, frozen=True, kw_only=True):
    """Ask: a page of groups, optionally only those in ``access``."""

    access: GroupAccess | None = None
    limit: int = 20
    offset: int = 0


class CountGroups(Message, frozen=True, kw_only=True):
    """Ask: how many groups are in ``access`` (all groups for None)."""

    access: GroupAccess | None = None


class AppendTurn(Message, frozen=True, kw_only=True):
    """Tell: add one turn to a chat's context, then trim it to ``budget`` tokens.

    ``tokens`` is the sender's count (a file's estimate included); None estimates it from
    ``text``. ``file_path`` and ``file_mime`` name the stored file a user turn was about,
    for follow-ups (both or neither).
    """

    chat_id: int
    role: Role
    text: str
    budget: int
    topic_id: int = 0
    tokens: int | None = None
    file_path: str | None = None
    file_mime: str | None = None


class ClearContext(Message, frozen=True, kw_only=True):
    """Tell: forget a chat's context (a forum topic's, if ``topic_id`` is not 0)."""

    chat_id: int
    topic_id: int = 0


class LoadContext(Message, frozen=True, kw_only=True):
    """Ask: the turns of a forum topic's context (OpenChat gives the chat's own), oldest first."""

    chat_id: int
    topic_id: int


class SetChatModel(Message, frozen=True, kw_only=True):
    """Tell: remember the provider and model a chat chose."""

    chat_id: int
    provider: str
    model: str


class SetChatMode(Message, frozen=True, kw_only=True):
    """Tell: remember the mode (system prompt) a chat chose with /mode."""

    chat_id: int
    mode: str


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


class RecordFile(Message, frozen=True, kw_only=True):
    """Ask or tell: a file a user sent was written to disk; record it. Replies its row."""

    file: NewFile


class CountFiles(Message, frozen=True, kw_only=True):
    """Ask: how many files ``user_id`` had recorded since ``since`` (epoch s), for the quota."""

    user_id: int
    since: float


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


class ReserveUsage(Message, frozen=True, kw_only=True):
    """Ask: hold ``tokens`` against the user's daily and monthly budgets before an LLM call.

    Replies :class:`storage.Reservation`, or :class:`storage.BudgetExceeded` (nothing held)
    if the tokens used since ``day_start`` / ``month_start`` plus ``tokens`` would pass a
    limit (None: unlimited). Asking again with the same ``request_id`` replies the same
    reservation without holding more.
    """

    request_id: str
    user_id: int
    tier: str
    provider: str
    model: str
    tokens: int
    day_start: float
    month_start: float
    daily_limit: int | None
    monthly_limit: int | None


class SettleUsage(Message, frozen=True, kw_only=True):
    """Tell: the LLM call ``request_id`` is over; record what it really used and cost.

    Replaces the reservation's estimate (or records the call if it was never reserved).
    """

    request_id: str
    user_id: int
    tier: str
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost: float


class WriteTogether(Message, frozen=True, kw_only=True):
    """Tell: these writes in one transaction, in order: all of them are made, or none.

    What one answer changes (two context turns, the usage ledger, the request log) costs
    one commit instead of four, and each context written is trimmed once, at the end:
    about half the storage thread's time per answer.
    """

    writes: tuple[AppendTurn | SettleUsage | RecordLlmRequest, ...]


class ReleaseUsage(Message, frozen=True, kw_only=True):
    """Tell: the call ``request_id`` used nothing (failed, cancelled): give its estimate back."""

    request_id: str


class GetUsage(Message, frozen=True, kw_only=True):
    """Ask: a user's usage since ``day_start`` and ``month_start`` and their tier.

    Replies :class:`storage.UserUsage`.
    """

    user_id: int
    day_start: float
    month_start: float


class GetUsageStats(Message, frozen=True, kw_only=True):
    """Ask: usage per tier and the ``top`` heaviest users since ``since``.

    Replies :class:`UsageStats`.
    """

    since: float
    top: int = 5


class UsageStats(Message, frozen=True, kw_only=True):
    """Usage since a moment: per tier (most tokens first) and the heaviest users."""

    tiers: tuple[TierUsage, ...]
    top_users: tuple[TopUser, ...]


class SetUserTier(Message, frozen=True, kw_only=True):
    """Ask: put a user in ``tier`` (None: the default tier); reply the new :class:`User`."""

    user_id: int
    tier: str | None


class ProbeStorage(Message, frozen=True, kw_only=True):
    """Command: write a heartbeat row and read it back, for the health supervisor.

    The outcome goes to ``reply_to`` as :class:`StorageProbed` (Akka's request-response
    pattern: handed over in memory, never encoded). Unlike the other handlers this one is
    not patient: a locked or broken database is exactly what the probe must report.
    """

    probe_id: str
    reply_to: Address


class StorageProbed(Message, frozen=True, kw_only=True):
    """Event: how a :class:`ProbeStorage` went, and how long the write and read took."""

    probe_id: str
    ok: bool
    detail: str
    took_ms: float


HEARTBEAT_KEY = "health:heartbeat"


class RecordUpdates(Message, frozen=True, kw_only=True):
    """Ask: write a batch of updates to the durable inbox; reply the ids that were new.

    An id already in the inbox was delivered again by Telegram: leave it out, do not
    process it twice.
    """

    updates: tuple[IncomingUpdate, ...]
    run_id: str


class ClaimPendingUpdates(Message, frozen=True, kw_only=True):
    """Ask: the inbox's pending updates of earlier runs, oldest first, now ``run_id``'s."""

    run_id: str


class GetInboxHighWater(Message, frozen=True, kw_only=True):
    """Ask: the highest update id on record in the inbox, or None (an empty inbox)."""


class GetPendingDrafts(Message, frozen=True, kw_only=True):
    """Ask: the draft messages of pending updates, of any run: (update id, message id) pairs."""


class MarkUpdatesDone(Message, frozen=True, kw_only=True):
    """Tell: these updates are answered (or had nothing to answer); never replay them."""

    update_ids: tuple[int, ...]


class NoteDraft(Message, frozen=True, kw_only=True):
    """Tell: ``message_id`` shows the streaming answer to ``update_id`` (edited on replay)."""

    update_id: int
    message_id: int


class PruneInbox(Message, frozen=True, kw_only=True):
    """Ask or tell: delete inbox rows done before ``older_than`` (epoch s); reply how many."""

    older_than: float


class PurgeOld(Message, frozen=True, kw_only=True):
    """Ask or tell: delete LLM request rows and files under ``files_dir`` older than ``before``.

    Also answered inbox rows and usage ledger rows, each kept a minimum time whatever
    ``before`` says. Replies :class:`Purged`. The scheduler's retention job (a
    :class:`JobDue` with topic :data:`RETENTION_TOPIC`) does the same with ``before`` =
    now - ``retention_days``.
    """

    before: float


class Purged(Message, frozen=True, kw_only=True):
    """What a :class:`PurgeOld` deleted; ``files_failed`` files could not be deleted."""

    requests: int
    files: int
    files_failed: int
    inbox: int = 0
    usage: int = 0


RETENTION_TOPIC = "retention"
DAY_SECONDS = 86_400.0
# Done inbox rows only serve to recognise an update Telegram delivers again, which it does
# for at most 24 hours; two days leaves a margin whatever retention_days says.
INBOX_KEEP_SECONDS = 2 * DAY_SECONDS
# Monthly budgets count every request since the month began (at most 31 days ago): keep
# ledger rows at least 62 days, so this month and the last are always whole, whatever
# retention_days says.
USAGE_KEEP_SECONDS = 62 * DAY_SECONDS


StorageRequest = (
    OpenChat
    | GetUser
    | RegisterUser
    | SetUserState
    | ListUsers
    | CountUsers
    | GetChat
    | SetGroupAccess
    | ListGroups
    | CountGroups
    | AppendTurn
    | ClearContext
    | LoadContext
    | SetChatModel
    | SetChatMode
    | RecordLlmRequest
    | RecordFile
    | CountFiles
    | GetLlmStats
    | CountActiveChats
    | ListCachedModels
    | ReplaceModels
    | RecordUpdates
    | ClaimPendingUpdates
    | GetPendingDrafts
    | MarkUpdatesDone
    | NoteDraft
    | PruneInbox
    | ReserveUsage
    | SettleUsage
    | WriteTogether
    | ReleaseUsage
    | GetUsage
    | GetUsageStats
    | SetUserTier
    | ProbeStorage
    | PurgeOld
    | JobDue
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

    # A caller's bad value or a missing row is answered to that caller; restarting the
    # database over it would spend the tree's restart budget on someone else's mistake.
    answered_errors = (ConstraintViolation, RecordNotFound)
    # The poller waits for its batch to be on record before it may fetch the next one; after
    # a burst it would wait behind every context write queued meanwhile. Safe to overtake:
    # nothing queued before a batch's write is about its (new) updates.
    served_first = (RecordUpdates,)

    def __init__(
        self,
        context: ActorContext,
        path: Path,
        *,
        busy_timeout: float = 5.0,
        retention_days: int = 90,
        files_dir: Path | None = None,
    ) -> None:
        super().__init__(context)
        self._path = path
        self._busy_timeout = busy_timeout
        self._retention_days = retention_days
        self._files_dir = files_dir
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
        store = self._store = self.patiently(
            lambda: Store.open(self._path, busy_timeout=self._busy_timeout)
        )
        # A reservation is settled or released by the session that made it; one still
        # reserved now belongs to a process that was killed mid-call and would hold budget
        # forever. After a restart of this actor alone it may instead belong to a call still
        # in flight: harmless, since settling a released row still records the call.
        released = self.patiently(lambda: store.release_reservations_before(time.time()))
        if released:
            logger.info("storage: released {} reservation(s) left by an earlier run", released)

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
    def get_chat(self, message: GetChat) -> Chat | None:
        return self.store.get_chat(message.chat_id)

    @receive
    @patient
    def set_group_access(self, message: SetGroupAccess) -> Chat:
        if message.kind is not None:
            self.store.upsert_chat(message.chat_id, kind=message.kind, title=message.title)
        return self.store.set_group_access(
            message.chat_id, message.access, by=message.by, added=message.added
        )

    @receive
    @patient
    def list_groups(self, message: ListGroups) -> tuple[Chat, ...]:
        return self.store.list_groups(message.access, message.limit, message.offset)

    @receive
    @patient
    def count_groups(self, message: CountGroups) -> int:
        return self.store.count_groups(message.access)

    @receive
    @patient
    def append_turn(self, message: AppendTurn) -> None:
        self._append_turn(message)
        self.store.trim_context(message.chat_id, message.budget, topic_id=message.topic_id)

    def _append_turn(self, message: AppendTurn) -> None:
        self.store.append_turn(
            message.chat_id,
            message.role,
            message.text,
            tokens=message.tokens,
            topic_id=message.topic_id,
            file_path=message.file_path,
            file_mime=message.file_mime,
        )

    @receive
    @patient
    def write_together(self, message: WriteTogether) -> None:
        store = self.store
        budgets: dict[tuple[int, int], int] = {}  # each context written, trimmed at the end
        with store.transaction():
            for write in message.writes:
                if isinstance(write, AppendTurn):
                    self._append_turn(write)
                    budgets[write.chat_id, write.topic_id] = write.budget
                elif isinstance(write, SettleUsage):
                    self._settle_usage(write)
                else:
                    self._record_llm_request(write)
            for (chat_id, topic_id), budget in budgets.items():
                store.trim_context(chat_id, budget, topic_id=topic_id)

    @receive
    @patient
    def clear_context(self, message: ClearContext) -> None:
        self.store.clear_context(message.chat_id, topic_id=message.topic_id)

    @receive
    @patient
    def load_context(self, message: LoadContext) -> tuple[Turn, ...]:
        return self.store.load_context(message.chat_id, topic_id=message.topic_id)

    @receive
    @patient
    def set_chat_model(self, message: SetChatModel) -> None:
        self.store.set_chat_model(message.chat_id, message.provider, message.model)

    @receive
    @patient
    def set_chat_mode(self, message: SetChatMode) -> None:
        self.store.set_chat_mode(message.chat_id, message.mode)

    @receive
    @patient
    def record_llm_request(self, message: RecordLlmRequest) -> None:
        self._record_llm_request(message)

    def _record_llm_request(self, message: RecordLlmRequest) -> None:
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
    def record_file(self, message: RecordFile) -> FileRecord:
        return self.store.record_file(message.file)

    @receive
    @patient
    def count_files(self, message: CountFiles) -> int:
        return self.store.count_files_since(message.user_id, message.since)

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

    @receive
    @patient
    def record_updates(self, message: RecordUpdates) -> tuple[int, ...]:
        return self.store.record_updates(message.updates, run_id=message.run_id)

    @receive
    @patient
    def claim_pending_updates(self, message: ClaimPendingUpdates) -> tuple[InboxUpdate, ...]:
        return self.store.claim_pending(run_id=message.run_id)

    @receive
    @patient
    def inbox_high_water(self, _message: GetInboxHighWater) -> int | None:
        return self.store.highest_update_id()

    @receive
    @patient
    def pending_drafts(self, _message: GetPendingDrafts) -> tuple[tuple[int, int], ...]:
        return tuple(self.store.pending_drafts().items())

    @receive
    @patient
    def mark_updates_done(self, message: MarkUpdatesDone) -> None:
        self.store.mark_done(message.update_ids)

    @receive
    @patient
    def note_draft(self, message: NoteDraft) -> None:
        self.store.note_draft(message.update_id, message.message_id)

    @receive
    @patient
    def prune_inbox(self, message: PruneInbox) -> int:
        return self.store.prune_inbox(message.older_than)

    @receive
    @patient
    def reserve_usage(self, message: ReserveUsage) -> Reservation | BudgetExceeded:
        return self.store.reserve_usage(
            request_id=message.request_id,
            user_id=message.user_id,
            tier=message.tier,
            provider=message.provider,
            model=message.model,
            tokens=message.tokens,
            day_start=message.day_start,
            month_start=message.month_start,
            daily_limit=message.daily_limit,
            monthly_limit=message.monthly_limit,
        )

    @receive
    @patient
    def settle_usage(self, message: SettleUsage) -> None:
        self._settle_usage(message)

    def _settle_usage(self, message: SettleUsage) -> None:
        self.store.settle_usage(
            request_id=message.request_id,
            user_id=message.user_id,
            tier=message.tier,
            provider=message.provider,
            model=message.model,
            tokens_in=message.tokens_in,
            tokens_out=message.tokens_out,
            cost=message.cost,
        )

    @receive
    @patient
    def release_usage(self, message: ReleaseUsage) -> None:
        self.store.release_usage(message.request_id)

    @receive
    @patient
    def get_usage(self, message: GetUsage) -> UserUsage:
        return self.store.usage_of(
            message.user_id, day_start=message.day_start, month_start=message.month_start
        )

    @receive
    @patient
    def usage_stats(self, message: GetUsageStats) -> UsageStats:
        return UsageStats(
            tiers=self.store.usage_by_tier(message.since),
            top_users=self.store.top_users(message.since, message.top),
        )

    @receive
    @patient
    def set_user_tier(self, message: SetUserTier) -> User:
        return self.store.set_user_tier(message.user_id, message.tier)

    @receive
    def probe(self, message: ProbeStorage) -> None:
        started = time.monotonic()
        beat = str(time.time_ns()).encode()
        try:
            self.store.save_state(HEARTBEAT_KEY, beat)
            read = self.store.load_state(HEARTBEAT_KEY)
        except (StorageError, RuntimeError) as exc:  # RuntimeError: not open
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        else:
            ok = read == beat
            detail = "wrote and read back a heartbeat" if ok else "read back a different heartbeat"
        took_ms = (time.monotonic() - started) * 1000.0
        message.reply_to.tell(
            StorageProbed(probe_id=message.probe_id, ok=ok, detail=detail, took_ms=took_ms)
        )

    @receive
    def purge_old(self, message: PurgeOld) -> Purged:
        requests = self.patiently(lambda: self.store.delete_llm_requests_before(message.before))
        # The files table's rows go with the files (same cut-off: a file is written just
        # before its row, so its mtime is no later than its created_at).
        self.patiently(lambda: self.store.forget_files_before(message.before))
        files = (
            delete_files_before(self._files_dir, message.before)
            if self._files_dir is not None
            else None
        )
        inbox_before = min(message.before, time.time() - INBOX_KEEP_SECONDS)
        inbox = self.patiently(lambda: self.store.prune_inbox(inbox_before))
        usage_before = min(message.before, time.time() - USAGE_KEEP_SECONDS)
        usage = self.patiently(lambda: self.store.delete_usage_before(usage_before))
        purged = Purged(
            requests=requests,
            files=files.deleted if files else 0,
            files_failed=files.failed if files else 0,
            inbox=inbox,
            usage=usage,
        )
        logger.info(
            "retention: deleted {} LLM request row(s), {} file(s) ({} failed) older than {:g},"
            " {} answered inbox row(s) and {} usage ledger row(s)",
            purged.requests,
            purged.files,
            purged.files_failed,
            message.before,
            purged.inbox,
            purged.usage,
        )
        return purged

    @receive
    def on_job_due(self, message: JobDue) -> Purged | None:
        if message.topic != RETENTION_TOPIC:
            logger.warning("storage: job {} has topic {!r}; ignored", message.job_id, message.topic)
            return None
        return self.purge_old(PurgeOld(before=time.time() - self._retention_days * DAY_SECONDS))
