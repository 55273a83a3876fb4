"""[admin]: the password from ADMIN_PASSWORD, its minimum length, and its place among secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.config import AdminConfig, load_config
from actors.errors import ConfigError
from actors.logs import redact
from main import secrets_of

ROOT = Path(__file__).resolve().parents[2]
ENV = {"TELEGRAM_BOT_TOKEN": "123:abc"}


def test_the_shipped_admin_section_holds_the_defaults_and_guards_nothing() -> None:
    config = load_config(ROOT / "config.toml", ENV)

    assert config.admin == AdminConfig()
    assert not config.admin.password


def test_admin_password_comes_from_the_environment_and_is_a_redacted_secret() -> None:
    config = load_config(ROOT / "config.toml", {**ENV, "ADMIN_PASSWORD": " hunter2-long "})

    assert config.admin.password.reveal() == "hunter2-long"
    assert "hunter2-long" not in repr(config)
    assert redact("he typed hunter2-long", secrets_of(config)) == "he typed ***"


def test_a_short_admin_password_stops_the_bot_with_one_line() -> None:
    with pytest.raises(ConfigError, match=r"\[admin\] password \(ADMIN_PASSWORD\): must be at"):
        load_config(ROOT / "config.toml", {**ENV, "ADMIN_PASSWORD": "short"})
