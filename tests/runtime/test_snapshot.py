"""Snapshots: the live tree as a Struct, and as text pages that fit a Telegram message."""

from __future__ import annotations

import time
from functools import partial

import msgspec
import pytest

from runtime import (
    ActorSnapshot,
    ActorSystem,
    DeadLetter,
    FailureInfo,
    MessageStamp,
    PoolSpec,
    SupervisorSpec,
    SystemSnapshot,
    paginate,
    pool,
    render_actor,
    render_dead_letters,
    render_tree,
    supervisor,
)
from runtime._snapshot import TELEGRAM_LIMIT, _duration
from tests.runtime.fakes import (
    Boom,
    Counter,
    Crash,
    Increment,
    Journal,
    Note,
    Ping,
    Sleep,
    recorder,
)


def small_tree(system: ActorSystem, journal: Journal) -> None:
    inner = SupervisorSpec(children=(recorder("worker", journal),))
    counters = PoolSpec(factory=partial(Counter, journal=journal), idle_after=None)
    system.start(SupervisorSpec(children=(supervisor("sub", inner), pool("counters", counters))))
    worker = system.address("/sub/worker")
    worker.ask(Note(n=1), timeout=5)
    worker.ask(Sleep(seconds=0.02), timeout=5)
    with pytest.raises(Boom):
        worker.ask(Crash(reason="bad input"), timeout=5)
    worker.ask(Ping(), timeout=5)
    system.address("/counters/1").ask(Increment(), timeout=5)
    system.address("/nobody").tell(Ping(), correlation_id="lost")


def test_a_snapshot_shows_the_tree_with_its_figures(system: ActorSystem, journal: Journal) -> None:
    small_tree(system, journal)
    snapshot = system.snapshot()
    assert snapshot.actor_count == 5
    assert [(depth, node.path) for depth, node in snapshot.walk()] == [
        (0, "/"),
        (1, "/sub"),
        (2, "/sub/worker"),
        (1, "/counters"),
        (2, "/counters/1"),
    ]
    roles = {node.path: (node.role, node.actor_class) for _, node in snapshot.walk()}
    assert roles == {
        "/": ("supervisor", "Supervisor"),
        "/sub": ("supervisor", "Supervisor"),
        "/sub/worker": ("actor", "Recorder"),
        "/counters": ("pool", "KeyedPool"),
        "/counters/1": ("actor", "Counter"),
    }
    worker = snapshot.find("/sub/worker")
    assert worker is not None
    assert worker.state == "running"
    assert (worker.processed, worker.failures, worker.restarts) == (3, 1, 1)
    assert worker.mailbox_depth == 0
    assert worker.last_failure is not None
    assert (worker.last_failure.type, worker.last_failure.message) == ("Boom", "bad input")
    assert [stamp.type for stamp in worker.recent] == ["Note", "Sleep", "Ping"]
    assert worker.p99_ms >= 15.0
    assert worker.since_last_message_s is not None
    assert worker.uptime_s >= 0.0
    assert [d.correlation_id for d in snapshot.dead_letters] == ["lost"]
    assert snapshot.dead_letter_total == 1


def test_find_returns_none_for_an_unknown_path(system: ActorSystem, journal: Journal) -> None:
    small_tree(system, journal)
    assert system.snapshot().find("/sub/nobody") is None


def test_a_snapshot_of_an_unstarted_system_has_no_root(system: ActorSystem) -> None:
    snapshot = system.snapshot()
    assert snapshot.root is None
    assert list(snapshot.walk()) == []
    assert render_tree(snapshot)[0].startswith("0 actors")


def test_a_snapshot_encodes_to_json_and_back(system: ActorSystem, journal: Journal) -> None:
    small_tree(system, journal)
    snapshot = system.snapshot()
    decoded = msgspec.json.decode(msgspec.json.encode(snapshot), type=SystemSnapshot)
    assert decoded == snapshot


def test_the_text_views_of_a_small_tree_fit_one_page(system: ActorSystem, journal: Journal) -> None:
    small_tree(system, journal)
    snapshot = system.snapshot()
    [tree] = render_tree(snapshot)
    assert "5 actors" in tree
    assert "1 dead letters" in tree
    assert "  /sub [running] 0/0/0/0" in tree
    assert "    /sub/worker [running] 0/3/1/1" in tree
    worker = snapshot.find("/sub/worker")
    assert worker is not None
    [actor] = render_actor(worker)
    assert "/sub/worker (Recorder, actor)" in actor
    assert "last failure: Boom: bad input" in actor
    assert actor.index("Ping") < actor.index("Sleep") < actor.index("Note")  # newest first
    [letters] = render_dead_letters(snapshot.dead_letters)
    assert "Ping -> /nobody: no such actor (cid lost)" in letters
    assert render_dead_letters(()) == ("no dead letters",)


def fake_node(path: str, children: tuple[ActorSnapshot, ...] = ()) -> ActorSnapshot:
    now = time.time()
    return ActorSnapshot(
        path=path,
        actor_class="Session",
        role="actor",
        state="running",
        mailbox_depth=3,
        processed=123_456,
        failures=7,
        restarts=2,
        last_failure=FailureInfo(type="ValueError", message="x" * 5000, at=now),
        uptime_s=90_000.0,
        since_last_message_s=1.5,
        recent=tuple(MessageStamp(type=f"Type{n}", at=now) for n in range(16)),
        p50_ms=1.0,
        p99_ms=9.0,
        children=children,
    )


def big_snapshot(actors: int) -> SystemSnapshot:
    members = tuple(fake_node(f"/sessions/{10**12 + n}") for n in range(actors - 2))
    root = fake_node("/", (fake_node("/sessions", members),))
    letters = tuple(
        DeadLetter(
            message_type="UserText",
            target=f"/sessions/{n}",
            reason="actor stopped",
            at=time.time(),
            correlation_id=f"abcdef-{n:x}",
        )
        for n in range(actors)
    )
    return SystemSnapshot(
        taken_at=time.time(),
        uptime_s=4000.0,
        actor_count=actors,
        dead_letter_total=actors,
        root=root,
        dead_letters=letters,
    )


def test_every_page_of_a_big_tree_fits_a_telegram_message() -> None:
    snapshot = big_snapshot(2000)
    tree = render_tree(snapshot)
    assert len(tree) > 1
    assert all(len(page) <= TELEGRAM_LIMIT for page in tree)
    assert sum(page.count("/sessions/") for page in tree) == 1998
    sessions = snapshot.find("/sessions")
    assert sessions is not None
    actor = render_actor(sessions)
    assert all(len(page) <= TELEGRAM_LIMIT for page in actor)
    letters = render_dead_letters(snapshot.dead_letters)
    assert len(letters) > 1
    assert all(len(page) <= TELEGRAM_LIMIT for page in letters)
    assert sum(page.count("UserText") for page in letters) == 2000


def test_pages_cut_only_between_lines_and_shorten_overlong_lines() -> None:
    lines = ["a" * 40, "b" * 40, "c" * 40, "d" * 500]
    pages = paginate(lines, limit=100)
    assert pages == ("a" * 40 + "\n" + "b" * 40, "c" * 40, "d" * 99 + "…")
    assert paginate([]) == ()


def test_durations_read_in_the_largest_sensible_unit() -> None:
    assert [_duration(s) for s in (5, 65, 3700)] == ["5s", "1m05s", "1h01m"]
