"""Accepting or refusing a file from what its update announces, before any download."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.config import FilesConfig, load_config
from actors.errors import ConfigError
from actors.files import Accepted, Announced, Refused, decide, effective_mime, format_size

LIMITS = FilesConfig(max_bytes=1024 * 1024, per_user_per_day=3)


def document(name: str | None, mime: str | None, size: int | None = 1000) -> Announced:
    return Announced(kind="document", file_name=name, mime_type=mime, size=size)


def test_a_pdf_within_the_limits_is_accepted_with_its_type() -> None:
    assert decide(document("r.pdf", "application/pdf"), LIMITS, sent_today=0) == Accepted(
        mime_type="application/pdf"
    )


def test_a_file_over_the_size_limit_is_refused_with_both_sizes_in_the_reason() -> None:
    decision = decide(document("big.pdf", "application/pdf", 3 * 1024 * 1024), LIMITS, sent_today=0)

    assert decision == Refused(reason="This file is 3 MB; the most I take is 1 MB.")


def test_a_disallowed_type_is_refused_with_what_is_readable() -> None:
    decision = decide(document("setup.exe", "application/x-msdownload"), LIMITS, sent_today=0)

    assert isinstance(decision, Refused)
    assert decision.reason.startswith("I can't take .exe files (application/x-msdownload).")
    assert "PDF" in decision.reason
    assert "images" in decision.reason


def test_the_daily_quota_refuses_the_file_after_the_last_allowed_one() -> None:
    assert isinstance(decide(document("a.txt", "text/plain"), LIMITS, sent_today=2), Accepted)

    decision = decide(document("a.txt", "text/plain"), LIMITS, sent_today=3)

    assert isinstance(decision, Refused)
    assert "3 files in the last 24 hours" in decision.reason


def test_an_unannounced_size_is_left_for_the_download_to_check() -> None:
    assert isinstance(
        decide(document("a.md", "text/markdown", None), LIMITS, sent_today=0), Accepted
    )


def test_a_photo_is_a_jpeg_and_a_voice_message_is_ogg_whatever_they_declare() -> None:
    assert effective_mime("photo", None, None) == "image/jpeg"
    assert effective_mime("voice", "audio/opus", None) == "audio/ogg"


def test_a_vague_type_is_guessed_from_the_file_name() -> None:
    assert effective_mime("document", "application/octet-stream", "main.py") == "text/x-python"
    assert effective_mime("document", None, "notes.MD") == "text/markdown"
    assert effective_mime("document", "", "data.csv") == "text/csv"
    assert effective_mime("document", None, "blob") == "application/octet-stream"


def test_parameters_case_and_aliases_are_normalised() -> None:
    assert effective_mime("document", "Text/Plain; charset=UTF-8", "a.txt") == "text/plain"
    assert effective_mime("document", "application/x-yaml", "a.yml") == "text/yaml"


def test_source_code_declared_as_an_application_type_is_allowed_as_text() -> None:
    decision = decide(document("app.js", "application/javascript"), FilesConfig(), sent_today=0)

    assert decision == Accepted(mime_type="text/javascript")


def test_sizes_read_as_people_say_them() -> None:
    assert format_size(512) == "512 bytes"
    assert format_size(1536) == "1.5 KB"
    assert format_size(10 * 1024 * 1024) == "10 MB"


def test_the_files_section_is_read_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[files]\nmax_bytes = 2048\nallowed_mime_types = ["text/*"]\nper_user_per_day = 5\n',
        encoding="utf-8",
    )

    config = load_config(path, {}, require_token=False)

    assert config.files == FilesConfig(
        max_bytes=2048, allowed_mime_types=("text/*",), per_user_per_day=5
    )


def test_a_max_size_above_what_telegram_serves_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[files]\nmax_bytes = 30000000\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"\[files\] max_bytes: expected an integer from 1 to"):
        load_config(path, {}, require_token=False)


def test_a_voice_message_where_audio_is_not_allowed_is_refused_in_plain_words() -> None:
    voice = Announced(kind="voice", file_name=None, mime_type="audio/ogg", size=100)

    decision = decide(voice, FilesConfig(allowed_mime_types=("text/*",)), sent_today=0)

    assert decision == Refused(
        reason="I can't take voice messages. I can read: text, Markdown, CSV and source code."
    )
