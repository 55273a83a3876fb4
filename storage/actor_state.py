"""Opaque blobs actors save on stop and restore on start, under keys they choose.

Storage does not look inside: an actor encodes its own state (e.g. with msgspec) and owns
the format. Keys are the actor's business too; a name such as ``"session:42"`` keeps them
apart.
"""

from __future__ import annotations

from storage.connection import Connection


class ActorStateTable(Connection):
    """The ``actor_state`` table; mixed into :class:`storage.Store`."""

    def save_state(self, key: str, blob: bytes) -> None:
        """Store ``blob`` under ``key``, replacing what was there."""
        with self._writing(f"save state {key!r}") as db:
            db.execute(
                "INSERT INTO actor_state (key, blob, saved_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE"
                " SET blob = excluded.blob, saved_at = excluded.saved_at",
                (key, blob, self._now()),
            )

    def load_state(self, key: str) -> bytes | None:
        """The blob saved under ``key``, or None if there is none."""
        with self._reading(f"load state {key!r}") as db:
            rows = list(db.query("SELECT blob FROM actor_state WHERE key = ?", (key,)))
        return bytes(rows[0]["blob"]) if rows else None

    def delete_state(self, key: str) -> bool:
        """Forget ``key``; return whether there was anything to forget."""
        with self._writing(f"delete state {key!r}") as db:
            return db.execute("DELETE FROM actor_state WHERE key = ?", (key,)).rowcount > 0
