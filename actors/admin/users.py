"""``/admin users``: one page of users as text, and the Prev / Next keyboard under it.

Pages count from 1. A page asked for past the end shows the last one, so a stale Next
pressed after users were removed still lands somewhere sensible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgspec

from actors.admin.commands import users_page_data
from actors.telegram.messages import Button, Keyboard
from storage import User, UserCounts, UserState

PAGE_SIZE: Final = 20
PREV: Final = "‹ Prev"  # noqa: RUF001 - the angle quote is meant
NEXT: Final = "Next ›"  # noqa: RUF001 - the angle quote is meant


class UsersPage(msgspec.Struct, frozen=True, kw_only=True):
    """Page ``page`` of ``pages`` of the ``total`` users in ``state`` (None: all users)."""

    state: UserState | None
    page: int
    pages: int
    total: int
    users: tuple[User, ...]


def count_in(counts: UserCounts, state: UserState | None) -> int:
    """How many users are in ``state`` (all of them for None)."""
    if state is None:
        return counts.total
    return {"pending": counts.pending, "active": counts.active, "blocked": counts.blocked}[state]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for ``total`` users; at least one, which may be empty."""
    return max(1, -(-total // size))


def clamp_page(page: int, total: int, size: int = PAGE_SIZE) -> int:
    """``page`` brought within 1..page_count(total)."""
    return min(max(page, 1), page_count(total, size))


def offset_of(page: int, size: int = PAGE_SIZE) -> int:
    """The index of the first user on ``page``."""
    return (page - 1) * size


def render_users_page(page: UsersPage) -> str:
    """A header, then one line per user: id · name (@username) · state."""
    which = page.state or "all"
    if not page.users:
        return "No users yet." if page.state is None else f"No {page.state} users."
    header = f"Users ({which}): {page.total} · page {page.page}/{page.pages}"
    return "\n".join([header, *(_user_line(user) for user in page.users)])


def pager_keyboard(page: int, pages: int, data_of: Callable[[int], str]) -> Keyboard:
    """One row with :data:`PREV` and/or :data:`NEXT` as ``page`` has neighbours; else none.

    ``data_of`` writes a page number's callback data (users' or groups' pages).
    """
    row: list[Button] = []
    if page > 1:
        row.append(Button(text=PREV, data=data_of(page - 1)))
    if page < pages:
        row.append(Button(text=NEXT, data=data_of(page + 1)))
    return (tuple(row),) if row else ()


def users_keyboard(page: UsersPage) -> Keyboard:
    """The Prev / Next row under a page of users."""
    return pager_keyboard(page.page, page.pages, lambda n: users_page_data(page.state, n))


def _user_line(user: User) -> str:
    name = f"{user.first_name} (@{user.username})" if user.username else user.first_name
    admin = " · admin" if user.is_admin else ""
    return f"{user.id} · {name} · {user.state}{admin}"
