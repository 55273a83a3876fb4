"""The session's file desk as plain logic: admit, await, make the question, keep."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from actors.chat.files import FileDesk, FileSettings
from actors.chat.messages import IncomingFile, UserRef
from actors.config import FilesConfig, ProviderConfig
from actors.files import Accepted, CannotRead, FileTurn, Refused
from tests.actors.files.pdfs import make_pdf

ALICE = UserRef(id=7, first_name="Alice")
PROVIDERS = {
    "deepseek": ProviderConfig(
        name="deepseek", base_url="http://x/v1", default_model="deepseek-chat"
    ),
    "gemini": ProviderConfig(
        name="gemini", kind="gemini", base_url="http://y/v1beta", default_model="gemini-2.5-flash"
    ),
}
PDF = make_pdf("Revenue grew")


@pytest.fixture
def desk(tmp_path: Path) -> FileDesk:
    return FileDesk(
        FileSettings(
            limits=FilesConfig(max_bytes=4096, per_user_per_day=2),
            files_dir=tmp_path / "files",
            providers=PROVIDERS,
            max_text_tokens=500,
        )
    )


def incoming(kind: str = "document", **fields: object) -> IncomingFile:
    values: dict[str, object] = {
        "update_id": 1,
        "chat_id": 7,
        "chat_kind": "private",
        "message_id": 10,
        "user": ALICE,
        "kind": kind,
        "file_id": "F1",
        "file_unique_id": "U1",
        "file_name": "report.pdf" if kind == "document" else None,
        "mime_type": "application/pdf" if kind == "document" else None,
        "size": len(PDF),
        "caption": None,
    } | fields
    return IncomingFile(**values)  # type: ignore[arg-type]


def test_an_announced_file_is_admitted_or_refused_by_the_limits(desk: FileDesk) -> None:
    assert desk.admit(incoming(), sent_today=0) == Accepted(mime_type="application/pdf")
    assert isinstance(desk.admit(incoming(size=5000), sent_today=0), Refused)
    assert isinstance(desk.admit(incoming(), sent_today=2), Refused)


def test_a_download_is_matched_to_its_file_once(desk: FileDesk) -> None:
    message = incoming()
    desk.expect("t1", message, "application/pdf")

    assert desk.waiting == (1,)
    assert desk.take("t1") == (message, "application/pdf")
    assert desk.take("t1") is None
    assert not desk.waiting


def test_the_question_depends_on_what_the_current_model_reads(desk: FileDesk) -> None:
    message = incoming(caption="What grew?")

    native = desk.question_for(
        message, "application/pdf", PDF, provider="gemini", model="gemini-2.5-flash"
    )
    as_text = desk.question_for(
        message, "application/pdf", PDF, provider="deepseek", model="deepseek-chat"
    )

    assert isinstance(native, FileTurn)
    assert native.turn.attachments[0].data == PDF
    assert isinstance(as_text, FileTurn)
    assert as_text.turn.attachments == ()
    assert "Revenue grew" in as_text.turn.text


def test_a_photo_for_a_text_only_model_names_gemini(desk: FileDesk) -> None:
    refusal = desk.question_for(
        incoming("photo"), "image/jpeg", b"\xff\xd8", provider="deepseek", model="deepseek-chat"
    )

    assert isinstance(refusal, CannotRead)
    assert "gemini-2.5-flash (gemini) can" in refusal.reason


def test_a_kept_file_is_on_disk_under_a_generated_name_with_its_row(
    desk: FileDesk, tmp_path: Path
) -> None:
    row = desk.keep(incoming(), "application/pdf", PDF, correlation_id="u1")

    assert row.original_name == "report.pdf"
    assert "report" not in row.path
    assert row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "files" / row.path).read_bytes() == PDF

    desk.forget(row.path)

    assert not (tmp_path / "files" / row.path).exists()


def test_a_kept_file_is_read_back_until_it_is_gone(desk: FileDesk) -> None:
    row = desk.keep(incoming("photo"), "image/jpeg", b"\xff\xd8", correlation_id=None)

    assert desk.recall(row.path) == b"\xff\xd8"

    desk.forget(row.path)

    assert desk.recall(row.path) is None
    assert desk.recall("../outside.jpg") is None


def test_what_a_model_reads_comes_from_its_providers_section(desk: FileDesk) -> None:
    assert desk.capabilities("gemini", "gemini-2.5-flash").reads("image/jpeg")
    assert not desk.capabilities("deepseek", "deepseek-chat").reads("image/jpeg")
    assert not desk.capabilities("gone", "any").reads("image/jpeg")
