from __future__ import annotations

import pytest

from storage import ConstraintViolation, RecordNotFound, Store, Turn, estimate_tokens
from tests.storage.fakes import START, FakeClock


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("abcd", 1), ("abcde", 2), ("привет", 3), ("你好世界", 3)],
)
def test_tokens_are_estimated_from_utf8_bytes(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_turns_load_oldest_first_with_estimated_tokens(
    store: Store, chat_id: int, clock: FakeClock
) -> None:
    first = store.append_turn(chat_id, "user", "hello there")
    clock.advance(1)
    second = store.append_turn(chat_id, "assistant", "hi!")

    assert first == Turn(
        id=first.id, chat_id=chat_id, role="user", text="hello there", tokens=3, created_at=START
    )
    assert store.load_context(chat_id) == (first, second)


def test_a_given_token_count_replaces_the_estimate(store: Store, chat_id: int) -> None:
    assert store.append_turn(chat_id, "assistant", "hi", tokens=17).tokens == 17


def test_appending_to_an_unregistered_chat_raises_record_not_found(store: Store) -> None:
    with pytest.raises(RecordNotFound, match="chat 404 is not registered"):
        store.append_turn(404, "user", "hello")


def test_each_chat_has_its_own_context(store: Store, chat_id: int) -> None:
    store.upsert_chat(200, kind="private")
    store.append_turn(chat_id, "user", "mine")
    store.append_turn(200, "user", "theirs")

    assert [t.text for t in store.load_context(chat_id)] == ["mine"]
    assert store.load_context(404) == ()


def test_clearing_forgets_every_turn_of_the_chat(store: Store, chat_id: int) -> None:
    store.append_turn(chat_id, "system", "be brief")
    store.append_turn(chat_id, "user", "hello")

    assert store.clear_context(chat_id) == 2
    assert store.load_context(chat_id) == ()


def test_clearing_can_keep_the_system_turns(store: Store, chat_id: int) -> None:
    store.append_turn(chat_id, "system", "be brief")
    store.append_turn(chat_id, "user", "hello")

    assert store.clear_context(chat_id, keep_system=True) == 1
    assert [t.role for t in store.load_context(chat_id)] == ["system"]


def test_trimming_drops_the_oldest_turns_first_and_keeps_the_system_turn(
    store: Store, chat_id: int
) -> None:
    store.append_turn(chat_id, "system", "be brief", tokens=10)
    for n in range(1, 6):
        store.append_turn(chat_id, "user" if n % 2 else "assistant", f"turn {n}", tokens=10)

    removed = store.trim_context(chat_id, max_tokens=35)

    assert removed == 3
    assert [t.text for t in store.load_context(chat_id)] == ["be brief", "turn 4", "turn 5"]


def test_trimming_a_context_within_budget_deletes_nothing(store: Store, chat_id: int) -> None:
    store.append_turn(chat_id, "user", "hello", tokens=5)

    assert store.trim_context(chat_id, max_tokens=5) == 0
    assert len(store.load_context(chat_id)) == 1


def test_system_turns_survive_even_when_they_alone_exceed_the_budget(
    store: Store, chat_id: int
) -> None:
    store.append_turn(chat_id, "user", "hello", tokens=5)
    store.append_turn(chat_id, "system", "a very long prompt", tokens=100)

    assert store.trim_context(chat_id, max_tokens=10) == 1
    assert [t.role for t in store.load_context(chat_id)] == ["system"]


def test_trimming_refuses_a_negative_budget(store: Store, chat_id: int) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        store.trim_context(chat_id, max_tokens=-1)


def test_each_forum_topic_has_its_own_context(store: Store, chat_id: int) -> None:
    store.append_turn(chat_id, "user", "in the chat itself")
    store.append_turn(chat_id, "user", "in topic 7", topic_id=7)
    store.append_turn(chat_id, "user", "in topic 9", topic_id=9)

    assert [t.text for t in store.load_context(chat_id)] == ["in the chat itself"]
    assert [t.text for t in store.load_context(chat_id, topic_id=7)] == ["in topic 7"]

    assert store.clear_context(chat_id, topic_id=7) == 1
    assert store.load_context(chat_id, topic_id=7) == ()
    assert [t.text for t in store.load_context(chat_id, topic_id=9)] == ["in topic 9"]


def test_trimming_a_topic_leaves_the_other_contexts_alone(store: Store, chat_id: int) -> None:
    store.append_turn(chat_id, "user", "kept", tokens=10)
    store.append_turn(chat_id, "user", "old", tokens=10, topic_id=7)
    store.append_turn(chat_id, "user", "new", tokens=10, topic_id=7)

    assert store.trim_context(chat_id, 10, topic_id=7) == 1
    assert [t.text for t in store.load_context(chat_id, topic_id=7)] == ["new"]
    assert [t.text for t in store.load_context(chat_id)] == ["kept"]


def test_a_turn_remembers_the_file_it_was_about(store: Store, chat_id: int) -> None:
    turn = store.append_turn(
        chat_id,
        "user",
        "[Image sent to the model: photo.jpg]",
        tokens=300,
        file_path="2025/01/02/abc.jpg",
        file_mime="image/jpeg",
    )
    store.append_turn(chat_id, "assistant", "A red car.")

    first, second = store.load_context(chat_id)
    assert first == turn
    assert (first.file_path, first.file_mime, first.tokens) == (
        "2025/01/02/abc.jpg",
        "image/jpeg",
        300,
    )
    assert (second.file_path, second.file_mime) == (None, None)


def test_a_file_path_without_its_type_is_refused(store: Store, chat_id: int) -> None:
    with pytest.raises(ConstraintViolation):
        store.append_turn(chat_id, "user", "photo", file_path="2025/01/02/abc.jpg")

    assert store.load_context(chat_id) == ()


def test_a_turn_about_a_file_is_trimmed_by_its_whole_cost(store: Store, chat_id: int) -> None:
    store.append_turn(
        chat_id, "user", "photo", tokens=260, file_path="a.jpg", file_mime="image/jpeg"
    )
    store.append_turn(chat_id, "assistant", "a car", tokens=2)
    store.append_turn(chat_id, "user", "colour?", tokens=2)

    assert store.trim_context(chat_id, max_tokens=100) == 1
    assert [t.text for t in store.load_context(chat_id)] == ["a car", "colour?"]
