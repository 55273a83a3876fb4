"""Reply slots take the first answer only, whichever thread gives it."""

from __future__ import annotations

import asyncio

import pytest

from runtime import AskTimeout
from runtime._reply import LoopReply, ThreadReply


def test_a_thread_reply_keeps_the_first_answer() -> None:
    reply = ThreadReply()
    reply.set(1)
    reply.set(2)
    reply.set_exception(ValueError("late"))
    assert reply.wait(1.0, "/a") == 1


def test_a_thread_reply_keeps_the_first_error() -> None:
    reply = ThreadReply()
    reply.set_exception(ValueError("first"))
    reply.set(2)
    with pytest.raises(ValueError, match="first"):
        reply.wait(1.0, "/a")


def test_a_thread_reply_without_an_answer_times_out() -> None:
    with pytest.raises(AskTimeout, match=r"no reply from /a within 0\.01s"):
        ThreadReply().wait(0.01, "/a")


def test_a_loop_reply_keeps_the_first_answer() -> None:
    async def main() -> object:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        reply = LoopReply(loop, future)
        reply.set("first")
        reply.set("second")
        reply.set_exception(ValueError("late"))
        return await future

    assert asyncio.run(main()) == "first"


def test_a_loop_reply_to_a_closed_loop_is_dropped() -> None:
    loop = asyncio.new_event_loop()
    future: asyncio.Future[object] = loop.create_future()
    loop.close()
    reply = LoopReply(loop, future)
    reply.set("ignored")
    reply.set_exception(ValueError("ignored"))
    assert not future.done()
