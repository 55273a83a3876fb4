"""The bot's configuration: one TOML file plus secrets from the environment, read once at start.

:func:`load_config` turns ``config.toml`` into a tree of frozen Structs, one per section, so
each actor can be handed only its own section::

    Config
    ├── telegram   TelegramConfig    token, Bot API address, admins, polling and rate limits
    ├── storage    StorageConfig     database and file paths (absolute after loading)
    ├── llm        LLMConfig         default provider, system prompt, token budgets
    ├── providers  {name: ProviderConfig}   one per [providers.NAME] table
    ├── modes      {name: ModeConfig}       one per [modes.NAME] table: /mode's system prompts
    ├── sessions   SessionsConfig    conversation actor lifetimes
    ├── shutdown   ShutdownConfig    how long stopping may take
    ├── logging    LoggingConfig     level and format
    ├── ops        OpsConfig         the local HTTP endpoint: health, metrics, inspect
    ├── scheduler  SchedulerConfig   crontabs of the model refresh and retention jobs
    ├── admin      AdminConfig       the admin password's guard, notices to admins
    ├── health     HealthConfig      check interval, thresholds, process limits
    ├── files      FilesConfig       what users may send: size, types, files per day
    ├── usage      UsageConfig       default tier, tokens reserved per call, when periods reset
    ├── tiers      {name: TierConfig}       one per [tiers.NAME] table: token budgets, models
    └── prices     {pattern: PriceConfig}   USD per million tokens, per "provider/model" glob

Secrets (the bot token, API keys, the admin password) may come from the environment, which
wins when the variable is set and non-empty: ``TELEGRAM_BOT_TOKEN``, ``<NAME>_API_KEY`` per
provider (see :func:`api_key_env_var`) and ``ADMIN_PASSWORD``. They are held in
:class:`Secret`, whose repr is ``Secret('***')``, so printing or logging a config never leaks
them.

Every problem raises :class:`~actors.errors.ConfigError` with one line naming the file, the key
and the problem, e.g. ``config.toml: [telegram] admin_ids: expected an array of integers, got
"123"``. A provider without an API key is not an error: :meth:`Config.skipped_providers` names
it so that ``main.py`` can say so. Nothing here logs or reads ``os.environ`` by itself.
"""

import datetime as dt
import difflib
import hmac
import json
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

import msgspec
import msgspec.inspect as mi

from actors.errors import ConfigError
from actors.scheduler.triggers import load_timezone, parse_crontab

TOKEN_ENV_VAR: Final = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
ADMIN_PASSWORD_ENV_VAR: Final = "ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a secret
MIN_ADMIN_PASSWORD_LENGTH: Final = 8

_T = TypeVar("_T")

DEFAULT_SYSTEM_PROMPT: Final = (
    "You are a helpful assistant talking with people in a Telegram chat. "
    "Answer clearly and concisely, in the language the user writes in. "
    "Prefer short paragraphs and lists; put code in fenced code blocks. "
    "If you are not sure about something, say so."
)


class Secret:
    """A credential that never shows itself in a repr, str or f-string; ``reveal()`` gives it.

    Immutable and compared by value, so Structs holding one stay frozen and comparable.
    Its falsiness means "not set".
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str = "") -> None:
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """Return the secret itself: only where it is sent, never where it is shown."""
        return self._value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]
NonEmptyStr = Annotated[str, msgspec.Meta(min_length=1)]
TelegramMessageLength = Annotated[int, msgspec.Meta(ge=1, le=4096)]
ProviderKind = Literal["openai", "gemini"]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"]


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Strict base of every section: immutable, keyword-only, and a typo is an error."""


class TelegramConfig(_Section, frozen=True, kw_only=True):
    """[telegram]: how to reach the Bot API and how fast we may talk to it."""

    token: Secret = Secret()
    api_base_url: str = "https://api.telegram.org"
    admin_ids: tuple[int, ...] = ()
    poll_timeout: PositiveInt = 30
    max_message_chars: TelegramMessageLength = 4096
    edit_interval: PositiveFloat = 1.0
    per_chat_rate: PositiveFloat = 1.0
    group_rate_per_minute: PositiveInt = 20
    global_rate: PositiveFloat = 30.0
    request_timeout: PositiveFloat = 20.0


