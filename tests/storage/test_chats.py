from __future__ import annotations

import pytest

from storage import Chat, ChatSettings, RecordNotFound, Store
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
