from __future__ import annotations

import inspect

import msgspec
import pytest

import storage
from storage import ChatSettings, LlmRequestStats, ModelDiff, ProviderStats, Record, User

RECORD_TYPES = sorted(
    (
        value
        for value in vars(storage).values()
        if isinstance(value, type) and issubclass(value, Record) and value is not Record
    ),
    key=lambda record_type: record_type.__name__,
)

MUTABLE_CONTAINERS = (msgspec.inspect.ListType, msgspec.inspect.DictType, msgspec.inspect.SetType)


def test_every_record_type_is_exported() -> None:
    assert len(RECORD_TYPES) == len(Record.__subclasses__())


@pytest.mark.parametrize("record_type", RECORD_TYPES, ids=lambda t: t.__name__)
def test_every_record_is_frozen_keyword_only_and_holds_no_mutable_container(
    record_type: type[Record],
) -> None:
    config = record_type.__struct_config__
    parameters = inspect.signature(record_type).parameters.values()
    info = msgspec.inspect.type_info(record_type)

    assert config.frozen
    assert config.forbid_unknown_fields
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        assert not isinstance(field.type, MUTABLE_CONTAINERS), field.name


def test_assigning_to_a_record_fails() -> None:
    user = User(
        id=1,
        first_name="Ada",
        username=None,
        state="pending",
        is_admin=False,
        requested_at=0.0,
        decided_at=None,
        decided_by=None,
    )

    with pytest.raises(AttributeError):
        user.state = "active"  # type: ignore[misc]


def test_records_survive_a_round_trip_as_messages() -> None:
    stats = LlmRequestStats(
        since=1.0,
        ok=1,
        failed=0,
        tokens_in=2,
        tokens_out=3,
        providers=(
            ProviderStats(provider="p", ok=1, failed=0, latency_p50_ms=1.0, latency_p95_ms=1.0),
        ),
    )
    diff = ModelDiff(provider="p", added=("a",), removed=())

    for record in (stats, diff, ChatSettings(mode="x")):
        assert msgspec.msgpack.decode(msgspec.msgpack.encode(record), type=type(record)) == record
