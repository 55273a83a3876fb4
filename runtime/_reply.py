"""One-shot reply slots for ``ask``: a blocking one for threads, one for asyncio."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from loguru import logger

from runtime._exceptions import AskTimeout

_UNSET: Any = object()


class ThreadReply:
    """A reply a thread waits for.

    A bare lock is the cheapest hand-off CPython has between two threads: it is taken at
    creation and released by ``set``, so ``wait`` is a single acquire.
    """

    __slots__ = ("_error", "_lock", "_value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._value: Any = _UNSET
        self._error: BaseException | None = None

    def set(self, value: Any) -> None:
        if self._value is not _UNSET or self._error is not None:
            return
        self._value = value
        self._lock.release()

    def set_exception(self, exc: BaseException) -> None:
        if self._value is not _UNSET or self._error is not None:
            return
        self._error = exc
        self._lock.release()

    def wait(self, timeout: float, what: str) -> Any:
        if not self._lock.acquire(timeout=timeout):
            raise AskTimeout(f"no reply from {what} within {timeout:g}s")
        if self._error is not None:
            raise self._error
        return self._value


class LoopReply:
    """A reply delivered into an asyncio future, from whichever thread answers."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self._loop = loop
        self._future = future

    def _set_result(self, value: Any) -> None:
        if not self._future.done():
            self._future.set_result(value)

    def _set_exception(self, exc: BaseException) -> None:
        if not self._future.done():
            self._future.set_exception(exc)

    def set(self, value: Any) -> None:
        self._post(self._set_result, value)

    def set_exception(self, exc: BaseException) -> None:
        self._post(self._set_exception, exc)

    def _post(self, setter: Callable[[Any], None], value: Any) -> None:
        # The loop may close between a check and the call: the asker is gone then, and
        # the replying actor must not fail because of it.
        try:
            self._loop.call_soon_threadsafe(setter, value)
        except RuntimeError:
            logger.debug("reply dropped: its event loop is closed")
