"""Keyed pools: spawn on first message, passivate when idle or evicted, restore, stay bounded."""

from __future__ import annotations

import gc
import random
import threading
import time
import weakref
from functools import partial

import pytest

from runtime import (
    ActorContext,
    ActorStopped,
    ActorSystem,
    Address,
    KeyedPool,
    PoolSpec,
    SupervisorSpec,
    pool,
)
from tests.runtime.fakes import (
    Boom,
    Counter,
    Crash,
    GetCount,
    Hold,
    Increment,
    Journal,
    LogCapture,
    Note,
    StateStore,
    Wait,
    eventually,
    restarts,
)


def start_pool(
    system: ActorSystem,
    journal: Journal,
    store: StateStore,
    *,
    idle_after: float | None = None,
    max_alive: int = 1000,
    max_restarts: int = 3,
    gate: threading.Event | None = None,
) -> Address:
    spec = PoolSpec(
        factory=partial(Counter, journal=journal, gate=gate),
        idle_after=idle_after,
        max_alive=max_alive,
        save=store.save,
        restore=store.restore,
        max_restarts=max_restarts,
        within_seconds=30.0,
    )
    system.start(SupervisorSpec(children=(pool("counters", spec),)))
    return system.address("/counters")


def the_pool(system: ActorSystem) -> KeyedPool:
    actor = system._cells["/counters"].actor
    assert isinstance(actor, KeyedPool)
    return actor


def test_a_child_is_spawned_for_a_key_on_its_first_message(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore())
    assert counters.child("7").ask(Increment(), timeout=5) == 1
    assert counters.child(7).ask(Increment(), timeout=5) == 2
    assert counters.child("8").ask(Increment(by=5), timeout=5) == 5
    assert journal.paths("start") == ["7", "8"]
    snapshot = system.snapshot()
    node = snapshot.find("/counters")
    assert node is not None
    assert node.role == "pool"
    assert sorted(child.path for child in node.children) == ["/counters/7", "/counters/8"]
    member = snapshot.find("/counters/7")
    assert member is not None
    assert (member.actor_class, member.processed) == ("Counter", 2)


def test_an_idle_child_is_passivated_and_comes_back_with_its_state(
    system: ActorSystem, journal: Journal
) -> None:
    store = StateStore()
    counters = start_pool(system, journal, store, idle_after=0.1)
    key = counters.child("k")
    for _ in range(3):
        key.ask(Increment(), timeout=5)
    journal.wait_count("passivate", 1)
    assert journal.of("passivate") == [("passivate", "k", 3)]
    assert store.get("k") == 3
    eventually(lambda: system.snapshot().find("/counters/k") is None, what="member gone")
    assert the_pool(system).alive_count() == 0
    assert key.ask(GetCount(), timeout=5) == 3
    assert journal.of("restore") == [("restore", "k", None), ("restore", "k", 3)]


def test_a_busy_child_is_not_passivated(system: ActorSystem, journal: Journal) -> None:
    gate = threading.Event()
    counters = start_pool(system, journal, StateStore(), idle_after=0.05, gate=gate)
    counters.child("k").tell(Wait())
    journal.wait_count("waiting", 1)
    time.sleep(0.3)  # several idle periods pass while the handler runs
    assert journal.count("passivate") == 0
    gate.set()
    journal.wait_count("passivate", 1)


def test_at_the_cap_the_least_recently_active_child_is_passivated_first(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore(), max_alive=2)
    counters.child("a").ask(Increment(), timeout=5)
    counters.child("b").ask(Increment(), timeout=5)
    counters.child("a").ask(Increment(), timeout=5)
    counters.child("c").ask(Increment(), timeout=5)
    assert journal.of("passivate") == [("passivate", "b", 1)]
    assert counters.child("b").ask(GetCount(), timeout=5) == 1
    assert journal.of("passivate")[1] == ("passivate", "a", 2)
    # The pool records a member just after starting it, so its count may lag the reply.
    eventually(lambda: the_pool(system).alive_count() == 2, what="two members")


def test_threads_stay_bounded_by_the_cap_however_many_keys(
    system: ActorSystem, journal: Journal
) -> None:
    store = StateStore()
    counters = start_pool(system, journal, store, max_alive=20)
    baseline = threading.active_count()  # main, root, pool, timers, anything else running
    keys = [str(k) for k in range(300)]
    for _ in range(2):
        for key in keys:
            counters.child(key).tell(Increment())
    journal.wait_count("increment", 600, timeout=60)
    assert the_pool(system).peak_alive == 20
    peak = max(entry[2] for entry in journal.of("start"))
    assert peak <= baseline + 20
    # Every key went through passivation and came back with its count.
    assert {entry[1]: entry[2] for entry in journal.of("increment") if entry[2] == 2}.keys() == set(
        keys
    )
    assert all(counters.child(key).ask(GetCount(), timeout=5) == 2 for key in keys[-20:])


