"""Logging set-up: loguru, human-readable or JSON lines, with correlation ids and no secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from loguru import logger

from actors.config import LoggingConfig
from runtime import current_correlation_id

if TYPE_CHECKING:
    from loguru import Message, Record

HUMAN_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{extra[cid]}</cyan> | {message}"
)
REDACTED = "***"


MIN_SECRET_LENGTH = 6


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (token, API key) replaced by ``***``."""
    for secret in sorted(
        {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
    ):
        text = text.replace(secret, REDACTED)
    return text


def configure_logging(config: LoggingConfig, secrets: Iterable[str] = ()) -> None:
    """Send loguru to stderr; every record carries ``extra.cid`` and has secrets masked."""
    hidden = tuple(secrets)

    def patch(record: Record) -> None:
        record["extra"].setdefault("cid", current_correlation_id() or "-")
        record["message"] = redact(record["message"], hidden)

    def sink(line: Message) -> None:
        # Redacted again as a whole: an exception's text and traceback (PTB's InvalidToken
        # quotes the token) are only formatted here, after the patcher has run.
        sys.stderr.write(redact(str(line), hidden))

    logger.remove()
    logger.configure(patcher=patch)
    # diagnose=False: loguru would otherwise print local variables in tracebacks, and
    # those include the message being handled, i.e. a user's private text.
    if config.json:
        logger.add(sink, level=config.level, serialize=True, backtrace=False, diagnose=False)
    else:
        logger.add(sink, level=config.level, format=HUMAN_FORMAT, backtrace=False, diagnose=False)
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    for noisy in ("httpx", "httpcore", "telegram"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
