from __future__ import annotations

import pytest

from actors.admin.commands import parse_button
from actors.admin.users import (
    NEXT,
    PREV,
    UsersPage,
    clamp_page,
    count_in,
    offset_of,
    page_count,
    render_users_page,
    users_keyboard,
)
from actors.telegram.messages import Button
from storage import UserCounts, UserState
from tests.actors.admin.support import user


def page(number: int, pages: int, *, state: UserState | None = None) -> UsersPage:
    return UsersPage(
        state=state,
        page=number,
        pages=pages,
        total=45,
        users=(
            user(2001, "Alice", username="alice"),
            user(1000, "Ada", state="active", is_admin=True),
        ),
    )


def test_a_page_lists_one_user_a_line_under_a_header() -> None:
    assert render_users_page(page(2, 3, state="pending")).splitlines() == [
        "Users (pending): 45 · page 2/3",
        "2001 · Alice (@alice) · pending",
        "1000 · Ada · active · admin",
    ]


def test_an_empty_list_says_so() -> None:
    empty = UsersPage(state="blocked", page=1, pages=1, total=0, users=())

    assert render_users_page(empty) == "No blocked users."
    assert render_users_page(UsersPage(state=None, page=1, pages=1, total=0, users=())) == (
        "No users yet."
    )


def test_the_first_page_has_only_next_the_last_only_prev_the_middle_both() -> None:
    assert users_keyboard(page(1, 3)) == ((Button(text=NEXT, data="a:users:all:2"),),)
    assert users_keyboard(page(3, 3, state="active")) == (
        (Button(text=PREV, data="a:users:active:2"),),
    )
    assert [b.text for b in users_keyboard(page(2, 3))[0]] == [PREV, NEXT]


def test_a_single_page_has_no_keyboard() -> None:
    assert users_keyboard(page(1, 1)) == ()


def test_the_keyboard_buttons_lead_to_the_neighbouring_pages() -> None:
    prev, nxt = users_keyboard(page(2, 3, state="pending"))[0]

    assert [parse_button(b.data) for b in (prev, nxt)] == [
        parse_button("a:users:pending:1"),
        parse_button("a:users:pending:3"),
    ]


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (20, 1), (21, 2), (45, 3), (60, 3)])
def test_pages_hold_twenty_users(total: int, pages: int) -> None:
    assert page_count(total) == pages


def test_a_page_past_the_end_shows_the_last_one_and_offsets_follow_pages() -> None:
    assert clamp_page(9, total=45) == 3
    assert clamp_page(0, total=45) == 1
    assert clamp_page(5, total=0) == 1
    assert [offset_of(n) for n in (1, 2, 3)] == [0, 20, 40]


def test_counts_are_taken_per_state_or_in_all() -> None:
    counts = UserCounts(pending=1, active=2, blocked=3)

    assert [count_in(counts, s) for s in (None, "pending", "active", "blocked")] == [6, 1, 2, 3]
