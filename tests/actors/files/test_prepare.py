"""A file and its caption made into the turn a given model can take, or a clear refusal."""

from __future__ import annotations

from actors.files import (
    CannotRead,
    Capabilities,
    FileContent,
    FileTurn,
    ModelChoice,
    prepare,
)
from actors.files.capabilities import GEMINI_NATIVE, OPENAI_VISION_NATIVE
from actors.llm import Attachment, Turn
from tests.actors.files.pdfs import make_pdf

DEEPSEEK = ModelChoice(provider="deepseek", model="deepseek-chat")
GEMINI = ModelChoice(provider="gemini", model="gemini-2.5-flash")
TEXT_ONLY = Capabilities()
GEMINI_READS = Capabilities(native=GEMINI_NATIVE)
PDF = FileContent(name="report.pdf", mime_type="application/pdf", data=make_pdf("Revenue grew"))
PHOTO = FileContent(name="photo.jpg", mime_type="image/jpeg", data=b"\xff\xd8\xff")


def test_a_pdf_to_gemini_travels_as_itself_and_its_text_is_kept_for_follow_ups() -> None:
    prepared = prepare(
        PDF, "What grew?", model=GEMINI, capabilities=GEMINI_READS, max_tokens=500, alternative=None
    )

    assert isinstance(prepared, FileTurn)
    assert prepared.turn == Turn(
        role="user",
        text="What grew?",
        attachments=(Attachment(mime_type="application/pdf", data=PDF.data, name="report.pdf"),),
    )
    assert "Revenue grew" in prepared.remembered
    assert not prepared.reattach  # the remembered text carries the content


def test_a_pdf_to_a_text_only_model_travels_as_its_extracted_text() -> None:
    prepared = prepare(
        PDF, None, model=DEEPSEEK, capabilities=TEXT_ONLY, max_tokens=500, alternative=GEMINI
    )

    assert isinstance(prepared, FileTurn)
    assert prepared.turn.attachments == ()
    assert prepared.turn.text == (
        'Summarise this.\n\n<file name="report.pdf" type="application/pdf">\nRevenue grew\n</file>'
    )
    assert prepared.remembered == prepared.turn.text


def test_extracted_text_over_the_budget_is_marked_truncated() -> None:
    big = FileContent(name="log.txt", mime_type="text/plain", data=b"line\n" * 2000)

    prepared = prepare(
        big, "errors?", model=DEEPSEEK, capabilities=TEXT_ONLY, max_tokens=50, alternative=None
    )

    assert isinstance(prepared, FileTurn)
    assert prepared.truncated
    assert "[truncated: " in prepared.turn.text


def test_a_photo_to_a_text_only_model_is_refused_naming_a_model_that_can() -> None:
    prepared = prepare(
        PHOTO,
        "what is it",
        model=DEEPSEEK,
        capabilities=TEXT_ONLY,
        max_tokens=500,
        alternative=GEMINI,
    )

    assert prepared == CannotRead(
        reason="deepseek-chat can't look at images. gemini-2.5-flash (gemini) can: "
        "switch to it with /model and send the file again."
    )


def test_a_photo_nobody_configured_can_read_says_so() -> None:
    prepared = prepare(
        PHOTO, None, model=DEEPSEEK, capabilities=TEXT_ONLY, max_tokens=500, alternative=None
    )

    assert isinstance(prepared, CannotRead)
    assert "None of the models configured here can" in prepared.reason


def test_a_photo_to_a_vision_model_travels_as_itself() -> None:
    vision = Capabilities(native=OPENAI_VISION_NATIVE)

    prepared = prepare(
        PHOTO, "", model=DEEPSEEK, capabilities=vision, max_tokens=500, alternative=None
    )

    assert isinstance(prepared, FileTurn)
    assert prepared.turn.attachments[0].mime_type == "image/jpeg"
    assert prepared.turn.text == "Summarise this."
    assert prepared.remembered == "Summarise this.\n\n[Image sent to the model: photo.jpg]"
    assert prepared.reattach  # follow-ups need the photo itself


def test_a_scanned_pdf_to_a_text_only_model_is_refused_naming_gemini() -> None:
    scan = FileContent(name="scan.pdf", mime_type="application/pdf", data=make_pdf(""))

    prepared = prepare(
        scan, None, model=DEEPSEEK, capabilities=TEXT_ONLY, max_tokens=500, alternative=GEMINI
    )

    assert isinstance(prepared, CannotRead)
    assert "scan" in prepared.reason
    assert "gemini-2.5-flash (gemini) can" in prepared.reason