class StorageConfig(_Section, frozen=True, kw_only=True):
    """[storage]: where the database and downloaded files live (absolute after loading)."""

    path: Path = Path("data/bot.sqlite3")
    files_dir: Path = Path("data/files")
    retention_days: PositiveInt = 90


class LLMConfig(_Section, frozen=True, kw_only=True):
    """[llm]: what every conversation starts with.

    ``system_prompt`` is the built-in "assistant" mode's, used when no [modes.NAME] table is
    configured; ``default_mode`` (None: the first mode) is the mode of a chat that chose none.
    """

    default_provider: NonEmptyStr = "deepseek"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    default_mode: NonEmptyStr | None = None
    context_token_budget: PositiveInt = 6000
    max_answer_tokens: PositiveInt | None = None


class ProviderConfig(_Section, frozen=True, kw_only=True):
    """[providers.NAME]: one LLM API; ``name`` is the table's name, filled in by the loader."""

    name: NonEmptyStr
    kind: ProviderKind = "openai"
    base_url: str
    api_key: Secret = Secret()
    default_model: NonEmptyStr
    models: tuple[str, ...] = ()
    vision_models: tuple[str, ...] = ()  # OpenAI-compatible models that read images
    timeout: PositiveFloat = 60.0
    max_concurrency: PositiveInt = 32
    max_retries: NonNegativeInt = 3
    circuit_failure_threshold: PositiveInt = 5
    circuit_reset_seconds: PositiveFloat = 30.0


class ModeConfig(_Section, frozen=True, kw_only=True):
    """[modes.NAME]: a system prompt users pick with /mode; ``name`` is filled in by the loader.

    ``label`` is what the /mode button and /help show (the name, capitalised, if left out).
    """

    name: NonEmptyStr
    label: str = ""
    system_prompt: NonEmptyStr

    @property
    def title(self) -> str:
        """What users see: the label, or the name capitalised."""
        return self.label or self.name.capitalize()


class SessionsConfig(_Section, frozen=True, kw_only=True):
    """[sessions]: lifetimes of the per-chat conversation actors."""

    idle_seconds: PositiveFloat = 600.0
    max_alive: PositiveInt = 1000
    poison_after: PositiveInt = 3


class ShutdownConfig(_Section, frozen=True, kw_only=True):
    """[shutdown]: how long actors get to finish their work when the bot stops."""

    grace_seconds: NonNegativeFloat = 10.0


class LoggingConfig(_Section, frozen=True, kw_only=True):
    """[logging]: loguru level and whether lines are JSON."""

    level: LogLevel = "INFO"
    json: bool = False


class OpsConfig(_Section, frozen=True, kw_only=True):
    """[ops]: the local HTTP endpoint for health checks, metrics and ``main.py inspect``."""

    listen: str = "127.0.0.1:9464"

    def bind_address(self) -> tuple[str, int] | None:
        """``(host, port)`` to listen on, or None when the endpoint is off (``listen = ""``).

        Raises:
            ValueError: ``listen`` is not ``host:port`` (the loader has checked it already).
        """
        return parse_listen(self.listen) if self.listen else None


class SchedulerConfig(_Section, frozen=True, kw_only=True):
    """[scheduler]: the APScheduler jobs (model refresh, retention) and where they persist."""

    refresh_cron: str = "0 4 * * *"
    retention_cron: str = "30 4 * * *"
    timezone: str = "UTC"
    misfire_grace_seconds: PositiveInt = 3600


