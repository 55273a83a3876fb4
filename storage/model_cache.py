"""The models each provider offered when last asked, so menus need no network call.

:meth:`ModelCacheTable.replace_models` swaps a provider's whole list at once and says what
changed, which lets the caller announce new models or notice a chat's model disappearing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.connection import Connection
from storage.record import Record

if TYPE_CHECKING:
    from collections.abc import Mapping


class ModelEntry(Record, frozen=True, kw_only=True):
    """A model a provider listed; ``seen_at`` is when it was last listed (epoch seconds)."""

    provider: str
    model_id: str
    display_name: str
    seen_at: float


class ModelDiff(Record, frozen=True, kw_only=True):
    """What :meth:`ModelCacheTable.replace_models` changed; model ids, sorted."""

    provider: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


class ModelCacheTable(Connection):
    """The ``models`` table; mixed into :class:`storage.Store`."""

    def replace_models(self, provider: str, models: Mapping[str, str]) -> ModelDiff:
        """Make ``models`` (model id -> display name) the provider's whole list, seen now.

        Models still listed keep their row with a fresh ``seen_at`` and display name.
        """
        with self._writing(f"replace models of {provider}") as db:
            before = {
                row["model_id"]
                for row in db.query("SELECT model_id FROM models WHERE provider = ?", (provider,))
            }
            removed = sorted(before - models.keys())
            db.conn.executemany(
                "DELETE FROM models WHERE provider = ? AND model_id = ?",
                [(provider, model_id) for model_id in removed],
            )
            now = self._now()
            db.conn.executemany(
                "INSERT INTO models (provider, model_id, display_name, seen_at)"
                " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (provider, model_id) DO UPDATE"
                " SET display_name = excluded.display_name, seen_at = excluded.seen_at",
                [(provider, model_id, name, now) for model_id, name in models.items()],
            )
        return ModelDiff(
            provider=provider, added=tuple(sorted(models.keys() - before)), removed=tuple(removed)
        )

    def list_models(self, provider: str | None = None) -> tuple[ModelEntry, ...]:
        """Cached models by provider then id; only ``provider``'s if given."""
        with self._reading("list models") as db:
            return self._records(
                db,
                ModelEntry,
                "SELECT * FROM models WHERE ?1 IS NULL OR provider = ?1"
                " ORDER BY provider, model_id",
                (provider,),
            )
