"""A session's memory of a conversation: trimmed by tokens, newest files sent again."""

from __future__ import annotations

from actors.chat.context import FileRef, Remembered, from_stored, recall, trim
from actors.files.capabilities import GEMINI_NATIVE, OPENAI_VISION_NATIVE, Capabilities
from actors.llm.wire import Attachment
from actors.llm.wire import Turn as LlmTurn
from storage import Turn

GEMINI = Capabilities(native=GEMINI_NATIVE)
VISION = Capabilities(native=OPENAI_VISION_NATIVE)
TEXT_ONLY = Capabilities()


def photo(n: int) -> Remembered:
    return Remembered(
        role="user",
        text=f"[Image sent to the model: {n}.jpg]",
        tokens=260,
        file=FileRef(path=f"{n}.jpg", mime_type="image/jpeg"),
    )


def said(text: str) -> Remembered:
    return Remembered(role="assistant", text=text, tokens=1)


def on_disk(*paths: str) -> dict[str, bytes]:
    return {path: f"bytes of {path}".encode() for path in paths}


def test_a_stored_turn_keeps_its_tokens_and_its_file() -> None:
    stored = Turn(
        id=1,
        chat_id=7,
        role="user",
        text="photo",
        tokens=300,
        created_at=0.0,
        file_path="a.jpg",
        file_mime="image/jpeg",
    )

    assert from_stored(stored) == Remembered(
        role="user", text="photo", tokens=300, file=FileRef(path="a.jpg", mime_type="image/jpeg")
    )
    plain = Turn(id=2, chat_id=7, role="assistant", text="ok", tokens=1, created_at=0.0)
    assert from_stored(plain).file is None


def test_trimming_counts_a_files_cost_and_drops_the_oldest_first() -> None:
    turns = [photo(1), said("a car"), photo(2), said("a bus")]

    trim(turns, budget=261)

    assert turns == [photo(2), said("a bus")]


def test_a_model_that_reads_the_file_gets_it_again_with_its_turn() -> None:
    files = on_disk("1.jpg")

    sent = recall([photo(1), said("a red car")], reads=GEMINI.reads, load=files.get)

    assert sent == [
        LlmTurn(
            role="user",
            text="[Image sent to the model: 1.jpg]",
            attachments=(Attachment(mime_type="image/jpeg", data=b"bytes of 1.jpg"),),
        ),
        LlmTurn(role="assistant", text="a red car"),
    ]


def test_a_text_only_model_gets_the_remembered_text_alone_and_nothing_is_read() -> None:
    read: list[str] = []

    def load(path: str) -> bytes:
        read.append(path)
        return b""

    sent = recall([photo(1), said("a red car")], reads=TEXT_ONLY.reads, load=load)

    assert [t.attachments for t in sent] == [(), ()]
    assert sent[0].text == "[Image sent to the model: 1.jpg]"
    assert read == []


def test_only_the_newest_files_go_again() -> None:
    turns = [photo(n) for n in range(1, 6)]

    sent = recall(turns, reads=VISION.reads, load=on_disk(*(f"{n}.jpg" for n in range(6))).get)

    assert [len(t.attachments) for t in sent] == [0, 0, 1, 1, 1]


def test_a_file_gone_from_disk_leaves_its_turn_as_text_and_frees_its_place() -> None:
    turns = [photo(1), photo(2), photo(3), photo(4)]

    sent = recall(turns, reads=GEMINI.reads, load=on_disk("1.jpg", "2.jpg", "4.jpg").get)

    assert [len(t.attachments) for t in sent] == [1, 1, 0, 1]


def test_audio_goes_again_only_to_a_model_that_hears_it() -> None:
    voice = Remembered(
        role="user",
        text="[Audio sent to the model: voice.ogg]",
        tokens=40,
        file=FileRef(path="v.ogg", mime_type="audio/ogg"),
    )
    files = on_disk("v.ogg")

    assert recall([voice], reads=GEMINI.reads, load=files.get)[0].attachments != ()
    assert recall([voice], reads=VISION.reads, load=files.get)[0].attachments == ()