class AdminConfig(_Section, frozen=True, kw_only=True):
    """[admin]: the password guard on sensitive admin commands, and notices to admins.

    ``password`` (usually from ADMIN_PASSWORD) turns the guard on: ``/admin login`` asks for
    it and grants ``elevation_minutes``; ``login_attempts`` wrong answers lock login for
    ``lockout_minutes``; a prompt nobody answers ends after ``login_timeout_seconds``.
    Notices with the same topic reach admins at most once per ``alert_interval_seconds``.
    """

    password: Secret = Secret()
    elevation_minutes: PositiveFloat = 15.0
    login_attempts: PositiveInt = 3
    login_timeout_seconds: PositiveFloat = 60.0
    lockout_minutes: NonNegativeFloat = 15.0
    alert_interval_seconds: NonNegativeFloat = 300.0


class HealthConfig(_Section, frozen=True, kw_only=True):
    """[health]: how often the health supervisor checks, and the process limits it holds.

    A component fails after ``failure_threshold`` failed checks in a row; a probe that gets
    no answer within ``probe_timeout_seconds`` counts as failed. A new overall state is
    announced to admins once it has held for ``notify_debounce_seconds``.
    """

    interval_seconds: PositiveFloat = 30.0
    failure_threshold: PositiveInt = 3
    notify_debounce_seconds: NonNegativeFloat = 60.0
    probe_timeout_seconds: PositiveFloat = 10.0
    max_rss_mb: PositiveInt = 200
    max_open_fds: PositiveInt = 100
    max_threads: PositiveInt = 1100
    max_mailbox_backlog: PositiveInt = 100
    max_restarts_per_hour: PositiveInt = 10


TELEGRAM_DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024  # getFile serves nothing bigger
FileSize = Annotated[int, msgspec.Meta(ge=1, le=TELEGRAM_DOWNLOAD_LIMIT)]


class FilesConfig(_Section, frozen=True, kw_only=True):
    """[files]: what users may send (documents, photos, voice) and how much of it.

    ``max_bytes`` is checked against the size the update announces, before downloading, and
    cannot exceed what the Bot API's getFile serves (20 MB). ``allowed_mime_types`` takes
    exact types and ``type/*`` patterns. ``per_user_per_day`` counts accepted files over the
    last 24 hours. ``max_text_tokens`` bounds the text extracted from one file, so a long PDF
    leaves room in the context for the conversation.
    """

    max_bytes: FileSize = 10 * 1024 * 1024
    allowed_mime_types: tuple[str, ...] = (
        "application/pdf",
        "text/*",
        "application/json",
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/ogg",
    )
    per_user_per_day: PositiveInt = 20
    max_text_tokens: PositiveInt = 4000


class UsageConfig(_Section, frozen=True, kw_only=True):
    """[usage]: how token budgets are kept (they apply once [tiers.NAME] tables exist).

    ``default_tier`` ("": the first tier) is the tier of a user no admin gave one.
    ``reserve_output_tokens`` are reserved for the answer before each call, on top of the
    prompt's estimate, and settled to the real count after. Days and months start at
    midnight in ``timezone``.
    """

    default_tier: str = ""
    reserve_output_tokens: NonNegativeInt = 1024
    timezone: str = "UTC"


class TierConfig(_Section, frozen=True, kw_only=True):
    """[tiers.NAME]: a usage tier; ``name`` is filled in by the loader, ``title`` too if empty.

    A budget of 0 means no limit. ``models`` holds "provider/model" globs (fnmatch); empty
    means every model.
    """

    name: NonEmptyStr
    title: str = ""
    daily_tokens: NonNegativeInt = 0
    monthly_tokens: NonNegativeInt = 0
    models: tuple[str, ...] = ()


class PriceConfig(_Section, frozen=True, kw_only=True):
    """One [prices] entry: US dollars per million tokens sent (input) and received (output)."""

    input: NonNegativeFloat
    output: NonNegativeFloat


