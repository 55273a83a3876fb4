"""The configuration is read once, validated once, and never shows its secrets."""

from collections.abc import Mapping
from pathlib import Path

import msgspec
import pytest

from actors.config import (
    Config,
    LLMConfig,
    LoggingConfig,
    OpsConfig,
    PriceConfig,
    ProviderConfig,
    Secret,
    SessionsConfig,
    ShutdownConfig,
    StorageConfig,
    TelegramConfig,
    TierConfig,
    UsageConfig,
    api_key_env_var,
    load_config,
)
from actors.errors import ConfigError

SHIPPED = Path(__file__).parents[2] / "config.toml"
TOKEN = "123456:TEST-token-never-shown"
ENV = {"TELEGRAM_BOT_TOKEN": TOKEN}

ONE_PROVIDER = """
[llm]
default_provider = "local"

[providers.local]
base_url = "http://127.0.0.1:8080/v1"
default_model = "tiny"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, environ: Mapping[str, str] = ENV) -> Config:
    return load_config(write(tmp_path, text), environ)


def error_of(tmp_path: Path, text: str, environ: Mapping[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_shipped_config_loads_with_a_token_from_the_environment() -> None:
    config = load_config(SHIPPED, ENV)

    assert config.telegram.token.reveal() == TOKEN
    assert list(config.providers) == ["deepseek", "mistral", "gemini"]
    assert {p.kind for p in config.providers.values()} == {"openai", "gemini"}
    assert config.providers["mistral"].base_url == "https://api.mistral.ai/v1"
    assert config.providers["mistral"].default_model == "mistral-small-latest"
    assert config.llm.default_provider == "deepseek"


def test_shipped_config_shows_the_defaults(tmp_path: Path) -> None:
    shipped = load_config(write(tmp_path, SHIPPED.read_text(encoding="utf-8")), ENV)
    minimal = load(tmp_path, "", ENV)

    assert shipped == minimal


def test_a_file_without_providers_gets_the_three_builtin_ones(tmp_path: Path) -> None:
    config = load(tmp_path, "")

    assert list(config.providers) == ["deepseek", "mistral", "gemini"]
    assert all(name == p.name for name, p in config.providers.items())


def test_environment_token_wins_over_the_file(tmp_path: Path) -> None:
    config = load(tmp_path, '[telegram]\ntoken = "from-file"\n', {"TELEGRAM_BOT_TOKEN": "env"})

    assert config.telegram.token.reveal() == "env"


def test_empty_environment_token_leaves_the_file_token(tmp_path: Path) -> None:
    config = load(tmp_path, '[telegram]\ntoken = "from-file"\n', {"TELEGRAM_BOT_TOKEN": " "})

    assert config.telegram.token.reveal() == "from-file"


def test_environment_api_keys_win_over_the_file(tmp_path: Path) -> None:
    text = ONE_PROVIDER.replace("[providers.local]", '[providers.my-llm]\napi_key = "file"')
    text = text.replace('"local"', '"my-llm"')
    environ = {**ENV, "MY_LLM_API_KEY": "env-key", "GEMINI_API_KEY": "unused"}

    config = load(tmp_path, text, environ)

    assert config.providers["my-llm"].api_key.reveal() == "env-key"
    assert list(config.providers) == ["my-llm"]


def test_environment_api_keys_apply_to_the_builtin_providers(tmp_path: Path) -> None:
    config = load(tmp_path, "", {**ENV, "GEMINI_API_KEY": "g-key", "DEEPSEEK_API_KEY": ""})

    assert config.providers["gemini"].api_key.reveal() == "g-key"
    assert not config.providers["deepseek"].api_key


def test_api_key_variable_is_the_upper_cased_name_with_underscores() -> None:
    assert api_key_env_var("gemini") == "GEMINI_API_KEY"
    assert api_key_env_var("my-llm.eu") == "MY_LLM_EU_API_KEY"


def test_provider_without_key_is_skipped_not_an_error(tmp_path: Path) -> None:
    config = load(tmp_path, "", {**ENV, "MISTRAL_API_KEY": "m-key"})

    assert list(config.usable_providers()) == ["mistral"]
    assert config.skipped_providers() == ("deepseek", "gemini")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[telegram]\ntokn = 'x'\n",
            'config.toml: [telegram] tokn: unknown key (did you mean "token"?)',
            id="unknown key",
        ),
        pytest.param(
            "[telegramm]\ntoken = 'x'\n",
            'config.toml: [telegramm]: unknown section (did you mean "telegram"?)',
            id="unknown section",
        ),
        pytest.param(
            ONE_PROVIDER + "temperature = 0.2\n",
            "config.toml: [providers.local] temperature: unknown key",
            id="unknown provider key",
        ),
        pytest.param(
            ONE_PROVIDER + "name = 'x'\n",
            "config.toml: [providers.local] name: unknown key (a provider is named by its table)",
            id="provider name in its table",
        ),
        pytest.param(
            '[telegram]\nadmin_ids = "123"\n',
            'config.toml: [telegram] admin_ids: expected an array of integers, got "123"',
            id="wrong type",
        ),
        pytest.param(
            '[telegram]\nadmin_ids = [1, "2"]\n',
            'config.toml: [telegram] admin_ids: expected an array of integers, got [1, "2"]',
            id="wrong item type",
        ),
        pytest.param(
            "[telegram]\npoll_timeout = 1.5\n",
            "config.toml: [telegram] poll_timeout: expected a positive integer, got 1.5",
            id="float for integer",
        ),
        pytest.param(
            "[logging]\njson = 'yes'\n",
            'config.toml: [logging] json: expected true or false, got "yes"',
            id="string for boolean",
        ),
        pytest.param(
            "telegram = 5\n",
            "config.toml: [telegram]: expected a table, got 5",
            id="section that is not a table",
        ),
        pytest.param(
            "[storage]\npath = ''\n",
            'config.toml: [storage] path: expected a non-empty path, got ""',
            id="empty path",
        ),
        pytest.param(
            ONE_PROVIDER.replace("[providers.local]", '[providers.local]\nkind = "gemeni"'),
            'config.toml: [providers.local] kind: must be one of "openai", "gemini", got "gemeni"',
            id="bad kind",
        ),
        pytest.param(
            "[logging]\nlevel = 'info'\n",
            'config.toml: [logging] level: must be one of "TRACE", "DEBUG", "INFO", "SUCCESS", '
            '"WARNING", "ERROR", "CRITICAL", got "info"',
            id="bad log level",
        ),
        pytest.param(
            ONE_PROVIDER.replace('default_model = "tiny"', ""),
            "config.toml: [providers.local] default_model: missing; this key is required",
            id="missing provider key",
        ),
        pytest.param(
            "providers = 3\n",
            "config.toml: [providers]: expected a table of provider tables, got 3",
            id="providers not a table",
        ),
        pytest.param(
            "[providers]\nlocal = 3\n",
            "config.toml: [providers.local]: expected a table, got 3",
            id="provider not a table",
        ),
        pytest.param(
            '[llm]\ndefault_provider = "openai"\n',
            'config.toml: [llm] default_provider: "openai" is not a configured provider '
            '(configured: "deepseek", "mistral", "gemini")',
            id="unknown default provider",
        ),
        pytest.param(
            "[providers]\n",
            'config.toml: [llm] default_provider: "deepseek" is not a configured provider '
            "(configured: none)",
            id="no providers at all",
        ),
        pytest.param(
            '[telegram]\napi_base_url = "api.telegram.org"\n',
            "config.toml: [telegram] api_base_url: expected an http:// or https:// URL, "
            'got "api.telegram.org"',
            id="URL without scheme",
        ),
        pytest.param(
            ONE_PROVIDER.replace("http://127.0.0.1:8080/v1", "ftp://example.com"),
            "config.toml: [providers.local] base_url: expected an http:// or https:// URL, "
            'got "ftp://example.com"',
            id="URL with another scheme",
        ),
        pytest.param(
            ONE_PROVIDER.replace("127.0.0.1:8080", "127.0.0.1:port"),
            "config.toml: [providers.local] base_url: expected an http:// or https:// URL, "
            'got "http://127.0.0.1:port/v1"',
            id="URL with a bad port",
        ),
        pytest.param(
            '[telegram]\napi_base_url = "https://x.org/?a=1"\n',
            "config.toml: [telegram] api_base_url: must not have a query or fragment, "
            'got "https://x.org/?a=1"',
            id="URL with a query",
        ),
    ],
)
def test_each_problem_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert error_of(tmp_path, text).replace(str(tmp_path / "config.toml"), "config.toml") == (
        expected
    )


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("telegram", "poll_timeout", "0", "a positive integer"),
        ("telegram", "max_message_chars", "5000", "an integer from 1 to 4096"),
        ("telegram", "edit_interval", "0.0", "a positive number"),
        ("telegram", "per_chat_rate", "-1.0", "a positive number"),
        ("telegram", "group_rate_per_minute", "0", "a positive integer"),
        ("telegram", "global_rate", "0", "a positive number"),
        ("telegram", "request_timeout", "0", "a positive number"),
        ("llm", "context_token_budget", "0", "a positive integer"),
        ("llm", "max_answer_tokens", "-5", "a positive integer"),
        ("sessions", "idle_seconds", "0", "a positive number"),
        ("sessions", "max_alive", "0", "a positive integer"),
        ("sessions", "poison_after", "0", "a positive integer"),
        ("shutdown", "grace_seconds", "-1", "a non-negative number"),
        ("providers.local", "timeout", "0", "a positive number"),
        ("providers.local", "max_concurrency", "0", "a positive integer"),
        ("providers.local", "max_retries", "-1", "a non-negative integer"),
        ("providers.local", "circuit_failure_threshold", "0", "a positive integer"),
        ("providers.local", "circuit_reset_seconds", "0", "a positive number"),
    ],
)
def test_non_positive_limits_are_rejected(
    tmp_path: Path, section: str, key: str, value: str, expected: str
) -> None:
    text = ONE_PROVIDER.replace(f"[{section}]", f"[{section}]\n{key} = {value}")
    if f"[{section}]" not in text:
        text += f"\n[{section}]\n{key} = {value}\n"

    message = error_of(tmp_path, text)

    assert message.endswith(f": [{section}] {key}: expected {expected}, got {value}")


def test_zero_retries_and_zero_grace_are_allowed(tmp_path: Path) -> None:
    text = ONE_PROVIDER + "max_retries = 0\n[shutdown]\ngrace_seconds = 0\n"

    config = load(tmp_path, text)

    assert config.providers["local"].max_retries == 0
    assert config.shutdown.grace_seconds == 0.0


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[telegram]\nadmin_ids = [1, 2\n\n[storage]\n")

    assert message.startswith(f"{tmp_path / 'config.toml'}: line 4, column 1: invalid TOML: ")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    with pytest.raises(ConfigError, match=r"nope\.toml: file not found$"):
        load_config(missing, ENV)


def test_file_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[telegram]\ntoken = "\xff"\n')

    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path, ENV)


def test_missing_token_names_the_environment_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "")

    with pytest.raises(ConfigError) as caught:
        load_config(path, {})

    assert str(caught.value) == (
        f"no Telegram bot token: set TELEGRAM_BOT_TOKEN or [telegram] token in {path} "
        "(@BotFather gives one), or try the bot without Telegram: python main.py --sandbox"
    )


def test_token_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[telegram]\ntoken = 123456789\n")

    assert message.endswith("[telegram] token: expected a string, got an integer")
    assert "123456789" not in message


def test_relative_storage_paths_resolve_against_the_config_dir(tmp_path: Path) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    text = '[storage]\npath = "db/bot.sqlite3"\nfiles_dir = "/srv/files"\n'

    config = load_config(write(config_dir, text), ENV)

    assert config.storage.path == config_dir / "db" / "bot.sqlite3"
    assert config.storage.files_dir == Path("/srv/files")


def test_relative_config_path_gives_absolute_storage_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "")
    monkeypatch.chdir(tmp_path)

    config = load_config(Path("config.toml"), ENV)

    assert config.storage.path == tmp_path / "data" / "bot.sqlite3"
    assert config.storage.files_dir == tmp_path / "data" / "files"


def test_trailing_slashes_are_dropped_from_base_urls(tmp_path: Path) -> None:
    text = ONE_PROVIDER.replace("/v1", "/v1/") + '[telegram]\napi_base_url = "http://x:81/"\n'

    config = load(tmp_path, text)

    assert config.providers["local"].base_url == "http://127.0.0.1:8080/v1"
    assert config.telegram.api_base_url == "http://x:81"


def test_repr_never_shows_the_token_or_an_api_key(tmp_path: Path) -> None:
    text = ONE_PROVIDER.replace("[providers.local]", '[providers.local]\napi_key = "sk-file"')
    config = load(tmp_path, text, {**ENV, "LOCAL_API_KEY": "sk-env-key"})

    shown = f"{config!r} {config} {config.telegram} {config.providers['local']}"

    assert TOKEN not in shown
    assert "sk-env-key" not in shown
    assert "sk-file" not in shown
    assert "Secret('***')" in shown
    assert config.providers["local"].api_key.reveal() == "sk-env-key"


def test_secret_hides_itself_and_compares_by_value() -> None:
    secret = Secret("hunter2")

    assert repr(secret) == "Secret('***')"
    assert f"{secret}" == "***"
    assert secret == Secret("hunter2")
    assert secret != Secret("other")
    assert not Secret()
    with pytest.raises(AttributeError):
        secret._value = "changed"


def test_secrets_cannot_be_encoded_by_accident() -> None:
    with pytest.raises(TypeError):
        msgspec.json.encode(TelegramConfig(token=Secret("x")))


@pytest.mark.parametrize(
    ("section", "field"),
    [
        (TelegramConfig(), "poll_timeout"),
        (StorageConfig(), "path"),
        (LLMConfig(), "default_provider"),
        (ProviderConfig(name="x", base_url="http://x", default_model="m"), "timeout"),
        (SessionsConfig(), "max_alive"),
        (ShutdownConfig(), "grace_seconds"),
        (LoggingConfig(), "level"),
        (OpsConfig(), "listen"),
        (Config(), "telegram"),
    ],
)
def test_structs_are_frozen(section: msgspec.Struct, field: str) -> None:
    with pytest.raises(AttributeError):
        setattr(section, field, None)


def test_providers_mapping_is_read_only(tmp_path: Path) -> None:
    config = load(tmp_path, "")

    with pytest.raises(TypeError):
        config.providers["evil"] = config.providers["gemini"]  # type: ignore[index]


def test_the_ops_endpoint_listens_on_localhost_by_default(tmp_path: Path) -> None:
    assert load(tmp_path, "").ops.bind_address() == ("127.0.0.1", 9464)


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("", None),
        ("0.0.0.0:9100", ("0.0.0.0", 9100)),
        ("localhost:1", ("localhost", 1)),
        ("[::1]:65535", ("::1", 65535)),
    ],
)
def test_ops_listen_is_host_and_port_or_empty_for_off(
    tmp_path: Path, listen: str, expected: tuple[str, int] | None
) -> None:
    assert load(tmp_path, f'[ops]\nlisten = "{listen}"\n').ops.bind_address() == expected


@pytest.mark.parametrize(
    "listen", ["9464", "127.0.0.1", ":9464", "127.0.0.1:0", "127.0.0.1:70000", "::1:9464", "a b:1"]
)
def test_a_bad_ops_listen_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, listen: str
) -> None:
    message = error_of(tmp_path, f'[ops]\nlisten = "{listen}"\n')

    assert message == (
        f'{tmp_path / "config.toml"}: [ops] listen: expected "host:port" such as '
        f'"127.0.0.1:9464", or "" to turn it off, got "{listen}"'
    )


def test_ops_listen_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[ops]\nlisten = 9464\n")

    assert message.endswith("[ops] listen: expected a string, got 9464")


def test_tools_that_never_talk_to_telegram_load_the_config_without_a_token(
    tmp_path: Path,
) -> None:
    config = load_config(write(tmp_path, ""), {}, require_token=False)

    assert not config.telegram.token
    assert config.ops.listen == "127.0.0.1:9464"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[scheduler]\nrefresh_cron = "0 4 * *"\n',
            (
                '[scheduler] refresh_cron: invalid crontab "0 4 * *": '
                "wrong number of fields; got 4, expected 5"
            ),
        ),
        (
            '[scheduler]\nretention_cron = "61 4 * * *"\n',
            (
                '[scheduler] retention_cron: invalid crontab "61 4 * * *": error validating'
                " expression '61': the last value (61) is higher than the maximum value (59)"
            ),
        ),
        (
            '[scheduler]\ntimezone = "Mars/Olympus"\n',
            (
                '[scheduler] timezone: unknown time zone "Mars/Olympus"'
                ' (expected an IANA name such as "UTC")'
            ),
        ),
    ],
)
def test_a_bad_crontab_or_time_zone_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert error_of(tmp_path, text) == f"{tmp_path / 'config.toml'}: {expected}"


def test_crontabs_are_read_in_the_configured_time_zone(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[scheduler]\nrefresh_cron = "15 3 * * mon-fri"\ntimezone = "Europe/Berlin"\n',
    )

    assert config.scheduler.refresh_cron == "15 3 * * mon-fri"
    assert config.scheduler.timezone == "Europe/Berlin"


def test_retention_days_must_be_positive(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[storage]\nretention_days = 0\n")

    assert message.endswith("[storage] retention_days: expected a positive integer, got 0")


def test_without_modes_the_three_builtin_ones_are_offered_assistant_first(tmp_path: Path) -> None:
    config = load(tmp_path, '[llm]\nsystem_prompt = "Be kind."\n')

    assert list(config.chat_modes()) == ["assistant", "translator", "coder"]
    assert config.chat_modes()["assistant"].system_prompt == "Be kind."
    assert config.default_mode() == "assistant"


def test_mode_tables_replace_the_builtin_modes_and_are_named_by_their_table(
    tmp_path: Path,
) -> None:
    config = load(
        tmp_path,
        '[llm]\ndefault_mode = "poet"\n'
        '[modes.pirate]\nlabel = "Arr"\nsystem_prompt = "Talk like a pirate."\n'
        '[modes.poet]\nsystem_prompt = "Answer in verse."\n',
    )

    assert [(m.name, m.title) for m in config.chat_modes().values()] == [
        ("pirate", "Arr"),
        ("poet", "Poet"),
    ]
    assert config.default_mode() == "poet"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[llm]\ndefault_mode = "chef"\n', '[llm] default_mode: "chef" is not a configured mode'),
        ("[modes.poet]\nlabel = 'Poet'\n", "[modes.poet] system_prompt: missing"),
        ("[modes.poet]\nname = 'x'\nsystem_prompt = 'y'\n", "[modes.poet] name: unknown key"),
        ("[modes.poet]\nsystem_prompt = 'y'\nprompt = 'z'\n", "[modes.poet] prompt: unknown key"),
    ],
)
def test_a_bad_mode_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in error_of(tmp_path, text)


TIERS = """
[usage]
default_tier = "free"
reserve_output_tokens = 512
timezone = "Europe/Berlin"

