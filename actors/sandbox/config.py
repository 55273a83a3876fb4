"""The sandbox's configuration: the user's config.toml, pointed at the local emulators.

Everything the bot does in the sandbox is the real thing (same actors, same pacing, same
rendering), so the sandbox starts from the real configuration and changes only what must not
leak in either direction:

* Telegram: the emulator's address and a fake token (a real token never leaves the machine,
  and no real chat is ever written to), and the sandbox's own admin.
* Storage: its own directory, ``data/sandbox/`` beside config.toml, so demo users never mix with
  a production database (delete the directory to start over).
* Providers: those with an API key are kept and used for real; without any key, only the
  offline demo model (see :mod:`actors.sandbox.demo`).
* The ops endpoint is off, so a sandbox never fights a running bot for its port.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Final

import msgspec

from actors.config import Config, ProviderConfig, Secret
from actors.sandbox.demo import DEMO_API_KEY, DEMO_MODELS, DEMO_PROVIDER

SANDBOX_TOKEN: Final = "777000:SANDBOX-not-a-real-token"  # noqa: S105 - the emulator's own
SANDBOX_DIR: Final = Path("data") / "sandbox"
_POLL_TIMEOUT: Final = 5  # short, so that Ctrl-C stops polling at once


def sandbox_data_dir(config_path: Path) -> Path:
    """Where the sandbox keeps its database, files and users: ``data/sandbox/`` by config.toml."""
    return config_path.resolve().parent / SANDBOX_DIR


def sandbox_config(
    base: Config,
    *,
    telegram_url: str,
    admin_id: int,
    data_dir: Path,
    demo_url: str | None,
) -> Config:
    """``base`` changed to run against the emulators; see the module docstring.

    Args:
        base: the configuration read from config.toml (a token is not required).
        telegram_url: the Telegram emulator's address (its ``base_url``).
        admin_id: the sandbox admin's Telegram user id.
        data_dir: the sandbox's own storage directory.
        demo_url: the demo model's API root, or None when real providers have keys.

    Raises:
        ValueError: no provider has a key and no demo model was given.
    """
    telegram = msgspec.structs.replace(
        base.telegram,
        token=Secret(SANDBOX_TOKEN),
        api_base_url=telegram_url.rstrip("/"),
        admin_ids=(admin_id,),
        poll_timeout=min(base.telegram.poll_timeout, _POLL_TIMEOUT),
    )
    storage = msgspec.structs.replace(
        base.storage, path=data_dir / "bot.sqlite3", files_dir=data_dir / "files"
    )
    providers = dict(base.usable_providers())
    default = base.llm.default_provider
    if demo_url is not None:
        providers = {
            DEMO_PROVIDER: ProviderConfig(
                name=DEMO_PROVIDER,
                kind="openai",
                base_url=demo_url.rstrip("/"),
                api_key=Secret(DEMO_API_KEY),
                default_model=DEMO_MODELS[0],
                models=DEMO_MODELS,
                timeout=30.0,
                max_retries=1,
            )
        }
        default = DEMO_PROVIDER
    elif not providers:
        raise ValueError("no provider has an API key: the sandbox needs the demo model")
    elif default not in providers:
        default = next(iter(providers))
    return msgspec.structs.replace(
        base,
        telegram=telegram,
        storage=storage,
        llm=msgspec.structs.replace(base.llm, default_provider=default),
        providers=MappingProxyType(providers),
        ops=msgspec.structs.replace(base.ops, listen=""),
    )