BUILTIN_TIER: Final = "default"  # the one unlimited tier when no [tiers.NAME] table exists
_TIER_NAME: Final = re.compile(r"[a-z0-9_-]+")


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9464"`` -> ``("127.0.0.1", 9464)``; an IPv6 host goes in brackets.

    Raises:
        ValueError: the problem, in words for a config error.
    """
    host, colon, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address without brackets: its port cannot be told apart
    valid_port = port.isascii() and port.isdigit() and 0 < int(port) < 65536  # noqa: PLR2004
    if not colon or not host or not valid_port or any(c.isspace() or c in "/[]" for c in host):
        problem = 'expected "host:port" such as "127.0.0.1:9464", or "" to turn it off'
        raise ValueError(f"{problem}, got {_show(value)}")
    return host, int(port)


def _builtin_modes(assistant_prompt: str) -> Mapping[str, ModeConfig]:
    """The modes offered when the file has no [modes] table."""
    return MappingProxyType(
        {
            "assistant": ModeConfig(
                name="assistant", label="Assistant", system_prompt=assistant_prompt
            ),
            "translator": ModeConfig(
                name="translator",
                label="Translator",
                system_prompt=(
                    "You are a translator. Translate what the user writes: into English if it "
                    "is in another language, otherwise into the language they ask for. Keep "
                    "the meaning, tone and formatting; answer with the translation only."
                ),
            ),
            "coder": ModeConfig(
                name="coder",
                label="Coder",
                system_prompt=(
                    "You are an experienced software engineer. Answer programming questions "
                    "with working, idiomatic code in fenced code blocks and a short "
                    "explanation; point out bugs, edge cases and security problems you see."
                ),
            ),
        }
    )


def _builtin_providers() -> Mapping[str, ProviderConfig]:
    """The providers used when the file has no [providers] table at all."""
    return MappingProxyType(
        {
            "deepseek": ProviderConfig(
                name="deepseek",
                kind="openai",
                base_url="https://api.deepseek.com/v1",
                default_model="deepseek-chat",
            ),
            "mistral": ProviderConfig(
                name="mistral",
                kind="openai",
                base_url="https://api.mistral.ai/v1",
                default_model="mistral-small-latest",
            ),
            "gemini": ProviderConfig(
                name="gemini",
                kind="gemini",
                base_url="https://generativelanguage.googleapis.com/v1beta",
                default_model="gemini-2.5-flash",
            ),
        }
    )


class Config(_Section, frozen=True, kw_only=True):
    """The whole configuration; hand each actor only its own section."""

    telegram: TelegramConfig = TelegramConfig()
    storage: StorageConfig = StorageConfig()
    llm: LLMConfig = LLMConfig()
    providers: Mapping[str, ProviderConfig] = msgspec.field(default_factory=_builtin_providers)
    modes: Mapping[str, ModeConfig] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    sessions: SessionsConfig = SessionsConfig()
    shutdown: ShutdownConfig = ShutdownConfig()
    logging: LoggingConfig = LoggingConfig()
    ops: OpsConfig = OpsConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    admin: AdminConfig = AdminConfig()
    health: HealthConfig = HealthConfig()
    files: FilesConfig = FilesConfig()
    usage: UsageConfig = UsageConfig()
    tiers: Mapping[str, TierConfig] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    prices: Mapping[str, PriceConfig] = msgspec.field(default_factory=lambda: MappingProxyType({}))

    def usable_providers(self) -> Mapping[str, ProviderConfig]:
        """The configured providers that have an API key, in file order."""
        return MappingProxyType({n: p for n, p in self.providers.items() if p.api_key})

    def chat_modes(self) -> Mapping[str, ModeConfig]:
        """The modes /mode offers: the [modes.NAME] tables, or the built-in three if none.

        The built-in "assistant" mode speaks with ``[llm] system_prompt``.
        """
        return self.modes or _builtin_modes(self.llm.system_prompt)

    def default_mode(self) -> str:
        """The mode of a chat that chose none: ``[llm] default_mode`` or the first mode."""
        return self.llm.default_mode or next(iter(self.chat_modes()))

    def skipped_providers(self) -> tuple[str, ...]:
        """Names of configured providers left unused because they have no API key."""
        return tuple(n for n, p in self.providers.items() if not p.api_key)


def api_key_env_var(provider: str) -> str:
    """The environment variable holding a provider's key: ``my-llm`` -> ``MY_LLM_API_KEY``."""
    return re.sub(r"[^A-Z0-9]", "_", provider.upper()) + "_API_KEY"


