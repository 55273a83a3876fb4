"""The gateway's intake on the event loop: the durable inbox, routing, and what is done.

:class:`Intake` is plain logic owned by one gateway incarnation and used only on the event
loop (no locks). It

- replays the inbox's pending updates of earlier runs before anything new is taken in,
- writes each batch the poller fetches to the inbox (through the storage actor's
  ``ask_async``) and returns the updates not seen before,
- hands updates to their chat's session with correlation id ``u<update_id>``: at once,
  while the batch is being written, for ids above the inbox's high-water mark (Telegram's
  ids only grow, so those cannot be re-deliveries), after the write for the others,
- passes replies to the outbox while noting which update they answer
  (:class:`~actors.telegram.completion.Completions` marks an update done once they are out),
- notes the message a streaming answer is shown in, so that a replayed update's new answer
  edits the draft a killed process left instead of leaving it behind.

docs/architecture.md ("Intake: the durable inbox") tells the whole story.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from loguru import logger
from telegram import Bot, Update

from actors.loop import let_calls_start
from actors.storage import (
    ClaimPendingUpdates,
    GetInboxHighWater,
    MarkUpdatesDone,
    NoteDraft,
    RecordUpdates,
)
from actors.telegram.completion import Completions
from actors.telegram.messages import FinishAnswer, GatewayCommand, ShowDraft
from actors.telegram.outbox import MAX_DRAFTS, Outbox
from actors.telegram.updates import Poller, translate
from runtime import Address
from storage import IncomingUpdate

INBOX_TIMEOUT = 90.0  # storage retries a locked database for up to 60 s before it gives up


class Intake:
    """See the module docstring. Without ``storage``, updates live in memory only."""

    def __init__(
        self,
        *,
        bot: Bot,
        username: str,
        outbox: Outbox,
        sessions: Address,
        gateway: Address,
        storage: Address | None,
        run_id: str,
        send: Callable[[GatewayCommand], None] | None = None,
        drafts: Mapping[int, int] | None = None,
        as_json: Callable[[Update], str] = Update.to_json,
    ) -> None:
        """``send`` is where replies go (the gateway's typing indicators; default: outbox).

        ``as_json`` is how an update is written to the inbox (the gateway's: as Telegram
        sent it, see :class:`~actors.telegram.updates.UpdatesRequest`).

        ``drafts`` are the inbox's pending updates' draft messages (update id -> message
        id): a gateway restarted while an answer streams then finishes it in the draft
        its predecessor sent, instead of in a new message beside a cut-off one.
        """
        self._bot = bot
        self._username = username
        self._outbox = outbox
        self._sessions = sessions
        self._gateway = gateway
        self._storage = storage
        self._run_id = run_id
        self._send = send or outbox.submit
        self._as_json = as_json
        self.completions = Completions(outbox, self.mark_done)
        outbox.on_new_draft = self._draft_shown
        self._draft_updates: dict[tuple[int, str], int] = {}  # (chat, draft) -> update id
        self._leftover_drafts = dict(drafts or {})  # pending update id -> its draft, shown
        # The highest update id on record or handed out; None until the inbox was asked.
        self._high_water: int | None = None
        # Handed to a session while its row was being written: id -> answered since. Until
        # the poller delivers it (once the write succeeded; a failed one is retried with
        # the batch, carrying whether it was answered, so that it is not replayed).
        self._early: dict[int, bool] = {}

    async def run(self, poller: Poller) -> None:
        """Replay what earlier runs left unanswered, then poll until cancelled."""
        await self.replay_pending()
        await poller.run()

    async def replay_pending(self) -> None:
        """Hand the inbox's pending updates of earlier runs to sessions, oldest first.

        A failure here (storage unavailable) ends polling, so the supervisor restarts the
        gateway and the next incarnation tries again before taking anything new.
        """
        if self._storage is None:
            return
        self._high_water = await self._storage.ask_async(GetInboxHighWater(), timeout=INBOX_TIMEOUT)
        pending = await self._storage.ask_async(
            ClaimPendingUpdates(run_id=self._run_id), timeout=INBOX_TIMEOUT
        )
        if not pending:
            return
        logger.info("replaying {} update(s) left unanswered by the last run", len(pending))
        for row in pending:
            try:
                update = Update.de_json(json.loads(row.payload), self._bot)
            except (ValueError, TypeError, KeyError) as exc:
                logger.error("inbox update {} cannot be read ({}); dropped", row.update_id, exc)
                self.mark_done(row.update_id)
                continue
            if not self.route(update):
                self.mark_done(row.update_id)

    async def record(self, updates: Sequence[Update]) -> Sequence[Update]:
        """Write a fetched batch to the inbox; return the updates not seen before.

        Updates above the high-water mark are handed to their sessions at once, while the
        batch is written, so an answer never waits for the database (nor for what the
        storage actor has queued before it); :meth:`route` then skips them. Updates
        nothing will answer (another bot's command, a service message) are written down as
        done at once: they are only kept to recognise a re-delivery. Raises what the write
        raised: the poller fetches the batch again later.
        """
        if self._storage is None:
            return updates
        if self._hand_out_early(updates):
            # The answers just handed out start their calls before the write wakes the
            # storage actor's thread. An update marked done meanwhile has no row yet (its
            # MarkUpdatesDone changes nothing): _early notes it, and its row is written done.
            await let_calls_start()
        entries = []
        for update in updates:
            translated = translate(update, self._username)
            entries.append(
                IncomingUpdate(
                    update_id=update.update_id,
                    chat_id=None if translated is None else translated[0],
                    payload=self._as_json(update),
                    done=translated is None or self._early.get(update.update_id, False),
                )
            )
        # Sent in the turn the rows are made, so that any later MarkUpdatesDone for them
        # queues behind their write.
        writing = self._storage.ask_now(
            RecordUpdates(updates=tuple(entries), run_id=self._run_id), timeout=INBOX_TIMEOUT
        )
        fresh = set(await writing)
        if updates:  # on record now: later ids above these are new
            self._high_water = max(self._high_water or 0, *(u.update_id for u in updates))
        for update in updates:
            if update.update_id not in fresh:
                self._early.pop(update.update_id, None)
                logger.info("update {} was delivered again; not handled twice", update.update_id)
        return [update for update in updates if update.update_id in fresh]

    def _hand_out_early(self, updates: Sequence[Update]) -> bool:
        """Route the updates above the high-water mark now: they cannot be on record.

        True if any was handed out.
        """
        if self._high_water is None:
            return False  # the inbox's mark is not known yet: the write decides what is new
        handed = False
        for update in updates:
            if update.update_id <= self._high_water:
                continue
            self._high_water = update.update_id
            try:
                routed = self._route(update)
            except Exception:  # noqa: BLE001 - boundary: one bad update must not stop intake
                logger.exception("could not route update {}", update.update_id)
                continue  # the poller routes it after the write, and logs it again
            if routed:
                self._early[update.update_id] = False
                handed = True
        return handed

    def route(self, update: Update) -> bool:
        """Hand ``update`` to its chat's session (unless it was, early); False if for no one."""
        if self._early.pop(update.update_id, None) is not None:
            return True
        return self._route(update)

    def _route(self, update: Update) -> bool:
        translated = translate(update, self._username)
        if translated is None:
            return False
        chat_id, message = translated
        self.completions.opened(update.update_id, chat_id)
        # Sent as the gateway (this runs on the loop, outside any handler), so that an update
        # the session cannot handle comes back there as DeliveryFailed and the user hears back.
        self._sessions.child(chat_id).tell(
            message, correlation_id=f"u{update.update_id}", sender=self._gateway
        )
        return True

    def submit(self, message: GatewayCommand, update_id: int, chat_id: int) -> None:
        """Queue a reply to ``update_id`` for ``chat_id``, in order with its UpdateHandled."""
        self.completions.replied(update_id, chat_id)
        if isinstance(message, ShowDraft | FinishAnswer):
            self._follow_draft(message, update_id)
        self._send(message)

    def mark_done(self, update_id: int) -> None:
        """Record ``update_id`` as done (the moment its last reply is out)."""
        if update_id in self._early:  # its row may not be written yet: it will say so
            self._early[update_id] = True
        if self._storage is not None:
            self._storage.tell(MarkUpdatesDone(update_ids=(update_id,)))

    def _follow_draft(self, message: ShowDraft | FinishAnswer, update_id: int) -> None:
        """Know which update a draft answers; reuse the draft a killed process left for it."""
        key = (message.chat_id, message.draft_id)
        leftover = self._leftover_drafts.pop(update_id, None)
        if leftover is not None:
            self._outbox.adopt_draft(message.chat_id, message.draft_id, leftover)
        if isinstance(message, FinishAnswer):
            self._draft_updates.pop(key, None)
            return
        self._draft_updates[key] = update_id
        if len(self._draft_updates) > MAX_DRAFTS:  # answers that never finished (crashes)
            del self._draft_updates[next(iter(self._draft_updates))]

    def _draft_shown(self, chat_id: int, draft_id: str, message_id: int) -> None:
        """The outbox sent a draft's first message: note it, should the update be replayed."""
        update_id = self._draft_updates.get((chat_id, draft_id))
        if update_id is not None and self._storage is not None:
            self._storage.tell(NoteDraft(update_id=update_id, message_id=message_id))
