"""The sandbox's configuration: the real one, pointed at the emulators, kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.config import Config, load_config
from actors.sandbox.config import SANDBOX_TOKEN, sandbox_config, sandbox_data_dir

ROOT = Path(__file__).resolve().parents[3]


def base(environ: dict[str, str]) -> Config:
    return load_config(ROOT / "config.toml", environ, require_token=False)


def test_without_any_key_only_the_offline_demo_model_answers(tmp_path: Path) -> None:
    config = sandbox_config(
        base({}),
        telegram_url="http://127.0.0.1:5000/",
        admin_id=100,
        data_dir=tmp_path,
        demo_url="http://127.0.0.1:6000/v1",
    )

    assert list(config.providers) == ["demo"]
    assert config.llm.default_provider == "demo"
    assert config.providers["demo"].base_url == "http://127.0.0.1:6000/v1"
    assert config.providers["demo"].api_key


def test_telegram_is_the_emulator_with_a_fake_token_and_the_sandbox_admin(
    tmp_path: Path,
) -> None:
    real = base({"TELEGRAM_BOT_TOKEN": "123:REAL"})

    config = sandbox_config(
        real,
        telegram_url="http://127.0.0.1:5000/",
        admin_id=100,
        data_dir=tmp_path,
        demo_url="http://d",
    )

    assert config.telegram.api_base_url == "http://127.0.0.1:5000"
    assert config.telegram.token.reveal() == SANDBOX_TOKEN
    assert config.telegram.admin_ids == (100,)
    assert config.ops.listen == ""


def test_storage_is_the_sandboxs_own_directory(tmp_path: Path) -> None:
    data_dir = sandbox_data_dir(tmp_path / "config.toml")

    config = sandbox_config(
        base({}), telegram_url="http://t", admin_id=1, data_dir=data_dir, demo_url="http://d"
    )

    assert data_dir == tmp_path / "data" / "sandbox"
    assert config.storage.path == data_dir / "bot.sqlite3"
    assert config.storage.files_dir == data_dir / "files"


def test_providers_with_keys_are_kept_and_become_the_default(tmp_path: Path) -> None:
    config = sandbox_config(
        base({"MISTRAL_API_KEY": "key"}),
        telegram_url="http://t",
        admin_id=1,
        data_dir=tmp_path,
        demo_url=None,
    )

    assert list(config.providers) == ["mistral"]
    assert config.llm.default_provider == "mistral"
    assert config.providers["mistral"].api_key.reveal() == "key"


def test_without_keys_and_without_the_demo_model_there_is_nothing_to_answer(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="demo model"):
        sandbox_config(
            base({}), telegram_url="http://t", admin_id=1, data_dir=tmp_path, demo_url=None
        )