def load_config(path: Path, environ: Mapping[str, str], *, require_token: bool = True) -> Config:
    """Read, decode and validate the configuration, once, at start.

    Args:
        path: the TOML file; relative [storage] paths are resolved against its directory.
        environ: where secrets may come from (``os.environ`` in production).
        require_token: False for tools that never talk to Telegram (``main.py inspect``).

    Raises:
        ConfigError: one line naming the file, the key and the problem.
    """
    raw = _read_toml(path)
    config = _decode(raw, path)
    config = _apply_environment(config, environ)
    config = _normalize(config, path)
    _validate(config, path, require_token=require_token)
    return config


# --- reading and decoding -------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.fullmatch(r"(?P<problem>.*) \(at (?P<where>[^()]+)\)", str(exc))
        if match is None:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        problem, where = match["problem"], match["where"]
        raise ConfigError(f"{path}: {where}: invalid TOML: {problem}") from None


def _decode(raw: dict[str, Any], path: Path) -> Config:
    """Decode section by section; named tables one at a time, so errors can name them."""
    tables = {"providers", "modes", "tiers", "prices"}
    rest = {key: value for key, value in raw.items() if key not in tables}
    config = _convert(rest, Config, path, raw, ())
    if "providers" in raw:
        providers = _named_tables(raw, "providers", "provider", ProviderConfig, path)
        config = msgspec.structs.replace(config, providers=providers)
    if "modes" in raw:
        modes = _named_tables(raw, "modes", "mode", ModeConfig, path)
        config = msgspec.structs.replace(config, modes=modes)
    if "tiers" in raw:
        tiers = _named_tables(raw, "tiers", "tier", TierConfig, path)
        config = msgspec.structs.replace(config, tiers=tiers)
    if "prices" in raw:
        config = msgspec.structs.replace(config, prices=_prices(raw, path))
    return config


def _prices(raw: dict[str, Any], path: Path) -> Mapping[str, PriceConfig]:
    """``[prices]`` entries one at a time, in file order (the order globs are tried in)."""
    table = raw["prices"]
    if not isinstance(table, dict):
        problem = f'expected a table of prices by "provider/model", got {_show(table)}'
        raise ConfigError(f"{path}: [prices]: {problem}")
    return MappingProxyType(
        {
            pattern: _convert(price, PriceConfig, path, raw, ("prices", pattern))
            for pattern, price in table.items()
        }
    )


def _named_tables(
    raw: dict[str, Any], key: str, what: str, into: type[_T], path: Path
) -> Mapping[str, _T]:
    """``[key.NAME]`` tables decoded into ``into``, each given its table's name as ``name``."""
    tables = raw[key]
    if not isinstance(tables, dict):
        problem = f"expected a table of {what} tables, got {_show(tables)}"
        raise ConfigError(f"{path}: [{key}]: {problem}")
    decoded: dict[str, _T] = {}
    for name, table in tables.items():
        where = (key, name)
        if isinstance(table, dict) and "name" in table:
            problem = f"unknown key (a {what} is named by its table)"
            raise ConfigError(f"{path}: {_where((*where, 'name'))}: {problem}")
        data = {**table, "name": name} if isinstance(table, dict) else table
        decoded[name] = _convert(data, into, path, raw, where)
    return MappingProxyType(decoded)


def _convert(data: object, into: type[_T], path: Path, raw: object, prefix: tuple[str, ...]) -> _T:
    try:
        return msgspec.convert(data, into, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_explain(str(exc), raw, prefix)}") from None


def _dec_hook(into: type, value: object) -> object:
    """Build our custom field types; a TypeError or ValueError becomes a ValidationError."""
    if into is Secret:
        if not isinstance(value, str):
            raise TypeError("expected a string")
        return Secret(value.strip())
    if isinstance(into, type) and issubclass(into, Path):
        if not isinstance(value, str) or not value:
            raise TypeError("expected a non-empty path")
        return Path(value)
    raise NotImplementedError  # pragma: no cover - no other custom types in the tree


# --- after decoding -------------------------------------------------------------------------


