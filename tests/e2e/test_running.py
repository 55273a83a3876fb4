"""Starting and stopping the bot: --ping, bad configuration, signals."""

from __future__ import annotations

from tests.e2e.harness import BotProcess


def test_ping_checks_storage_and_telegram_and_prints_bot_ready(bot_process: BotProcess) -> None:
    result = bot_process.run_once("--ping")
    assert result.returncode == 0, result.stderr
    assert "Bot ready" in result.stdout
    assert "@test_llm_bot" in result.stdout


def test_ping_fails_clearly_when_telegram_rejects_the_token(bot_process: BotProcess) -> None:
    bot_process.env["TELEGRAM_BOT_TOKEN"] = "999:WRONG"
    result = bot_process.run_once("--ping")
    assert result.returncode == 1
    assert "telegram" in result.stderr.lower()
    assert "999:WRONG" not in result.stderr + result.stdout


def test_a_missing_token_says_which_variable_to_set_and_exits_2(bot_process: BotProcess) -> None:
    bot_process.env["TELEGRAM_BOT_TOKEN"] = ""
    result = bot_process.run_once()
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "python main.py --sandbox" in result.stderr


def test_a_bad_config_names_file_key_and_problem_and_exits_2(bot_process: BotProcess) -> None:
    bot_process.extra_config = "[sessions]\nmax_alive = -1\n"
    result = bot_process.run_once()
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "config.toml" in line
    assert "max_alive" in line
    assert len(line.splitlines()) == 1


def test_a_provider_without_a_key_is_skipped_with_one_log_line(
    bot_process: BotProcess,
) -> None:
    bot_process.env["GEMINI_API_KEY"] = ""
    bot_process.start()
    assert bot_process.stop() == 0
    skipped = [line for line in bot_process.log().splitlines() if "skipped" in line]
    assert len(skipped) == 1
    assert "gemini" in skipped[0]
    assert "GEMINI_API_KEY" in skipped[0]


def test_sigterm_stops_the_bot_cleanly_with_exit_status_0(bot: BotProcess) -> None:
    assert bot.stop() == 0
    assert "actor system stopped" in bot.log()
