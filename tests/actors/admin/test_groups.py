from __future__ import annotations

from actors.admin.commands import parse_button
from actors.admin.groups import GroupsPage, groups_keyboard, render_groups_page
from actors.admin.users import NEXT, PREV
from storage import Chat, ChatSettings, GroupAccess


def _group(
    chat_id: int, title: str | None, access: GroupAccess | None, added_by: int | None
) -> Chat:
    return Chat(
        chat_id=chat_id,
        kind="supergroup",
        title=title,
        settings=ChatSettings(),
        created_at=0.0,
        updated_at=0.0,
        access=access,
        added_by=added_by,
    )


def _page(number: int, pages: int, access: GroupAccess | None = None) -> GroupsPage:
    return GroupsPage(
        access=access,
        page=number,
        pages=pages,
        total=45,
        groups=(
            _group(-100777, "Team", "pending", 2002),
            _group(-5, None, None, None),
        ),
    )


def test_a_page_lists_one_group_a_line_with_its_access_and_who_added_the_bot() -> None:
    assert render_groups_page(_page(1, 3)).splitlines() == [
        "Groups (all): 45 · page 1/3",
        "-100777 · Team · pending · added by 2002",
        "-5 · (no title) · no decision (per user)",
    ]


def test_an_empty_list_says_so() -> None:
    empty = GroupsPage(access="left", page=1, pages=1, total=0, groups=())

    assert render_groups_page(empty) == "No left groups."


def test_the_keyboard_leads_to_the_neighbouring_pages_of_the_same_access() -> None:
    [row] = groups_keyboard(_page(2, 3, "pending"))

    assert [button.text for button in row] == [PREV, NEXT]
    assert [parse_button(button.data) for button in row] == [
        parse_button("a:groups:pending:1"),
        parse_button("a:groups:pending:3"),
    ]
    assert groups_keyboard(_page(1, 1)) == ()
