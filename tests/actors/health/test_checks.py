"""The checks the health supervisor runs itself: the actor tree and the process."""

from __future__ import annotations

from pathlib import Path

from actors.health.checks import (
    ProcessFigures,
    ProcessLimits,
    TreeLimits,
    check_process,
    check_tree,
    read_process_figures,
)
from runtime import ActorSnapshot, SystemSnapshot

TREE_LIMITS = TreeLimits(max_mailbox_backlog=100, max_restarts_per_hour=10)
PROCESS_LIMITS = ProcessLimits(max_rss_mb=200, max_open_fds=100, max_threads=50)


def node(
    path: str, *, mailbox: int = 0, restarts: int = 0, children: tuple[ActorSnapshot, ...] = ()
) -> ActorSnapshot:
    return ActorSnapshot(
        path=path,
        actor_class="Fake",
        role="actor",
        state="running",
        mailbox_depth=mailbox,
        processed=0,
        failures=0,
        restarts=restarts,
        last_failure=None,
        uptime_s=1.0,
        since_last_message_s=None,
        recent=(),
        p50_ms=0.0,
        p99_ms=0.0,
        restarts_last_hour=restarts,
        children=children,
    )


def tree(*children: ActorSnapshot) -> SystemSnapshot:
    return SystemSnapshot(
        taken_at=0.0,
        uptime_s=1.0,
        actor_count=len(children) + 1,
        dead_letter_total=0,
        root=node("/", children=children),
        dead_letters=(),
    )


def test_a_calm_tree_passes_and_says_how_many_actors_and_restarts() -> None:
    ok, detail = check_tree(tree(node("/storage", mailbox=100, restarts=2)), TREE_LIMITS)
    assert ok
    assert detail == "2 actors, 2 restarts in the last hour"


def test_a_mailbox_over_the_limit_is_a_backlog_named_by_path() -> None:
    ok, detail = check_tree(tree(node("/storage", mailbox=101)), TREE_LIMITS)
    assert not ok
    assert detail == "mailbox backlog: /storage (101 waiting)"


def test_restarts_over_the_limit_in_the_last_hour_are_a_restart_storm() -> None:
    ok, detail = check_tree(tree(node("/io/gateway", restarts=11)), TREE_LIMITS)
    assert not ok
    assert detail == "restart storm: /io/gateway (11 restarts in the last hour)"


def test_many_backlogged_actors_are_summed_up_after_the_first_three() -> None:
    sessions = tuple(node(f"/sessions/{i}", mailbox=500) for i in range(5))
    ok, detail = check_tree(tree(*sessions), TREE_LIMITS)
    assert not ok
    assert detail.endswith("/sessions/2 (500 waiting) and 2 more")


def test_a_process_within_its_limits_passes_and_shows_every_figure() -> None:
    figures = ProcessFigures(rss_mb=80.4, open_fds=30, threads=20)
    assert check_process(figures, PROCESS_LIMITS) == (
        True,
        "RSS 80 MB (limit 200 MB), open fds 30 (limit 100), threads 20 (limit 50)",
    )


def test_figures_over_their_limits_fail_the_process_and_come_first() -> None:
    figures = ProcessFigures(rss_mb=250.0, open_fds=30, threads=51)
    ok, detail = check_process(figures, PROCESS_LIMITS)
    assert not ok
    assert detail == (
        "over the limit: RSS 250 MB (limit 200 MB), threads 51 (limit 50); open fds 30 (limit 100)"
    )


def test_figures_that_cannot_be_read_are_not_held_against_the_process() -> None:
    ok, detail = check_process(
        ProcessFigures(rss_mb=None, open_fds=None, threads=5), PROCESS_LIMITS
    )
    assert ok
    assert detail == "RSS unknown, open fds unknown, threads 5 (limit 50)"


def test_rss_and_open_fds_are_read_from_proc(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("Name:\tpython\nVmRSS:\t  204800 kB\nThreads:\t3\n")
    (tmp_path / "fd").mkdir()
    for fd in range(4):
        (tmp_path / "fd" / str(fd)).touch()

    figures = read_process_figures(tmp_path)
    assert (figures.rss_mb, figures.open_fds) == (200.0, 4)
    assert figures.threads >= 1


def test_without_proc_the_figures_are_unknown(tmp_path: Path) -> None:
    figures = read_process_figures(tmp_path / "missing")
    assert (figures.rss_mb, figures.open_fds) == (None, None)
