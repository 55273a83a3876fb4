from __future__ import annotations

from actors.admin.commands import ShowActor, ShowDeadLetters, ShowTree
from actors.admin.debug import as_pre, debug_pages
from runtime import DeadLetter
from tests.actors.admin.support import node, snapshot


def test_the_tree_lists_every_actor_by_path() -> None:
    tree = snapshot(node("/", node("/storage"), node("/io", node("/io/gateway"))))

    (page,) = debug_pages(ShowTree(), tree)

    assert "/storage [running]" in page
    assert "  /io/gateway [running] 0/0/0/0" in page


def test_a_big_tree_is_cut_into_pages_within_the_limit() -> None:
    sessions = [node(f"/sessions/{n}") for n in range(400)]
    tree = snapshot(node("/", node("/sessions", *sessions)))

    pages = debug_pages(ShowTree(), tree, limit=1000)

    assert len(pages) > 1
    assert all(len(page) <= 1000 for page in pages)
    assert "/sessions/399" in pages[-1]


def test_one_actor_shows_its_figures() -> None:
    tree = snapshot(node("/", node("/storage", processed=12)))

    (page,) = debug_pages(ShowActor(path="/storage"), tree)

    assert page.startswith("/storage (Fake, actor)")
    assert "processed: 12" in page


def test_a_missing_actor_is_named() -> None:
    assert debug_pages(ShowActor(path="/nope"), snapshot(node("/"))) == ("no actor at /nope",)


def test_dead_letters_or_their_absence_are_shown() -> None:
    assert debug_pages(ShowDeadLetters(), snapshot(node("/"))) == ("no dead letters",)


def test_pages_go_out_preformatted_and_escaped() -> None:
    assert as_pre("a <b> & c") == "<pre>a &lt;b&gt; &amp; c</pre>"


def test_dead_letters_are_listed_newest_first() -> None:
    letters = tuple(
        DeadLetter(
            message_type=kind, target="/sessions/7", reason="stopped", at=0.0, correlation_id="u1"
        )
        for kind in ("IncomingText", "AnswerDone")
    )

    (page,) = debug_pages(ShowDeadLetters(), snapshot(node("/"), dead_letters=letters))

    assert page.splitlines()[0].endswith("AnswerDone -> /sessions/7: stopped (cid u1)")
    assert "IncomingText" in page.splitlines()[1]
