"""``/admin groups``: one page of groups as text, and the Prev / Next keyboard under it.

Pages work as in ``/admin users`` (:mod:`actors.admin.users`): they count from 1, and a
page asked for past the end shows the last one.
"""

from __future__ import annotations

import msgspec

from actors.admin.commands import groups_page_data
from actors.admin.users import pager_keyboard
from actors.telegram.messages import Keyboard
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
    """The Prev / Next row under a page of groups."""
    return pager_keyboard(page.page, page.pages, lambda n: groups_page_data(page.access, n))


def _group_line(group: Chat) -> str:
    # No state: a group from before group access, where each member's own access applies.
    access = group.access or "no decision (per user)"
    added = f" · added by {group.added_by}" if group.added_by is not None else ""
    return f"{group.chat_id} · {group.title or '(no title)'} · {access}{added}"
