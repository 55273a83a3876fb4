"""Actor and timer threads run as batch threads; the event loop's thread does not."""

from __future__ import annotations

import os
import threading

import pytest

from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    Message,
    SupervisorSpec,
    receive,
)

pytestmark = pytest.mark.skipif(
    not hasattr(os, "SCHED_BATCH"), reason="the OS has no batch scheduling policy"
)


class WhichPolicy(Message, frozen=True, kw_only=True):
    """Asks an actor for the scheduling policy of the thread that handles it."""


class Reporter(Actor):
    @receive
    def which(self, _message: WhichPolicy) -> int:
        return os.sched_getscheduler(0)  # 0: the calling thread


class LoopStarter(Actor):
    """Starts an event loop from its own (batch) thread, as the bot's LoopKeeper does."""

    def __init__(self, context: ActorContext, loop: AsyncLoop) -> None:
        super().__init__(context)
        self.loop = loop

    def on_start(self) -> None:
        self.loop.start()


def test_an_actors_thread_is_a_batch_thread_and_the_event_loops_is_not(
    system: ActorSystem,
) -> None:
    system.start(SupervisorSpec(children=(ChildSpec(name="reporter", factory=Reporter),)))

    assert system.address("/reporter").ask(WhichPolicy(), timeout=5) == os.SCHED_BATCH
    with AsyncLoop() as loop:
        on_loop = loop.submit(_policy_on_the_loop()).result(5)
    assert on_loop == os.sched_getscheduler(0) != os.SCHED_BATCH


def test_an_event_loop_started_from_an_actors_thread_runs_under_the_normal_policy(
    system: ActorSystem,
) -> None:
    loop = AsyncLoop()
    spec = ChildSpec(name="starter", factory=lambda context: LoopStarter(context, loop))
    try:
        system.start(SupervisorSpec(children=(spec,)))
        on_loop = loop.submit(_policy_on_the_loop()).result(5)
    finally:
        loop.close()

    assert on_loop != os.SCHED_BATCH


def test_timers_fire_on_a_batch_thread(system: ActorSystem) -> None:
    system.start(SupervisorSpec(children=()))
    policies: list[int] = []
    fired = threading.Event()

    def note() -> None:
        policies.append(os.sched_getscheduler(0))
        fired.set()

    system.timers.call_later(0.0, note)

    assert fired.wait(5)
    assert policies == [os.SCHED_BATCH]


async def _policy_on_the_loop() -> int:
    return os.sched_getscheduler(0)
