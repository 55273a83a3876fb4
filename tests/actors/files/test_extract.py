"""Text out of PDFs and text files, cut to a budget with a note saying so."""

from __future__ import annotations

import pytest

from actors.errors import FileUnreadable
from actors.files import decode_text, extract_text, truncate
from tests.actors.files.pdfs import make_pdf


def test_a_pdf_gives_its_text_page_by_page() -> None:
    extracted = extract_text(
        make_pdf("Quarterly report", "Revenue grew"), "application/pdf", max_tokens=100
    )

    assert extracted.text == "[page 1]\nQuarterly report\n\n[page 2]\nRevenue grew"
    assert not extracted.truncated


def test_a_damaged_pdf_is_unreadable_with_a_reason_for_the_user() -> None:
    with pytest.raises(FileUnreadable, match="damaged"):
        extract_text(b"%PDF-1.4 this is not really a pdf", "application/pdf", max_tokens=100)


def test_a_pdf_without_text_is_unreadable_as_a_possible_scan() -> None:
    with pytest.raises(FileUnreadable, match="scan"):
        extract_text(make_pdf(""), "application/pdf", max_tokens=100)


def test_utf8_text_and_source_code_decode_as_they_are() -> None:
    assert extract_text("print('héllo')\n".encode(), "text/x-python", max_tokens=100).text == (
        "print('héllo')\n"
    )


def test_a_byte_order_mark_decides_the_encoding() -> None:
    assert decode_text("\ufeffäbc".encode("utf-16")) == "äbc"
    assert decode_text("\ufeffäbc".encode("utf-8")) == "äbc"


def test_text_that_is_not_utf8_falls_back_to_windows_1252() -> None:
    assert decode_text("naïve café, 20 €".encode("cp1252")) == "naïve café, 20 €"


def test_binary_data_sent_as_text_is_unreadable() -> None:
    with pytest.raises(FileUnreadable, match="binary"):
        decode_text(b"\x00\x01\x02binary")


def test_an_image_is_not_something_text_can_be_extracted_from() -> None:
    with pytest.raises(FileUnreadable):
        extract_text(b"\xff\xd8", "image/jpeg", max_tokens=100)


def test_long_text_is_cut_at_a_line_break_and_says_it_was_truncated() -> None:
    text = "".join(f"row {n:04d},value\n" for n in range(1000))  # 15 000 bytes, 3750 tokens

    extracted = truncate(text, 100)

    body, note = extracted.text.rsplit("\n\n", 1)
    assert extracted.truncated
    assert extracted.total_tokens == 3750
    assert body.endswith(",value")  # whole rows only
    assert text.startswith(body)
    assert note.startswith("[truncated: only the first ")
    assert note.endswith("of 3750 tokens) is included here]")
    assert len(extracted.text.encode()) <= 100 * 4


def test_text_within_the_budget_is_not_touched() -> None:
    assert truncate("short", 10).text == "short"