def _apply_environment(config: Config, environ: Mapping[str, str]) -> Config:
    telegram = config.telegram
    if token := environ.get(TOKEN_ENV_VAR, "").strip():
        telegram = msgspec.structs.replace(telegram, token=Secret(token))
    providers = {}
    for name, provider in config.providers.items():
        if key := environ.get(api_key_env_var(name), "").strip():
            provider = msgspec.structs.replace(provider, api_key=Secret(key))  # noqa: PLW2901
        providers[name] = provider
    admin = config.admin
    if password := environ.get(ADMIN_PASSWORD_ENV_VAR, "").strip():
        admin = msgspec.structs.replace(admin, password=Secret(password))
    return msgspec.structs.replace(
        config, telegram=telegram, providers=MappingProxyType(providers), admin=admin
    )


def _normalize(config: Config, path: Path) -> Config:
    """Make storage paths absolute and drop trailing slashes from base URLs."""
    base = path.absolute().parent

    def resolve(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else base / p

    storage = msgspec.structs.replace(
        config.storage,
        path=resolve(config.storage.path),
        files_dir=resolve(config.storage.files_dir),
    )
    telegram = msgspec.structs.replace(
        config.telegram, api_base_url=config.telegram.api_base_url.rstrip("/")
    )
    providers = {
        name: msgspec.structs.replace(provider, base_url=provider.base_url.rstrip("/"))
        for name, provider in config.providers.items()
    }
    tiers = {
        name: msgspec.structs.replace(tier, title=tier.title.strip() or name)
        for name, tier in config.tiers.items()
    }
    return msgspec.structs.replace(
        config,
        storage=storage,
        telegram=telegram,
        providers=MappingProxyType(providers),
        tiers=MappingProxyType(tiers),
    )


def _validate(config: Config, path: Path, *, require_token: bool) -> None:
    """The checks a type cannot express; the first problem found is raised."""
    urls: list[tuple[tuple[str, ...], str]] = [
        (("telegram", "api_base_url"), config.telegram.api_base_url),
        *((("providers", n, "base_url"), p.base_url) for n, p in config.providers.items()),
    ]
    for where, url in urls:
        if problem := _url_problem(url):
            raise ConfigError(f"{path}: {_where(where)}: {problem}")
    default = config.llm.default_provider
    if default not in config.providers:
        names = ", ".join(json.dumps(n) for n in config.providers) or "none"
        problem = f"{json.dumps(default)} is not a configured provider (configured: {names})"
        raise ConfigError(f"{path}: [llm] default_provider: {problem}")
    mode = config.llm.default_mode
    if mode is not None and mode not in config.chat_modes():
        names = ", ".join(json.dumps(n) for n in config.chat_modes())
        problem = f"{json.dumps(mode)} is not a configured mode (configured: {names})"
        raise ConfigError(f"{path}: [llm] default_mode: {problem}")
    try:
        config.ops.bind_address()
    except ValueError as exc:
        raise ConfigError(f"{path}: [ops] listen: {exc}") from None
    _validate_scheduler(config.scheduler, path)
    _validate_usage(config, path)
    password = config.admin.password.reveal()
    if password and len(password) < MIN_ADMIN_PASSWORD_LENGTH:
        # Short ones are guessed, and the log redaction skips strings this short.
        problem = f"must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters"
        raise ConfigError(f"{path}: [admin] password ({ADMIN_PASSWORD_ENV_VAR}): {problem}")
    if require_token and not config.telegram.token:
        raise ConfigError(
            f"no Telegram bot token: set {TOKEN_ENV_VAR} or [telegram] token in {path} "
            "(@BotFather gives one), or try the bot without Telegram: python main.py --sandbox"
        )


def _validate_scheduler(scheduler: SchedulerConfig, path: Path) -> None:
    """The time zone must be known and each crontab parse (five fields, values in range)."""
    try:
        timezone = load_timezone(scheduler.timezone)
    except ValueError as exc:
        raise ConfigError(f"{path}: [scheduler] timezone: {exc}") from None
    for key in ("refresh_cron", "retention_cron"):
        try:
            parse_crontab(getattr(scheduler, key), timezone)
        except ValueError as exc:
            raise ConfigError(f"{path}: [scheduler] {key}: {exc}") from None


def _validate_usage(config: Config, path: Path) -> None:
    """Tier names admins can type, "provider/model" globs, a known default tier and zone."""
    for name, tier in config.tiers.items():
        if not _TIER_NAME.fullmatch(name):
            problem = (
                "a tier is named in lower-case letters, digits, _ and - (admins type it in "
                f"/admin tier), got {_show(name)}"
            )
            raise ConfigError(f"{path}: {_where(('tiers', name))}: {problem}")
        for pattern in tier.models:
            if "/" not in pattern:
                problem = (
                    f'expected "provider/model" globs such as "deepseek/*", got {_show(pattern)}'
                )
                raise ConfigError(f"{path}: {_where(('tiers', name, 'models'))}: {problem}")
    for pattern in config.prices:
        if "/" not in pattern:
            problem = 'expected a "provider/model" key or glob such as "deepseek/*"'
            raise ConfigError(f"{path}: [prices] {_quote(pattern)}: {problem}")
    default = config.usage.default_tier
    if default and default not in (config.tiers or (BUILTIN_TIER,)):
        names = ", ".join(json.dumps(n) for n in config.tiers)
        configured = (
            f"configured: {names}"
            if config.tiers
            else f'no [tiers.NAME] table, so only the built-in "{BUILTIN_TIER}"'
        )
        problem = f"{json.dumps(default)} is not a configured tier ({configured})"
        raise ConfigError(f"{path}: [usage] default_tier: {problem}")
    try:
        load_timezone(config.usage.timezone)
    except ValueError as exc:
        raise ConfigError(f"{path}: [usage] timezone: {exc}") from None


def _url_problem(url: str) -> str | None:
    problem = f"expected an http:// or https:// URL, got {_show(url)}"
    if any(char.isspace() for char in url):
        return problem
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return problem
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return problem
    if parts.query or parts.fragment:
        return f"must not have a query or fragment, got {_show(url)}"
    return None


# --- explaining msgspec's errors ------------------------------------------------------------

_ERROR = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.DOTALL)
_PATH_PART = re.compile(r"\.(?P<key>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+|\.\.\.)\]")
_MISSING: Final = object()