[tiers.free]
title = "Free"
daily_tokens = 20000
monthly_tokens = 300000
models = ["deepseek/*", "gemini/gemini-2.5-flash"]

[tiers.vip]

[prices]
"deepseek/deepseek-chat" = { input = 0.27, output = 1.10 }
"gemini/*" = { input = 0.30, output = 2 }
"""


def test_without_usage_sections_there_are_no_tiers_or_prices(tmp_path: Path) -> None:
    config = load(tmp_path, "")

    assert config.usage == UsageConfig()
    assert config.usage.default_tier == ""
    assert config.usage.reserve_output_tokens == 1024
    assert config.usage.timezone == "UTC"
    assert dict(config.tiers) == {}
    assert dict(config.prices) == {}


def test_tier_tables_are_named_by_their_table_and_titled_by_their_name_by_default(
    tmp_path: Path,
) -> None:
    config = load(tmp_path, TIERS)

    assert config.usage == UsageConfig(
        default_tier="free", reserve_output_tokens=512, timezone="Europe/Berlin"
    )
    assert list(config.tiers) == ["free", "vip"]
    assert config.tiers["free"] == TierConfig(
        name="free",
        title="Free",
        daily_tokens=20000,
        monthly_tokens=300000,
        models=("deepseek/*", "gemini/gemini-2.5-flash"),
    )
    assert config.tiers["vip"] == TierConfig(name="vip", title="vip")


def test_prices_keep_their_file_order_and_take_integers(tmp_path: Path) -> None:
    config = load(tmp_path, TIERS)

    assert list(config.prices.items()) == [
        ("deepseek/deepseek-chat", PriceConfig(input=0.27, output=1.1)),
        ("gemini/*", PriceConfig(input=0.3, output=2.0)),
    ]


def test_tiers_and_prices_mappings_are_read_only(tmp_path: Path) -> None:
    config = load(tmp_path, TIERS)

    with pytest.raises(TypeError):
        config.tiers["gold"] = config.tiers["vip"]  # type: ignore[index]
    with pytest.raises(TypeError):
        config.prices["x/y"] = PriceConfig(input=0, output=0)  # type: ignore[index]


def test_the_builtin_tier_may_be_named_as_the_default_without_tier_tables(tmp_path: Path) -> None:
    config = load(tmp_path, '[usage]\ndefault_tier = "default"\n')

    assert config.usage.default_tier == "default"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[usage]\nreserve_output_tokens = -1\n",
            "[usage] reserve_output_tokens: expected a non-negative integer, got -1",
            id="negative reserve",
        ),
        pytest.param(
            "[tiers.free]\ndaily_tokens = -5\n",
            "[tiers.free] daily_tokens: expected a non-negative integer, got -5",
            id="negative daily budget",
        ),
        pytest.param(
            "[tiers.free]\nmonthly_tokens = 1.5\n",
            "[tiers.free] monthly_tokens: expected a non-negative integer, got 1.5",
            id="fractional monthly budget",
        ),
        pytest.param(
            '[prices]\n"a/b" = { input = -0.1, output = 1 }\n',
            '[prices."a/b"] input: expected a non-negative number, got -0.1',
            id="negative price",
        ),
        pytest.param(
            '[prices]\n"a/b" = { input = 1 }\n',
            '[prices."a/b"] output: missing; this key is required',
            id="price without output",
        ),
        pytest.param(
            '[prices]\n"a/b" = 0.3\n',
            '[prices."a/b"]: expected a table, got 0.3',
            id="price that is not a table",
        ),
        pytest.param(
            '[prices]\n"a/b" = { input = 1, output = 2, cached = 0.1 }\n',
            '[prices."a/b"] cached: unknown key',
            id="unknown price key",
        ),
        pytest.param(
            "prices = 3\n",
            '[prices]: expected a table of prices by "provider/model", got 3',
            id="prices not a table",
        ),
        pytest.param(
            '[prices]\n"deepseek-chat" = { input = 1, output = 2 }\n',
            '[prices] deepseek-chat: expected a "provider/model" key or glob such as "deepseek/*"',
            id="price key without a slash",
        ),
        pytest.param(
            "tiers = 3\n",
            "[tiers]: expected a table of tier tables, got 3",
            id="tiers not a table",
        ),
        pytest.param(
            "[tiers.free]\ntitel = 'Free'\n",
            '[tiers.free] titel: unknown key (did you mean "title"?)',
            id="unknown tier key",
        ),
        pytest.param(
            "[tiers.free]\nname = 'x'\n",
            "[tiers.free] name: unknown key (a tier is named by its table)",
            id="tier name in its table",
        ),
        pytest.param(
            "[tiers.Free]\n",
            "[tiers.Free]: a tier is named in lower-case letters, digits, _ and - (admins type "
            'it in /admin tier), got "Free"',
            id="tier name with a capital",
        ),
        pytest.param(
            '[tiers."paid plan"]\n',
            '[tiers."paid plan"]: a tier is named in lower-case letters, digits, _ and - '
            '(admins type it in /admin tier), got "paid plan"',
            id="tier name with a space",
        ),
        pytest.param(
            '[tiers.free]\nmodels = ["deepseek/*", "gemini"]\n',
            '[tiers.free] models: expected "provider/model" globs such as "deepseek/*", '
            'got "gemini"',
            id="model pattern without a slash",
        ),
        pytest.param(
            '[usage]\ndefault_tier = "gold"\n[tiers.free]\n[tiers.vip]\n',
            '[usage] default_tier: "gold" is not a configured tier (configured: "free", "vip")',
            id="unknown default tier",
        ),
        pytest.param(
            '[usage]\ndefault_tier = "free"\n',
            '[usage] default_tier: "free" is not a configured tier (no [tiers.NAME] table, '
            'so only the built-in "default")',
            id="default tier without tier tables",
        ),
        pytest.param(
            '[usage]\ntimezone = "Mars/Olympus"\n',
            '[usage] timezone: unknown time zone "Mars/Olympus" (expected an IANA name such as '
            '"UTC")',
            id="unknown time zone",
        ),
    ],
)
def test_a_bad_usage_tier_or_price_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert error_of(tmp_path, text) == f"{tmp_path / 'config.toml'}: {expected}"
