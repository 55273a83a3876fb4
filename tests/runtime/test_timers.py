"""The timer thread runs due callbacks in order, skips and forgets cancelled ones, and survives
failures."""

from __future__ import annotations

import gc
import threading
import weakref
from functools import partial

from runtime._timers import COMPACT_AFTER, Timers
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import Journal, LogCapture


def test_callbacks_run_in_the_order_they_fall_due(journal: Journal) -> None:
    timers = Timers()
    timers.start()
    try:
        timers.call_later(0.06, lambda: journal.record("late"))
        timers.call_later(0.02, lambda: journal.record("early"))
        timers.call_later(0.04, lambda: journal.record("middle")).cancel()
        timers.call_later(-1.0, lambda: journal.record("now"))
        journal.wait_for(lambda: len(journal.entries) == 3)
    finally:
        timers.close()
    assert [e[0] for e in journal.entries] == ["now", "early", "late"]


def test_a_timer_set_before_the_earliest_one_still_runs_when_due(journal: Journal) -> None:
    timers = Timers()
    timers.start()
    try:
        timers.call_later(5.0, lambda: journal.record("later"))
        timers.call_later(10.0, lambda: journal.record("latest"))
        timers.call_later(0.02, lambda: journal.record("soon"))
        journal.wait_for(lambda: len(journal.entries) == 1, timeout=1.0)
    finally:
        timers.close()
    assert [e[0] for e in journal.entries] == ["soon"]


def test_a_failing_callback_is_logged_and_the_others_still_run(
    journal: Journal, logs: LogCapture
) -> None:
    def fail() -> None:
        raise RuntimeError("bad callback")

    timers = Timers()
    timers.start()
    try:
        timers.call_later(0.0, fail)
        timers.call_later(0.01, lambda: journal.record("after"))
        journal.wait_count("after", 1)
    finally:
        timers.close()
    assert logs.matching("timer callback")


def test_closing_drops_pending_callbacks_and_ends_the_thread(journal: Journal) -> None:
    before = set(threading.enumerate())
    timers = Timers()
    timers.start()
    timers.call_later(30.0, lambda: journal.record("never"))
    timers.close()
    assert leftover_threads(before) == []
    assert timers.call_later(0.0, lambda: journal.record("never")).cancelled
    assert journal.entries == []


def test_a_cancelled_timer_lets_go_of_what_its_callback_holds(journal: Journal) -> None:
    class Held:
        pass

    timers = Timers()
    timers.start()
    try:
        held = Held()
        kept = weakref.ref(held)
        handle = timers.call_later(300.0, partial(journal.record, "never", held))
        del held
        handle.cancel()
        gc.collect()
        assert kept() is None
        assert handle.cancelled
    finally:
        timers.close()


def test_cancelled_timers_do_not_pile_up_in_the_heap(journal: Journal) -> None:
    timers = Timers()
    timers.start()
    try:
        timers.call_later(0.05, lambda: journal.record("kept"))
        for _ in range(10 * COMPACT_AFTER):
            timers.call_later(300.0, lambda: journal.record("never")).cancel()
        assert timers.waiting() <= 2 * COMPACT_AFTER + 1
        journal.wait_count("kept", 1)
    finally:
        timers.close()
    assert [e[0] for e in journal.entries] == ["kept"]
