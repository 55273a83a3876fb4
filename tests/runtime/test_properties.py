"""Random sends, crashes and stops across a small tree never lose or duplicate a message.

The invariants, checked after every run:

* every message sent is handled exactly once or dead-lettered exactly once;
* each actor handles the messages of one sender in the order they were sent;
* each actor's restart counter matches what made it restart (failures, normal stops);
* after shutdown no thread of the run is left.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import Counter as Tally
from functools import partial

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from runtime import ActorStopped, ActorSystem, Restart, SupervisorSpec, supervisor
from tests.runtime.conftest import leftover_threads
from tests.runtime.fakes import (
    Flaky,
    Forward,
    Journal,
    Note,
    Ping,
    StopNow,
    eventually,
    recorder,
    relay,
    restarts,
)

POISON_AFTER = 3
TARGETS = {"a": "/a", "b": "/b", "c": "/c", "d": "/s/d"}
RESTART = {"a": Restart.PERMANENT, "b": Restart.TRANSIENT, "c": Restart.TEMPORARY}
ACCOUNTED = {"Note", "Flaky", "StopNow", "Forward"}


class TreeUnderFire(RuleBasedStateMachine):
    """Drives one system per example; the checks run in :meth:`teardown`."""

    def __init__(self) -> None:
        super().__init__()
        self.journal = Journal()
        self.system = ActorSystem(dead_letter_capacity=100_000)
        self.before: set[threading.Thread] = set()
        self.expected: list[tuple[str, str]] = []  # (correlation id, message type)
        self.seq = itertools.count()
        self.failures: dict[str, int] = {}  # correlation id of a Flaky -> failures asked for

    @initialize()
    def start(self) -> None:
        self.before = set(threading.enumerate())
        journal, system = self.journal, self.system
        inner = SupervisorSpec(
            children=(recorder("d", journal, poison_after=POISON_AFTER),),
            max_restarts=10_000,
        )
        spec = SupervisorSpec(
            children=(
                *(
                    recorder(name, journal, restart=RESTART[name], poison_after=POISON_AFTER)
                    for name in "abc"
                ),
                supervisor("s", inner),
                relay("r", journal, system, tuple(TARGETS.values())),
            ),
            max_restarts=10_000,
        )
        system.start(spec)

    def _cid(self, kind: str) -> str:
        cid = f"m{next(self.seq)}"
        self.expected.append((cid, kind))
        return cid

    @rule(name=st.sampled_from(sorted(TARGETS)), burst=st.integers(1, 5))
    def send_notes(self, name: str, burst: int) -> None:
        address = self.system.address(TARGETS[name])
        for _ in range(burst):
            cid = self._cid("Note")
            address.tell(Note(n=int(cid[1:])), correlation_id=cid)

    @rule(name=st.sampled_from(sorted(TARGETS)), burst=st.integers(1, 5))
    def send_notes_through_the_relay(self, name: str, burst: int) -> None:
        relay_address = self.system.address("/r")
        for _ in range(burst):
            cid = self._cid("Forward")
            self.expected.append((cid, "Note"))
            relay_address.tell(Forward(to=name, n=int(cid[1:])), correlation_id=cid)

    @rule(name=st.sampled_from(sorted(TARGETS)), failures=st.integers(1, POISON_AFTER + 1))
    def crash(self, name: str, failures: int) -> None:
        cid = self._cid("Flaky")
        self.failures[cid] = failures
        self.system.address(TARGETS[name]).tell(Flaky(failures=failures), correlation_id=cid)

    @rule(name=st.sampled_from(sorted(TARGETS)))
    def stop(self, name: str) -> None:
        cid = self._cid("StopNow")
        self.system.address(TARGETS[name]).tell(StopNow(), correlation_id=cid)

    def teardown(self) -> None:
        try:
            if self.before:
                self._quiesce()
                self._check_restarts()
        finally:
            self.system.shutdown()
        self._check_exactly_once()
        self._check_order()
        assert leftover_threads(self.before) == []

    # -- checks ---------------------------------------------------------------------------

    def _quiesce(self) -> None:
        """Wait until everything sent so far has been handled or dead-lettered."""
        for path in ("/r", *TARGETS.values()):
            with contextlib.suppress(ActorStopped):
                self.system.address(path).ask(Ping(), timeout=10)

    def _check_restarts(self) -> None:
        for name, path in TARGETS.items():
            restart = RESTART.get(name, Restart.PERMANENT)
            raises = sum(1 for e in self.journal.of("flaky", path) if e[3] <= self.failures[e[2]])
            stops = self.journal.count("stopping", path)
            if restart is Restart.PERMANENT:
                expected = raises + stops
            elif restart is Restart.TRANSIENT:
                expected = raises
            else:
                expected = 0
            eventually(
                partial(self._has_restarts, path, expected),
                what=f"{path} to have {expected} restarts",
            )

    def _has_restarts(self, path: str, expected: int) -> bool:
        return restarts(self.system, path) == expected

    def _check_exactly_once(self) -> None:
        handled: list[tuple[str, str]] = []
        for entry in self.journal.entries:
            if entry[0] == "note":
                handled.append((entry[4], "Note"))
            elif entry[0] == "flaky_ok":
                handled.append((entry[2], "Flaky"))
            elif entry[0] == "stopping":
                handled.append((entry[2], "StopNow"))
            elif entry[0] == "forwarded":
                handled.append((entry[4], "Forward"))
        dead = [
            (d.correlation_id, d.message_type)
            for d in self.system.dead_letters.recent()
            if d.message_type in ACCOUNTED
        ]
        outcomes = Tally(handled) + Tally(dead)
        assert {key: n for key, n in outcomes.items() if n != 1} == {}
        assert set(outcomes) == set(self.expected)

    def _check_order(self) -> None:
        for path in TARGETS.values():
            by_origin: dict[str, list[int]] = {}
            for entry in self.journal.of("note", path):
                by_origin.setdefault(entry[2], []).append(entry[3])
            for origin, numbers in by_origin.items():
                assert numbers == sorted(numbers), f"{path} got {origin}'s notes out of order"


TreeUnderFire.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_sends_crashes_and_stops_never_lose_or_duplicate_messages = TreeUnderFire.TestCase
