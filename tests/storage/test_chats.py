from __future__ import annotations

import pytest

from storage import Chat, ChatSettings, ConstraintViolation, RecordNotFound, Store
from tests.storage.fakes import START, FakeClock


def test_a_registered_chat_has_default_settings(store: Store) -> None:
    chat = store.upsert_chat(-5, kind="supergroup", title="Team")

    assert chat == Chat(
        chat_id=-5,
        kind="supergroup",
        title="Team",
        settings=ChatSettings(provider=None, model=None, mode=None),
        created_at=START,
        updated_at=START,
    )
    assert store.get_chat(-5) == chat


def test_upserting_a_chat_refreshes_kind_and_title_but_keeps_settings(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_chat(-5, kind="group", title="Team")
    store.set_chat_mode(-5, "concise")
    clock.advance(10)

    chat = store.upsert_chat(-5, kind="supergroup", title="Team 2")

    assert (chat.kind, chat.title, chat.settings.mode) == ("supergroup", "Team 2", "concise")
    assert (chat.created_at, chat.updated_at) == (START, START + 10)


def test_the_chosen_model_is_the_chats_setting(store: Store, chat_id: int) -> None:
    settings = store.set_chat_model(chat_id, "openai", "gpt-4o")

    assert settings == ChatSettings(provider="openai", model="gpt-4o", mode=None)
    assert store.get_chat_settings(chat_id) == settings


def test_clearing_the_model_returns_the_chat_to_the_default(store: Store, chat_id: int) -> None:
    store.set_chat_model(chat_id, "openai", "gpt-4o")

    assert store.set_chat_model(chat_id, None, None) == ChatSettings()


def test_provider_and_model_are_set_or_cleared_together(store: Store, chat_id: int) -> None:
    with pytest.raises(ValueError, match="together"):
        store.set_chat_model(chat_id, "openai", None)


def test_the_mode_is_set_and_cleared_independently_of_the_model(store: Store, chat_id: int) -> None:
    store.set_chat_model(chat_id, "ollama", "llama3")

    assert store.set_chat_mode(chat_id, "translate").mode == "translate"
    assert store.set_chat_mode(chat_id, None) == ChatSettings(provider="ollama", model="llama3")


def test_an_unregistered_chat_has_default_settings(store: Store) -> None:
    assert store.get_chat(404) is None
    assert store.get_chat_settings(404) == ChatSettings()


def test_changing_settings_of_an_unregistered_chat_raises_record_not_found(
    store: Store,
) -> None:
    with pytest.raises(RecordNotFound, match="call upsert_chat first") as caught:
        store.set_chat_model(404, "openai", "gpt-4o")

    assert (caught.value.table, caught.value.key) == ("chats", 404)
    with pytest.raises(RecordNotFound):
        store.set_chat_mode(404, "concise")


def test_a_group_has_no_access_state_until_one_is_recorded(store: Store) -> None:
    chat = store.upsert_chat(-5, kind="supergroup", title="Team")

    assert (chat.access, chat.added_by, chat.decided_by) == (None, None, None)


def test_adding_the_bot_records_who_added_it_and_a_pending_group_has_no_decision(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_chat(-5, kind="supergroup", title="Team")
    clock.advance(10)

    chat = store.set_group_access(-5, "pending", by=2002, added=True)

    assert (chat.access, chat.added_by, chat.added_at) == ("pending", 2002, START + 10)
    assert (chat.decided_at, chat.decided_by) == (None, None)
    assert store.get_chat(-5) == chat


def test_an_admins_decision_is_recorded_and_the_adder_is_kept(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_chat(-5, kind="group", title="Team")
    store.set_group_access(-5, "pending", by=2002, added=True)
    clock.advance(60)

    chat = store.set_group_access(-5, "active", by=1000)

    assert (chat.access, chat.decided_by, chat.decided_at) == ("active", 1000, START + 60)
    assert (chat.added_by, chat.added_at) == (2002, START)


def test_re_adding_the_bot_to_a_blocked_group_keeps_who_blocked_it(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_chat(-5, kind="supergroup", title="Team")
    store.set_group_access(-5, "blocked", by=1000)
    clock.advance(60)

    chat = store.set_group_access(-5, "blocked", by=2002, added=True)

    assert (chat.access, chat.decided_by, chat.decided_at) == ("blocked", 1000, START)
    assert (chat.added_by, chat.added_at) == (2002, START + 60)


def test_only_a_registered_group_has_access(store: Store, chat_id: int) -> None:
    with pytest.raises(RecordNotFound, match="no group"):
        store.set_group_access(-404, "active", by=1000)
    with pytest.raises(RecordNotFound):
        store.set_group_access(chat_id, "active", by=1000)  # a private chat


def test_an_unknown_access_state_breaks_the_schema(store: Store) -> None:
    store.upsert_chat(-5, kind="supergroup", title="Team")

    with pytest.raises(ConstraintViolation):
        store.set_group_access(-5, "maybe", by=1000)  # type: ignore[arg-type]


def test_groups_are_listed_and_counted_by_access_oldest_first(
    store: Store, clock: FakeClock, chat_id: int
) -> None:
    for group_id, access in ((-1, "active"), (-2, "pending"), (-3, None), (-4, "pending")):
        store.upsert_chat(group_id, kind="supergroup", title=f"G{-group_id}")
        if access == "active":
            store.set_group_access(group_id, "active", by=1000, added=True)
        elif access == "pending":
            store.set_group_access(group_id, "pending", by=2002, added=True)
        clock.advance(1)

    assert [c.chat_id for c in store.list_groups()] == [-1, -2, -3, -4]
    assert [c.chat_id for c in store.list_groups("pending")] == [-2, -4]
    assert [c.chat_id for c in store.list_groups(limit=2, offset=1)] == [-2, -3]
    assert (store.count_groups(), store.count_groups("pending"), store.count_groups("left")) == (
        4,
        2,
        0,
    )
    with pytest.raises(ValueError, match="negative"):
        store.list_groups(limit=-1)
