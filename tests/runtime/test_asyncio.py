"""The asyncio bridge: coroutines await actors without blocking; actors pipe coroutines."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import pytest

from runtime import (
    ActorNotFound,
    ActorSystem,
    AskTimeout,
    AsyncLoop,
    ChildSpec,
    SupervisorSpec,
)
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import (
    Boom,
    Crash,
    Journal,
    LogCapture,
    Note,
    Piped,
    PipeFailed,
    Piper,
    RunCoroutine,
    Sleep,
    recorder,
)


def str_failure(error: BaseException) -> PipeFailed:
    return PipeFailed(error=str(error))


def start_piper(system: ActorSystem, journal: Journal, loop: AsyncLoop) -> None:
    spec = ChildSpec(name="piper", factory=lambda context: Piper(context, journal, loop))
    system.start(SupervisorSpec(children=(spec, recorder("slow", journal))))


def test_ask_async_does_not_block_the_event_loop(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("slow", journal),)))
    slow = system.address("/slow")

    async def main() -> tuple[float, int]:
        ticks = 0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        try:
            return await slow.ask_async(Sleep(seconds=0.2), timeout=5), ticks
        finally:
            done.set()
            await ticker

    reply, ticks = asyncio.run(main())
    assert reply == 0.2
    assert ticks >= 5  # about 20 if nothing blocked the loop; 1 if the ask did


def test_ask_now_sends_before_the_reply_is_awaited(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    a = system.address("/a")

    async def main() -> int:
        reply = a.ask_now(Note(n=1), timeout=5)
        a.tell(Note(n=2))  # told after: handled after
        result: int = await reply
        return result

    assert asyncio.run(main()) == 1
    journal.wait_count("note", 2)
    assert [entry[3] for entry in journal.of("note")] == [1, 2]


def test_ask_async_raises_what_the_handler_raised(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    with pytest.raises(Boom, match="async"):
        asyncio.run(system.address("/a").ask_async(Crash(reason="async"), timeout=5))


def test_ask_async_times_out_with_ask_timeout(system: ActorSystem, journal: Journal) -> None:
    system.start(SupervisorSpec(children=(recorder("a", journal),)))
    with pytest.raises(AskTimeout, match="/a"):
        asyncio.run(system.address("/a").ask_async(Sleep(seconds=0.3), timeout=0.05))


def test_ask_async_to_an_unknown_path_raises_actor_not_found(system: ActorSystem) -> None:
    with pytest.raises(ActorNotFound):
        asyncio.run(system.address("/nobody").ask_async(Sleep(seconds=0), timeout=5))


def test_a_piped_coroutine_delivers_its_result_as_a_message(
    system: ActorSystem, journal: Journal, async_loop: AsyncLoop
) -> None:
    start_piper(system, journal, async_loop)
    system.address("/piper").tell(RunCoroutine(value="hello", delay=0.01), correlation_id="c1")
    journal.wait_count("piped", 1)
    assert journal.of("piped") == [("piped", "hello", "c1")]


def test_a_piped_coroutine_delivers_its_failure_as_a_message(
    system: ActorSystem, journal: Journal, async_loop: AsyncLoop
) -> None:
    start_piper(system, journal, async_loop)
    system.address("/piper").tell(RunCoroutine(value="nope", fail=True), correlation_id="c2")
    journal.wait_count("pipe_failed", 1)
    assert journal.of("pipe_failed") == [("pipe_failed", "Boom: nope", "c2")]


def test_a_pipe_whose_message_cannot_be_built_is_logged(
    system: ActorSystem, journal: Journal, async_loop: AsyncLoop, logs: LogCapture
) -> None:
    def broken(value: str) -> Piped:
        raise ValueError(value)

    async def answer() -> str:
        return "42"

    start_piper(system, journal, async_loop)
    future = async_loop.pipe(
        answer(), to=system.address("/piper"), on_success=broken, on_failure=str_failure
    )
    assert future.result(5) == "42"
    logs.wait_for("pipe to /piper could not build its message")
    assert journal.count("piped") == 0


def test_the_actor_thread_is_free_while_its_coroutine_runs(
    system: ActorSystem, journal: Journal, async_loop: AsyncLoop
) -> None:
    start_piper(system, journal, async_loop)
    piper = system.address("/piper")
    piper.tell(RunCoroutine(value="late", delay=0.3))
    started = time.monotonic()
    piper.tell(RunCoroutine(value="early"))
    journal.wait_count("piped", 2)
    assert [e[1] for e in journal.of("piped")] == ["early", "late"]
    assert time.monotonic() - started < 5.0


def test_closing_the_loop_cancels_pending_tasks_and_leaves_no_thread(
    system: ActorSystem, journal: Journal
) -> None:
    loop = AsyncLoop(name="closing-loop")
    start_piper(system, journal, loop)
    before = set(threading.enumerate())
    loop.start()
    assert loop.running
    system.address("/piper").tell(RunCoroutine(value="forever", delay=60))
    journal.wait_count("coroutine", 1)
    cancelled = threading.Event()

    async def wait_forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = loop.submit(wait_forever())
    started = time.monotonic()
    loop.close()
    assert time.monotonic() - started < 5.0
    assert cancelled.is_set()
    assert future.cancelled()
    assert not loop.running
    assert leftover_threads(before) == []
    # The piped coroutine was cancelled too, and its owner told so.
    journal.wait_count("pipe_failed", 1)
    assert journal.of("pipe_failed")[0][1].startswith("CancelledError")


def test_a_closed_loop_refuses_work_and_can_be_started_again() -> None:
    loop = AsyncLoop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = loop.loop
    with loop:
        assert loop.submit(asyncio.sleep(0, result=1)).result(5) == 1
    with pytest.raises(RuntimeError, match="not running"):
        _ = loop.loop
    loop.close()  # closing twice is harmless
    with loop:
        assert loop.submit(asyncio.sleep(0, result=2)).result(5) == 2


def test_call_runs_at_once_on_the_loop_thread_and_in_order_from_others() -> None:
    with AsyncLoop() as loop:
        seen: list[str] = []
        done = threading.Event()

        def on_loop() -> None:
            loop.call(seen.append, "inline")  # on the loop's thread: before what follows
            seen.append("after")

        for index in range(3):
            loop.call(seen.append, f"from thread {index}")
        loop.call(on_loop)
        loop.call(done.set)
        assert done.wait(5)
    assert seen == ["from thread 0", "from thread 1", "from thread 2", "inline", "after"]


def test_submit_on_the_loop_thread_starts_the_coroutine_before_the_loops_next_turn() -> None:
    with AsyncLoop() as loop:
        seen: list[str] = []
        results: list[concurrent.futures.Future[str]] = []

        async def work(name: str) -> str:
            seen.append(f"{name} started")
            await asyncio.sleep(0)
            return name

        async def fail() -> str:
            raise Boom("no")

        def on_loop() -> None:
            results.append(loop.submit(work("submitted")))
            results.append(loop.submit(fail()))
            loop.loop.call_soon(seen.append, "next turn")

        loop.call(on_loop)
        assert results_of(results) == ["submitted", "Boom: no"]
    assert seen == ["submitted started", "next turn"]


def test_cancelling_what_was_submitted_on_the_loop_thread_cancels_its_task() -> None:
    with AsyncLoop() as loop:
        cancelled = threading.Event()
        submitted: list[concurrent.futures.Future[None]] = []

        async def wait_forever() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        loop.call(lambda: submitted.append(loop.submit(wait_forever())))
        deadline = time.monotonic() + 5
        while not submitted and time.monotonic() < deadline:
            time.sleep(0.01)
        submitted[0].cancel()
        assert cancelled.wait(5)
        assert submitted[0].cancelled()


def results_of(futures: list[concurrent.futures.Future[str]]) -> list[str]:
    deadline = time.monotonic() + 5
    while len(futures) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=5))
        except Boom as exc:
            outcomes.append(f"Boom: {exc}")
    return outcomes
