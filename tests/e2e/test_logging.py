"""What the logs promise: correlation ids on every line, JSON on request, no secrets."""

from __future__ import annotations

import json

from tests.e2e.harness import DEEPSEEK_KEY, GEMINI_KEY, TOKEN, BotProcess, approve
from tests.emulators.telegram import SimUser, TelegramEmulator


def test_json_logs_carry_the_update_correlation_id_and_never_a_secret(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.configure("logging", json=True, level="DEBUG")
    bot_process.start()
    approve(telegram, alice, admin)
    bot_process.deepseek.error(500)
    bot_process.deepseek.error(500)
    bot_process.deepseek.error(500)
    update_id = telegram.send_text(alice, "this one fails")
    telegram.wait_for_message(alice.id, containing="try again")
    assert bot_process.stop() == 0

    log = bot_process.log()
    for secret in (TOKEN, DEEPSEEK_KEY, GEMINI_KEY, TOKEN.split(":")[1]):
        assert secret not in log
    records = [json.loads(line)["record"] for line in log.splitlines() if line.startswith("{")]
    assert records, "json = true writes one JSON object per line"
    failure = [
        r
        for r in records
        if "this one fails" not in r["message"]
        and "failed" in r["message"]
        and r["extra"].get("cid") == f"u{update_id}"
    ]
    assert failure, "the provider failure is logged with the update's correlation id"
    assert all("cid" in r["extra"] for r in records)


def test_the_users_text_never_reaches_the_log_even_when_a_handler_crashes(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    bot_process.start()
    approve(telegram, alice, admin)
    telegram.send_text(alice, "my secret diary entry")
    telegram.wait_for_message(alice.id, containing="Echo: my secret diary entry")
    assert bot_process.stop() == 0
    assert "my secret diary entry" not in bot_process.log()


def test_a_token_telegram_rejects_at_start_never_reaches_the_log(
    bot_process: BotProcess, telegram: TelegramEmulator
) -> None:
    wrong = "999999:THIS-TOKEN-IS-WRONG"
    bot_process.env["TELEGRAM_BOT_TOKEN"] = wrong
    result = bot_process.run_once(timeout=60)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "rejected the bot token" in output
    assert wrong not in output
    assert wrong.split(":")[1] not in output
