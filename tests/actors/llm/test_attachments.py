"""Attachments on a turn, as each dialect puts them on the wire."""

from __future__ import annotations

import base64

from actors.llm import Attachment, Turn
from actors.llm.gemini import GeminiDialect
from actors.llm.openai_compat import OpenAIDialect

PNG = b"\x89PNG\r\n\x1a\nfake"
PDF = b"%PDF-1.4 fake"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_a_turn_without_attachments_is_still_a_plain_string_for_openai() -> None:
    dialect = OpenAIDialect(provider="p", api_key="k")

    _, body = dialect.stream_request("m", [Turn(role="user", text="hi")])

    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_an_image_reaches_openai_as_an_image_url_part_holding_a_data_url() -> None:
    dialect = OpenAIDialect(provider="p", api_key="k")
    turn = Turn(
        role="user",
        text="What is this?",
        attachments=(Attachment(mime_type="image/png", data=PNG, name="cat.png"),),
    )

    _, body = dialect.stream_request("m", [turn])

    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(PNG)}"}},
            ],
        }
    ]


def test_a_pdf_reaches_openai_as_a_file_part_named_as_the_user_named_it() -> None:
    dialect = OpenAIDialect(provider="p", api_key="k")
    turn = Turn(
        role="user",
        text="",
        attachments=(Attachment(mime_type="application/pdf", data=PDF, name="report.pdf"),),
    )

    _, body = dialect.stream_request("m", [turn])

    assert body["messages"][0]["content"] == [
        {
            "type": "file",
            "file": {
                "filename": "report.pdf",
                "file_data": f"data:application/pdf;base64,{b64(PDF)}",
            },
        }
    ]


def test_attachments_reach_gemini_as_inline_data_parts_before_the_text() -> None:
    dialect = GeminiDialect(provider="g", api_key="k", include_thoughts=False)
    turn = Turn(
        role="user",
        text="Summarise this",
        attachments=(Attachment(mime_type="application/pdf", data=PDF),),
    )

    _, body = dialect.stream_request("gemini-2.5-flash", [turn])

    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"inlineData": {"mimeType": "application/pdf", "data": b64(PDF)}},
                {"text": "Summarise this"},
            ],
        }
    ]


def test_gemini_keeps_attachments_when_it_merges_turns_of_one_role() -> None:
    dialect = GeminiDialect(provider="g", api_key="k", include_thoughts=False)
    voice = Attachment(mime_type="audio/ogg", data=b"OggS")
    turns = [Turn(role="user", text="earlier"), Turn(role="user", text="", attachments=(voice,))]

    _, body = dialect.stream_request("gemini-2.5-flash", turns)

    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "earlier"},
                {"inlineData": {"mimeType": "audio/ogg", "data": b64(b"OggS")}},
            ],
        }
    ]
