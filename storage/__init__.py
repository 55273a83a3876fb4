"""The bot's persistence: a synchronous :class:`Store` over one SQLite file.

Knows nothing of Telegram, actors or the runtime. Everything it returns is a frozen msgspec
record; everything it raises derives from :class:`StorageError` (tree in ``errors.py``).
"""

from storage.chats import GROUP_ACCESS, Chat, ChatKind, ChatSettings, GroupAccess
from storage.connection import DEFAULT_BUSY_TIMEOUT, Clock
from storage.context import Role, Turn, estimate_tokens
from storage.errors import (
    ConstraintViolation,
    MigrationError,
    RecordNotFound,
    StorageDamaged,
    StorageError,
    StorageUnavailable,
    StoreClosed,
)
from storage.files import FilesPurged, delete_files_before
from storage.inbox import InboxUpdate, IncomingUpdate
from storage.llm_requests import LlmRequest, LlmRequestStats, ProviderStats, RequestStatus
from storage.migrations import AppliedMigration
from storage.model_cache import ModelDiff, ModelEntry
from storage.record import Record
from storage.store import Store
from storage.uploads import FileRecord, NewFile
from storage.usage import BudgetExceeded, Reservation, TierUsage, TopUser, UsageTotals, UserUsage
from storage.users import User, UserCounts, UserState, UserUpsert

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "GROUP_ACCESS",
    "AppliedMigration",
    "BudgetExceeded",
    "Chat",
    "ChatKind",
    "ChatSettings",
    "Clock",
    "ConstraintViolation",
    "FileRecord",
    "FilesPurged",
    "GroupAccess",
    "InboxUpdate",
    "IncomingUpdate",
    "LlmRequest",
    "LlmRequestStats",
    "MigrationError",
    "ModelDiff",
    "ModelEntry",
    "NewFile",
    "ProviderStats",
    "Record",
    "RecordNotFound",
    "RequestStatus",
    "Reservation",
    "Role",
    "StorageDamaged",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "StoreClosed",
    "TierUsage",
    "TopUser",
    "Turn",
    "UsageTotals",
    "User",
    "UserCounts",
    "UserState",
    "UserUpsert",
    "UserUsage",
    "delete_files_before",
    "estimate_tokens",
]
