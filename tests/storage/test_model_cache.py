from __future__ import annotations

from storage import ModelDiff, ModelEntry, Store
from tests.storage.fakes import START, FakeClock


def test_the_first_listing_adds_every_model(store: Store) -> None:
    diff = store.replace_models("openai", {"gpt-4o": "GPT-4o", "gpt-4o-mini": "GPT-4o mini"})

    assert diff == ModelDiff(provider="openai", added=("gpt-4o", "gpt-4o-mini"), removed=())
    assert store.list_models("openai") == (
        ModelEntry(provider="openai", model_id="gpt-4o", display_name="GPT-4o", seen_at=START),
        ModelEntry(
            provider="openai", model_id="gpt-4o-mini", display_name="GPT-4o mini", seen_at=START
        ),
    )


def test_replacing_reports_added_and_removed_and_leaves_other_providers_alone(
    store: Store,
) -> None:
    store.replace_models("openai", {"a": "A", "b": "B", "c": "C"})
    store.replace_models("ollama", {"llama3": "Llama 3"})

    diff = store.replace_models("openai", {"b": "B", "d": "D", "c": "C"})

    assert diff == ModelDiff(provider="openai", added=("d",), removed=("a",))
    assert [(m.provider, m.model_id) for m in store.list_models()] == [
        ("ollama", "llama3"),
        ("openai", "b"),
        ("openai", "c"),
        ("openai", "d"),
    ]


def test_models_listed_again_get_a_fresh_time_and_name(store: Store, clock: FakeClock) -> None:
    store.replace_models("openai", {"a": "Old name"})
    clock.advance(5)

    store.replace_models("openai", {"a": "New name"})

    (entry,) = store.list_models("openai")
    assert (entry.display_name, entry.seen_at) == ("New name", START + 5)


def test_an_empty_listing_removes_every_model_of_the_provider(store: Store) -> None:
    store.replace_models("openai", {"a": "A", "b": "B"})

    assert store.replace_models("openai", {}).removed == ("a", "b")
    assert store.list_models("openai") == ()
