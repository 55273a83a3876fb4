"""The shared event-loop thread, and how actors hand coroutines to it.

httpx.AsyncClient and python-telegram-bot want an asyncio loop; actors are threads. One
loop thread serves them all: an actor submits a coroutine and gets its outcome back
later as an ordinary message (like Akka's ``pipeTo``), so no actor thread ever waits on
the loop and no coroutine ever blocks on an actor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Self, TypeVar

from loguru import logger

from runtime._address import Address
from runtime._message import Message, _current, enter_delivery, leave_delivery
from runtime._scheduling import as_normal_thread

T = TypeVar("T")


class AsyncLoop:
    """An asyncio event loop on its own thread; a context manager.

    It can be started again after ``close()`` (a supervisor restarting its keeper does
    that), but objects bound to the old loop, such as an ``httpx.AsyncClient``, must be
    rebuilt by their owners.
    """

    def __init__(self, name: str = "asyncio-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            raise RuntimeError(f"{self._name} is not running")
        return self._loop

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    def start(self) -> None:
        if self.running:
            return
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            as_normal_thread()  # started from an actor's (batch) thread, say
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self._name, daemon=False)
        self._thread.start()
        started.wait()

    def call(self, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop: at once if called on the loop's own thread
        (an actor's handler served there), else as soon as the loop gets to it.

        Either way, calls made one after the other from one thread run in that order.
        """
        loop = self.loop
        if self.on_loop_thread():
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop, carrying the caller's correlation id into it.

        On the loop's own thread its task is made at once, one turn of the loop sooner
        than ``asyncio.run_coroutine_threadsafe`` would.
        """
        current = _current.get()
        if current is not None:
            coro = _with_delivery(coro, current)
        loop = self.loop
        if not self.on_loop_thread():
            return asyncio.run_coroutine_threadsafe(coro, loop)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        _chain(loop.create_task(coro), future, loop)
        return future

    def on_loop_thread(self) -> bool:
        """Whether the caller runs on this loop's thread (a callback or coroutine of it)."""
        return self._thread is not None and threading.get_ident() == self._thread.ident

    def pipe(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        to: Address,
        on_success: Callable[[T], Message],
        on_failure: Callable[[BaseException], Message],
    ) -> concurrent.futures.Future[T]:
        """Run ``coro`` and tell ``to`` the message built from its outcome."""
        current = _current.get()
        cid = current[0] if current else None
        future = self.submit(coro)

        def deliver(done: concurrent.futures.Future[T]) -> None:
            if done.cancelled():
                to.tell(on_failure(asyncio.CancelledError()), correlation_id=cid)
                return
            error = done.exception()
            try:
                message = on_failure(error) if error is not None else on_success(done.result())
            except Exception:  # noqa: BLE001 - boundary: a bad mapper must be visible
                logger.exception("pipe to {} could not build its message", to.path)
                return
            to.tell(message, correlation_id=cid)

        future.add_done_callback(deliver)
        return future

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what is still running, close the loop and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            return
        if loop.is_running():
            shutdown = asyncio.run_coroutine_threadsafe(_cancel_all(), loop)
            try:
                shutdown.result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                logger.warning(
                    "{}: tasks did not finish cancelling within {:g}s", self._name, timeout
                )
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("{} thread did not stop", self._name)
            return
        loop.close()


def _chain(
    task: asyncio.Task[T], future: concurrent.futures.Future[T], loop: asyncio.AbstractEventLoop
) -> None:
    """Give ``future`` the outcome of ``task``, and cancel ``task`` if ``future`` is cancelled.

    What ``asyncio.run_coroutine_threadsafe`` does between its task and the future it
    returns (there with a private helper).
    """

    def copy(done: asyncio.Task[T]) -> None:
        if future.cancelled():
            return
        if done.cancelled():
            future.cancel()
        if not future.set_running_or_notify_cancel():
            return
        error = done.exception()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())

    def cancel(done: concurrent.futures.Future[T]) -> None:
        if done.cancelled() and not task.done():
            loop.call_soon_threadsafe(task.cancel)

    task.add_done_callback(copy)
    future.add_done_callback(cancel)


async def _with_delivery(coro: Coroutine[Any, Any, T], current: tuple[str, str | None]) -> T:
    token = enter_delivery(*current)
    try:
        return await coro
    finally:
        leave_delivery(token)


async def _cancel_all() -> None:
    loop = asyncio.get_running_loop()
    tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
