"""Crash reports: every unexpected exception that is logged also reaches the admins.

Unexpected exceptions all end in a log record at ERROR or above that carries the exception:
an actor's handler raising (the runtime logs it before the supervisor restarts the actor),
``on_start``/``on_stop`` failing, a coroutine on the event loop failing, a request the admin
actor could not answer. So one loguru sink (:class:`CrashReporter`, added by
:func:`report_crashes`) sees them all, whatever thread they happen on, and tells the admin
actor a :class:`~actors.admin.messages.NotifyAdmins` with topic ``crash:<where>``; the admin
actor rate-limits per topic (``[admin] alert_interval_seconds``).

The notice names the exception type, where it was raised (file, line, function), the actor
(from the thread's name; a chat session's key is replaced by ``*`` so all chats share one
topic) and the correlation id to find the traceback in the log. Never the exception's
message or the log line: those may quote a user's text.

The sink never blocks (``tell`` only queues) and cannot feed itself: it ignores records
logged while it is telling, and the admin actor logs its own failures to notify below
ERROR.
"""

from __future__ import annotations

import re
import threading
from pathlib import PurePath
from types import TracebackType
from typing import TYPE_CHECKING, Final

from loguru import logger

from actors.admin.messages import NotifyAdmins
from runtime import Address

if TYPE_CHECKING:
    from loguru import Message, Record

ERROR_LEVEL: Final = 40  # loguru's ERROR
_ACTOR_THREAD: Final = "actor:"
_CID = re.compile(r"\bcid=(\S+)")
_HANDLING = re.compile(r"\bfailed handling (\w+)")
_KEY = re.compile(r"^-?\d+$")


def actor_of(thread_name: str) -> str:
    """The actor path a thread runs (keys of pools as ``*``), or the thread's name."""
    if not thread_name.startswith(_ACTOR_THREAD):
        return thread_name
    path = thread_name[len(_ACTOR_THREAD) :]
    return "/".join("*" if _KEY.match(part) else part for part in path.split("/"))


def raised_at(traceback: TracebackType | None) -> str:
    """``chat/session.py:312 in on_text``: the innermost frame of the traceback."""
    if traceback is None:
        return "unknown place"
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    code = traceback.tb_frame.f_code
    where = "/".join(PurePath(code.co_filename).parts[-2:])
    return f"{where}:{traceback.tb_lineno} in {code.co_name}"


def crash_notice(record: Record) -> NotifyAdmins | None:
    """The notice for one log record; None if it carries no exception."""
    exception = record["exception"]
    if exception is None or exception.type is None:
        return None
    where = actor_of(record["thread"].name)
    message = record["message"]
    cid = str(record["extra"].get("cid", "-"))
    if cid == "-" and (found := _CID.search(message)):
        cid = found[1]
    handling = _HANDLING.search(message)
    lines = [
        f"💥 Unexpected {exception.type.__name__} in {where}"
        + (f" handling {handling[1]}" if handling else ""),
        f"raised at {raised_at(exception.traceback)}",
        f"cid {cid}: the log has the traceback",
    ]
    return NotifyAdmins(text="\n".join(lines), topic=f"crash:{where}")


class CrashReporter:
    """The loguru sink; see the module docstring."""

    def __init__(self, admin: Address) -> None:
        self._admin = admin
        self._telling = threading.local()

    def wants(self, record: Record) -> bool:
        """The sink's filter: exceptions at ERROR or above, not logged by the sink itself."""
        return (
            record["level"].no >= ERROR_LEVEL
            and record["exception"] is not None
            and not getattr(self._telling, "active", False)
        )

    def __call__(self, message: Message) -> None:
        notice = crash_notice(message.record)
        if notice is None:
            return
        self._telling.active = True
        try:
            self._admin.tell(notice, correlation_id="crash-report")
        finally:
            self._telling.active = False


def report_crashes(admin: Address) -> int:
    """Add the crash sink, reporting to ``admin``; returns its loguru handler id."""
    reporter = CrashReporter(admin)
    return logger.add(
        reporter,
        level="ERROR",
        filter=reporter.wants,
        format="{message}",
        backtrace=False,
        diagnose=False,
        catch=True,  # a failure in the sink is printed to stderr by loguru, never logged
    )