def test_messages_arriving_during_passivation_are_not_lost(
    system: ActorSystem, journal: Journal
) -> None:
    gate = threading.Event()
    counters = start_pool(system, journal, StateStore(), max_alive=1, gate=gate)
    a, b = counters.child("a"), counters.child("b")
    a.tell(Wait())
    journal.wait_count("waiting", 1)
    b.tell(Increment())  # no slot: "a" is asked to passivate once its Wait is done
    for _ in range(5):
        a.tell(Increment())
    gate.set()
    assert b.ask(GetCount(), timeout=5) == 1
    assert a.ask(GetCount(), timeout=5) == 5
    assert system.dead_letters.recent() == ()


def test_eviction_prefers_an_idle_member_to_an_older_one_with_work(
    system: ActorSystem, journal: Journal
) -> None:
    gate = threading.Event()
    counters = start_pool(system, journal, StateStore(), max_alive=2, gate=gate)
    busy, idle = counters.child("busy"), counters.child("idle")
    busy.tell(Wait())  # the least recently active, but occupied
    journal.wait_count("waiting", 1)
    assert idle.ask(GetCount(), timeout=5) == 0
    busy.tell(Increment())

    counters.child("new").tell(Increment())  # no slot: someone must go

    journal.wait_count("passivate", 1)
    assert [entry[1] for entry in journal.of("passivate")] == ["idle"]
    gate.set()
    assert busy.ask(GetCount(), timeout=5) == 1
    assert counters.child("new").ask(GetCount(), timeout=5) == 1


def test_a_passivated_member_is_not_kept_in_memory_by_an_address_that_outlives_it(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore(), idle_after=0.05)
    assert counters.child("k").ask(GetCount(), timeout=5) == 0
    actor = system._cells["/counters/k"].actor
    assert actor is not None
    # What a pending tell_later holds: the member's own address, which knows its cell.
    held = actor.context.address
    member = weakref.ref(actor)
    del actor

    journal.wait_count("passivate", 1)
    eventually(lambda: "/counters/k" not in system._cells)
    gc.collect()

    assert member() is None
    assert held.path == "/counters/k"


def test_a_pending_timer_does_not_keep_a_passivated_members_cell_in_memory(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore(), idle_after=0.05)
    assert counters.child("k").ask(GetCount(), timeout=5) == 0
    cell = system._cells["/counters/k"]
    actor = cell.actor
    assert actor is not None
    # A long timer (an answer's timeout) and a short one that falls due after passivation.
    actor.context.tell_later(300.0, Increment(by=100))
    actor.context.tell_later(0.3, Increment(by=2))
    old_mailbox = weakref.ref(cell.mailbox)  # a cell takes no weak reference; its mailbox does
    del cell, actor

    journal.wait_count("passivate", 1)
    eventually(lambda: "/counters/k" not in system._cells)
    gc.collect()

    assert old_mailbox() is None
    # The timer still reaches the key, now through a new incarnation.
    eventually(lambda: counters.child("k").ask(GetCount(), timeout=5) == 2)


def test_messages_racing_idle_passivation_are_all_handled_once(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore(), idle_after=0.01)
    key = counters.child("k")
    for n in range(200):
        key.tell(Increment())
        if n % 10 == 9:
            time.sleep(0.02)  # long enough for the child to be passivated now and then
    assert key.ask(GetCount(), timeout=10) == 200
    assert journal.count("passivate") >= 2
    assert system.dead_letters.recent() == ()