def _explain(error: str, raw: object, prefix: tuple[str, ...]) -> str:
    """Turn ``Expected `int`, got `str` - at `$.telegram.x``` into ``[telegram] x: ...``."""
    match = _ERROR.fullmatch(error)
    assert match is not None  # the pattern matches any string
    message, keys = match["message"], _parse_path(match["path"] or "")
    where = (*prefix, *keys)
    if unknown := re.fullmatch(r"Object contains unknown field `(.+)`", message):
        return _unknown_key(where, unknown[1], raw)
    if missing := re.fullmatch(r"Object missing required field `(.+)`", message):
        return f"{_where((*where, missing[1]))}: missing; this key is required"
    expected, value = _type_at(where), _value_at(raw, where)
    if expected is None or value is _MISSING:  # pragma: no cover - msgspec's own words then
        return f"{_where(where)}: {message[:1].lower()}{message[1:]}"
    if isinstance(expected, mi.LiteralType):
        choices = ", ".join(json.dumps(choice) for choice in _choices(where, expected))
        return f"{_where(where)}: must be one of {choices}, got {_show(value)}"
    got = _kind(value) if _is_secret(expected) else _show(value)
    return f"{_where(where)}: expected {_describe(expected)}, got {got}"


def _choices(keys: tuple[str, ...], literal: mi.LiteralType) -> tuple[object, ...]:
    """A Literal's values in the order written in the code (``type_info`` sorts them)."""
    table = _type_at(keys[:-1])
    if isinstance(table, mi.StructType):
        hint = typing.get_type_hints(table.cls).get(keys[-1])
        if set(typing.get_args(hint)) == set(literal.values):
            return typing.get_args(hint)
    return literal.values  # pragma: no cover - every Literal in the tree is a Struct field


