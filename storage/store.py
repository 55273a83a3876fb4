"""The bot's persistence: one SQLite file behind one synchronous object.

:class:`Store` puts together one class per table, each in its own module with its records
and queries; this module only joins them (``ContextTable`` extends ``ChatTable``: turns
belong to a registered chat). Every method is one transaction (writes) or one
consistent read, returns frozen msgspec records, and raises only :mod:`storage.errors`.

    with Store.open(Path("data/bot.db")) as store:
        store.upsert_user(42, first_name="Ada")
        store.set_user_state(42, "active", 1)

Not thread-safe by design: the storage actor opens it in ``on_start`` and closes it in
``on_stop``, on its own thread, and every other actor asks that one.
"""

from __future__ import annotations

from storage.actor_state import ActorStateTable
from storage.context import ContextTable
from storage.inbox import InboxTable
from storage.llm_requests import LlmRequestTable
from storage.model_cache import ModelCacheTable
from storage.uploads import FileTable
from storage.usage import UsageTable
from storage.users import UserTable


class Store(
    UserTable,
    ContextTable,
    LlmRequestTable,
    ModelCacheTable,
    ActorStateTable,
    InboxTable,
    FileTable,
    UsageTable,
):
    """Users, chats and their settings, context turns, the LLM request log, the model cache
    and actor state, the durable inbox of updates, and the usage ledger, in one file.

    Lifecycle: :meth:`open` (a classmethod; there is no other way to get one), use,
    :meth:`close` or leave the ``with`` block. Any call after ``close()`` raises
    :class:`storage.StoreClosed`.
    """