def test_each_senders_messages_keep_their_order_through_spawns_and_passivations(
    system: ActorSystem, journal: Journal
) -> None:
    store = StateStore()
    spec = PoolSpec(
        factory=partial(Counter, journal=journal),
        idle_after=0.005,
        max_alive=5,
        save=store.save,
        restore=store.restore,
    )
    system.start(SupervisorSpec(children=(pool("counters", spec),)))
    keys = [str(k) for k in range(30)]
    per_sender = 1000

    def send(origin: str, seed: int) -> None:
        rng = random.Random(seed)
        for n in range(per_sender):
            system.address(f"/counters/{rng.choice(keys)}").tell(Note(n=n, origin=origin))
            if rng.random() < 0.02:
                time.sleep(rng.random() * 0.01)  # let some keys go idle and be passivated

    senders = [threading.Thread(target=send, args=(f"s{i}", i)) for i in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    journal.wait_count("note", 4 * per_sender, timeout=60)
    assert journal.count("passivate") > 0
    last: dict[tuple[str, str], int] = {}
    for _, key, origin, n in journal.of("note"):
        assert n > last.get((key, origin), -1), f"{origin}'s note {n} to {key} came late"
        last[key, origin] = n
    assert system.dead_letters.recent() == ()


def test_a_crashing_key_is_restarted_then_retired_without_affecting_other_keys(
    system: ActorSystem, journal: Journal
) -> None:
    gate = threading.Event()
    counters = start_pool(system, journal, StateStore(), max_restarts=2, gate=gate)
    good, bad = counters.child("good"), counters.child("bad")
    assert good.ask(Increment(), timeout=5) == 1
    bad.tell(Wait())
    journal.wait_count("waiting", 1)
    bad.tell(Crash(), correlation_id="crash")
    for _ in range(3):
        bad.tell(Increment(), correlation_id="queued")
    gate.set()
    eventually(lambda: len(system.dead_letters.recent()) == 4, what="four dead letters")
    assert journal.count("crash") == 3
    assert journal.paths("start").count("bad") == 3
    reasons = [(d.message_type, d.reason) for d in system.dead_letters.recent()]
    assert (
        reasons
        == [("Crash", "poison: failed 3 times")] + [("Increment", "actor failed repeatedly")] * 3
    )
    assert good.ask(Increment(), timeout=5) == 2
    assert restarts(system, "/counters") == 0
    # A retired key is not banned: its next message spawns a fresh child.
    assert bad.ask(Increment(), timeout=5) == 1


class PickyFactory:
    """Builds counters, except for the key "bad" (always) or any key once ``broken`` is set."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.broken = threading.Event()

    def __call__(self, context: ActorContext) -> Counter:
        if context.key == "bad" or self.broken.is_set():
            raise RuntimeError(f"cannot build {context.key}")
        return Counter(context, self.journal)


def test_a_key_whose_actor_cannot_be_built_is_refused_without_affecting_other_keys(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    spec = PoolSpec(factory=PickyFactory(journal), idle_after=None)
    system.start(SupervisorSpec(children=(pool("counters", spec),)))
    good, bad = system.address("/counters/good"), system.address("/counters/bad")
    assert good.ask(Increment(), timeout=5) == 1
    bad.tell(Increment(), correlation_id="first")
    with pytest.raises(ActorStopped):
        bad.ask(Increment(), timeout=5)
    assert good.ask(Increment(), timeout=5) == 2  # the pool and its other keys carry on
    assert restarts(system, "/counters") == 0
    assert system.snapshot().find("/counters/bad") is None
    letters = [(d.correlation_id, d.reason) for d in system.dead_letters.recent()]
    assert letters[0] == ("first", "actor failed to start")
    assert logs.matching("/counters/bad: building its actor failed")


def test_a_key_whose_actor_cannot_be_rebuilt_after_a_crash_is_retired(
    system: ActorSystem, journal: Journal
) -> None:
    factory = PickyFactory(journal)
    spec = PoolSpec(factory=factory, idle_after=None)
    system.start(SupervisorSpec(children=(pool("counters", spec),)))
    key = system.address("/counters/k")
    key.ask(Increment(), timeout=5)
    factory.broken.set()
    with pytest.raises(Boom):
        key.ask(Crash(), timeout=5)
    key.tell(Increment(), correlation_id="after")
    eventually(
        lambda: any(d.correlation_id == "after" for d in system.dead_letters.recent()),
        what="the message after the crash to be dead-lettered",
    )
    assert restarts(system, "/counters") == 0


def test_messages_waiting_for_a_slot_when_the_pool_stops_are_dead_lettered(
    system: ActorSystem, journal: Journal, logs: LogCapture
) -> None:
    gate = threading.Event()
    spec = PoolSpec(
        factory=partial(Counter, journal=journal, gate=gate),
        idle_after=None,
        max_alive=1,
        shutdown_timeout=0.1,
    )
    system.start(SupervisorSpec(children=(pool("counters", spec),)))
    system.address("/counters/a").tell(Wait())
    journal.wait_count("waiting", 1)
    for _ in range(2):
        system.address("/counters/b").tell(Increment(), correlation_id="waiting-for-a-slot")
    opener = threading.Timer(0.3, gate.set)  # "a" is still busy when its time is up
    opener.start()
    system.shutdown()
    opener.join()
    assert logs.matching("/counters/a did not stop in time")
    letters = [(d.target, d.reason) for d in system.dead_letters.recent()]
    assert letters == [("/counters/b", "pool stopped")] * 2


def test_shutdown_saves_the_state_of_every_live_child(
    system: ActorSystem, journal: Journal
) -> None:
    store = StateStore()
    counters = start_pool(system, journal, store)
    counters.child("a").ask(Increment(by=2), timeout=5)
    counters.child("b").ask(Increment(by=3), timeout=5)
    system.shutdown()
    assert (store.get("a"), store.get("b")) == (2, 3)
    counters.child("a").tell(Increment(), correlation_id="late")
    [letter] = system.dead_letters.recent()
    assert (letter.target, letter.correlation_id) == ("/counters/a", "late")


def test_a_busy_member_is_neither_passivated_when_idle_nor_evicted_at_the_cap(
    system: ActorSystem, journal: Journal
) -> None:
    counters = start_pool(system, journal, StateStore(), max_alive=1, idle_after=0.05)
    a, b = counters.child("a"), counters.child("b")
    a.ask(Hold(busy=True), timeout=5)
    time.sleep(0.3)  # several idle sweeps go by
    assert journal.of("passivate") == []

    b.tell(Increment())  # no slot while "a" is busy: "b" waits rather than evicting it
    time.sleep(0.3)
    assert journal.count("increment") == 0

    a.tell(Hold(busy=False))
    journal.wait_count("increment", 1)
    assert journal.of("passivate")[0][1] == "a"