def _parse_path(path: str) -> tuple[str, ...]:
    """``.telegram.admin_ids[1]`` -> ``("telegram", "admin_ids")``: stop at an array index."""
    keys: list[str] = []
    for part in _PATH_PART.finditer(path):
        if part["key"] is None:
            break
        keys.append(part["key"])
    return tuple(keys)


def _unknown_key(where: tuple[str, ...], key: str, raw: object) -> str:
    table = _type_at(where)
    known = [f.encode_name for f in table.fields] if isinstance(table, mi.StructType) else []
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {json.dumps(close[0])}?)" if close else ""
    if not where and isinstance(_value_at(raw, (key,)), dict):
        return f"[{_quote(key)}]: unknown section{hint}"
    return f"{_where((*where, key))}: unknown key{hint}"


def _where(keys: tuple[str, ...]) -> str:
    """``("providers", "x", "kind")`` -> ``[providers.x] kind``; a table -> ``[providers.x]``."""
    if isinstance(_type_at(keys), mi.StructType | mi.DictType):
        return f"[{'.'.join(map(_quote, keys))}]"
    *table, key = keys
    return f"[{'.'.join(map(_quote, table))}] {_quote(key)}" if table else _quote(key)


def _quote(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _type_at(keys: tuple[str, ...]) -> mi.Type | None:
    node: mi.Type | None = mi.type_info(Config)
    for key in keys:
        node = _unwrap(node)
        if isinstance(node, mi.StructType):
            node = next((f.type for f in node.fields if f.encode_name == key), None)
        elif isinstance(node, mi.DictType):
            node = node.value_type
        else:
            return None
    return _unwrap(node)


def _unwrap(node: mi.Type | None) -> mi.Type | None:
    """An optional value is just one that may be left out: TOML has no null."""
    if isinstance(node, mi.UnionType):
        rest = [t for t in node.types if not isinstance(t, mi.NoneType)]
        return rest[0] if len(rest) == 1 else node
    return node


def _value_at(raw: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        if not isinstance(raw, dict) or key not in raw:
            return _MISSING
        raw = raw[key]
    return raw


def _is_secret(node: mi.Type) -> bool:
    return isinstance(node, mi.CustomType) and node.cls is Secret


def _describe(node: mi.Type) -> str:  # noqa: PLR0911 - one line per kind of value
    """What a value of this type looks like, in words a TOML author knows."""
    if isinstance(node, mi.BoolType):
        return "true or false"
    if isinstance(node, mi.IntType | mi.FloatType):
        return _describe_number(node)
    if isinstance(node, mi.StrType):
        return "a non-empty string" if node.min_length else "a string"
    if isinstance(node, mi.CustomType):
        return "a string" if node.cls is Secret else "a non-empty path"
    if isinstance(node, mi.VarTupleType):
        items = {"IntType": "integers", "StrType": "strings"}
        return f"an array of {items.get(type(node.item_type).__name__, 'values')}"
    if isinstance(node, mi.StructType | mi.DictType):
        return "a table"
    return "a different value"  # pragma: no cover - every type in the tree is listed above


def _describe_number(node: mi.IntType | mi.FloatType) -> str:
    noun = "integer" if isinstance(node, mi.IntType) else "number"
    if isinstance(node, mi.IntType) and node.ge is not None and node.le is not None:
        return f"an integer from {node.ge} to {node.le}"
    if node.gt == 0 or (isinstance(node, mi.IntType) and node.ge == 1):
        return f"a positive {noun}"
    if node.ge == 0:
        return f"a non-negative {noun}"
    return f"an {noun}" if noun == "integer" else "a number"


def _kind(value: object) -> str:
    """The TOML kind of a value, for errors that must not echo it (secrets)."""
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        ((dt.date, dt.time), "a date or time"),
    ]
    return next((name for cls, name in kinds if isinstance(value, cls)), "a value")


def _show(value: object, limit: int = 60) -> str:
    """A value as it would be written in TOML, cut short if long."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(item, limit) for item in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
