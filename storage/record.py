"""What every value storage returns is: an immutable, keyword-only msgspec Struct.

Records travel between actors as messages, so they are frozen and hold tuples, never lists.
Rows become records through :func:`to_record`, which checks each column against the field's
type: a column the record does not know, or a value of the wrong type, is an error rather
than a silently wrong message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from storage.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every record.

    Subclasses repeat ``frozen=True, kw_only=True`` so that type checkers see them too;
    ``forbid_unknown_fields`` is inherited.
    """


R = TypeVar("R", bound=Record)


def to_record(record_type: type[R], row: Mapping[str, Any], *, path: Path) -> R:
    """Build ``record_type`` from a row, converting SQLite's 0/1 into bools.

    Raises:
        StorageError: the row does not fit the record (the schema and the code disagree).
    """
    try:
        return msgspec.convert(row, record_type, strict=False)
    except msgspec.ValidationError as error:
        raise StorageError(
            f"a row read from {path} does not fit {record_type.__name__}: {error}", path=path
        ) from error
