"""The durable inbox: every update taken in, written down before it is confirmed to its sender.

An update is recorded once, keyed by its ``update_id`` (recording it again changes nothing
and says so, which is how a re-delivered update is recognised), stays *pending* until
:meth:`InboxTable.mark_done` and is then kept until :meth:`InboxTable.prune_inbox`.

Each process that takes updates in has a ``run_id``. :meth:`InboxTable.claim_pending` hands
a process the pending updates of earlier runs (the ones a crash or a stop left unanswered)
and makes them its own, so a process that asks again (its intake restarted) gets nothing
twice. Storage does not look inside the payload: it is the taker's format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from storage.connection import Connection
from storage.record import Record


class IncomingUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """One update to record; ``done`` for one with nothing to answer (kept for de-duplication)."""

    update_id: int
    chat_id: int | None
    payload: str
    done: bool = False


class InboxUpdate(Record, frozen=True, kw_only=True):
    """A recorded update; times are UTC epoch seconds, ``done_at`` None while pending."""

    update_id: int
    chat_id: int | None
    payload: str
    run_id: str
    received_at: float
    done_at: float | None
    draft_message_id: int | None = None


class InboxTable(Connection):
    """The ``inbox`` table; mixed into :class:`storage.Store`."""

    def record_updates(self, updates: Sequence[IncomingUpdate], *, run_id: str) -> tuple[int, ...]:
        """Record a batch in one transaction; return the ids that were new, in batch order.

        An id already recorded (pending, done, or earlier in the same batch) is left as it
        was and left out of the result: its sender delivered it again.
        """
        if not updates:
            return ()
        now = self._now()
        fresh: list[int] = []
        with self._writing(f"record {len(updates)} update(s)") as db:
            for update in updates:
                rows = list(
                    db.query(
                        "INSERT INTO inbox"
                        " (update_id, chat_id, payload, run_id, received_at, done_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
                        (
                            update.update_id,
                            update.chat_id,
                            "" if update.done else update.payload,
                            run_id,
                            now,
                            now if update.done else None,
                        ),
                    )
                )
                fresh.extend(int(row["update_id"]) for row in rows)
        return tuple(fresh)

    def claim_pending(self, *, run_id: str) -> tuple[InboxUpdate, ...]:
        """Pending updates of other runs, oldest first, now belonging to ``run_id``."""
        with self._writing("claim pending updates") as db:
            claimed = self._records(
                db,
                InboxUpdate,
                "UPDATE inbox SET run_id = ? WHERE done_at IS NULL AND run_id != ? RETURNING *",
                (run_id, run_id),
            )
        # RETURNING gives rows in no promised order.
        return tuple(sorted(claimed, key=lambda update: update.update_id))

    def pending_drafts(self) -> dict[int, int]:
        """Pending updates' draft messages, of any run: update id -> message id.

        A restarted gateway (a new process, or a new incarnation in this one) has lost
        which message shows each answer being streamed; with these its drafts and final
        text edit that message instead of leaving a cut-off draft behind.
        """
        with self._reading("read the drafts of pending updates") as db:
            rows = db.execute(
                "SELECT update_id, draft_message_id FROM inbox"
                " WHERE done_at IS NULL AND draft_message_id IS NOT NULL"
            ).fetchall()
        return dict(rows)

    def highest_update_id(self) -> int | None:
        """The highest update id on record (pruning keeps its row), or None if none is."""
        with self._reading("find the highest update id") as db:
            row = db.execute("SELECT MAX(update_id) FROM inbox").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def pending_updates(self) -> tuple[InboxUpdate, ...]:
        """Every update not done yet, whichever run it belongs to, oldest first."""
        with self._reading("list pending updates") as db:
            return self._records(
                db, InboxUpdate, "SELECT * FROM inbox WHERE done_at IS NULL ORDER BY update_id"
            )

    def get_update(self, update_id: int) -> InboxUpdate | None:
        """The recorded update with this id, or None."""
        with self._reading(f"get update {update_id}") as db:
            return self._record(
                db, InboxUpdate, "SELECT * FROM inbox WHERE update_id = ?", (update_id,)
            )

    def note_draft(self, update_id: int, message_id: int) -> bool:
        """Remember the message showing the answer to ``update_id`` as it streams.

        If the update is replayed, its new answer edits that message instead of leaving a
        cut-off draft behind. Returns whether the update was on record.
        """
        with self._writing(f"note the draft of update {update_id}") as db:
            return (
                db.execute(
                    "UPDATE inbox SET draft_message_id = ? WHERE update_id = ?",
                    (message_id, update_id),
                ).rowcount
                > 0
            )

    def mark_done(self, update_ids: Iterable[int]) -> int:
        """Mark updates answered; return how many were pending (unknown or done ones: no-op).

        The payload is emptied at the same time: a done update is kept only to recognise a
        re-delivery by its id, and what people wrote (an admin's password answer included)
        should not outlive its answer in the inbox.
        """
        ids = tuple(update_ids)
        if not ids:
            return 0
        now = self._now()
        with self._writing(f"mark {len(ids)} update(s) done") as db:
            return sum(
                db.execute(
                    "UPDATE inbox SET done_at = ?, payload = '' WHERE update_id = ?"
                    " AND done_at IS NULL",
                    (now, update_id),
                ).rowcount
                for update_id in ids
            )

    def prune_inbox(self, older_than: float) -> int:
        """Delete updates done before ``older_than`` (epoch seconds); return how many.

        Pending updates are never deleted, and neither is the newest row: it keeps the
        highest id seen on record. Keep done rows longer than the sender may re-deliver them
        (Telegram keeps unconfirmed updates for 24 hours), or a late duplicate is new again.
        """
        with self._writing(f"prune inbox before {older_than}") as db:
            return db.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?"
                " AND update_id < (SELECT MAX(update_id) FROM inbox)",
                (older_than,),
            ).rowcount
