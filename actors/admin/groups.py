"""``/admin groups``: one page of groups as text, and the Prev / Next keyboard under it.

Pages work as in ``/admin users`` (:mod:`actors.admin.users`): they count from 1, and a
page asked for past the end shows the last one.
"""

from __future__ import annotations

import msgspec

from actors.admin.commands import groups_page_data
from actors.admin.users import NEXT, PREV
from actors.telegram.messages import Button, Keyboard
from storage import Chat, GroupAccess


class GroupsPage(msgspec.Struct, frozen=True, kw_only=True):
    """Page ``page`` of ``pages`` of the ``total`` groups in ``access`` (None: all groups)."""

    access: GroupAccess | None
    page: int
    pages: int
    total: int
    groups: tuple[Chat, ...]


def render_groups_page(page: GroupsPage) -> str:
    """A header, then one line per group: id · title · access (and who added the bot)."""
    if not page.groups:
        return "No groups yet." if page.access is None else f"No {page.access} groups."
    header = f"Groups ({page.access or 'all'}): {page.total} · page {page.page}/{page.pages}"
    return "\n".join([header, *(_group_line(group) for group in page.groups)])


def groups_keyboard(page: GroupsPage) -> Keyboard:
    """One row with Prev and/or Next as the page has neighbours; else no keyboard."""
    row: list[Button] = []
    if page.page > 1:
        row.append(Button(text=PREV, data=groups_page_data(page.access, page.page - 1)))
    if page.page < page.pages:
        row.append(Button(text=NEXT, data=groups_page_data(page.access, page.page + 1)))
    return (tuple(row),) if row else ()


def _group_line(group: Chat) -> str:
    # No state: a group from before group access, where each member's own access applies.
    access = group.access or "no decision (per user)"
    added = f" · added by {group.added_by}" if group.added_by is not None else ""
    return f"{group.chat_id} · {group.title or '(no title)'} · {access}{added}"
