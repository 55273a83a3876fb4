from __future__ import annotations

import pytest

from actors.admin.commands import (
    AdminRequest,
    ChangeAccess,
    RunRefresh,
    SetTier,
    ShowActor,
    ShowDeadLetters,
    ShowGroups,
    ShowHealth,
    ShowModels,
    ShowStats,
    ShowTree,
    ShowUsage,
    ShowUsers,
    ShowUserUsage,
    access_data,
    groups_page_data,
    normalize_path,
    parse_button,
    parse_command,
    requires_elevation,
    users_page_data,
)


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("admin", ["stats"], ShowStats()),
        ("admin", ["STATS"], ShowStats()),
        ("admin", ["models"], ShowModels()),
        ("admin", ["health"], ShowHealth()),
        ("admin", ["Health"], ShowHealth()),
        ("admin", ["users"], ShowUsers()),
        ("admin", ["users", "pending"], ShowUsers(state="pending")),
        ("admin", ["users", "Blocked", "3"], ShowUsers(state="blocked", page=3)),
        ("admin", ["users", "2"], ShowUsers(page=2)),
        ("admin", ["users", "all", "2"], ShowUsers(page=2)),
        ("admin", ["approve", "2001"], ChangeAccess(action="approve", user_id=2001)),
        ("admin", ["reject", "2001"], ChangeAccess(action="reject", user_id=2001)),
        ("admin", ["block", "2001"], ChangeAccess(action="block", user_id=2001)),
        ("admin", ["Unblock", "2001"], ChangeAccess(action="unblock", user_id=2001)),
        ("admin", ["approve", "-100777"], ChangeAccess(action="approve", user_id=-100777)),
        ("admin", ["reject", "-5"], ChangeAccess(action="reject", user_id=-5)),
        ("admin", ["groups"], ShowGroups()),
        ("admin", ["groups", "Pending", "2"], ShowGroups(access="pending", page=2)),
        ("admin", ["groups", "left"], ShowGroups(access="left")),
        ("admin", ["tier", "2001", "vip"], SetTier(user_id=2001, tier="vip")),
        ("admin", ["Tier", "2001", "VIP"], SetTier(user_id=2001, tier="vip")),
        ("admin", ["usage", "2001"], ShowUserUsage(user_id=2001)),
        ("debug", ["tree"], ShowTree()),
        ("debug", ["actor", "/storage"], ShowActor(path="/storage")),
        ("debug", ["actor", "io/gateway/"], ShowActor(path="/io/gateway")),
        ("debug", ["deadletters"], ShowDeadLetters()),
        ("debug", ["dead-letters"], ShowDeadLetters()),
    ],
)
def test_commands_are_read_into_requests(
    command: str, args: list[str], expected: AdminRequest
) -> None:
    assert parse_command(command, args) == expected


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("admin", []),
        ("admin", ["frobnicate"]),
        ("admin", ["stats", "now"]),
        ("admin", ["approve"]),
        ("admin", ["approve", "alice"]),
        ("admin", ["approve", "--5"]),
        ("admin", ["approve", "-0"]),
        ("admin", ["approve", "-"]),
        ("admin", ["groups", "sleeping"]),
        ("admin", ["approve", "²"]),
        ("admin", ["approve", "1", "2"]),
        ("admin", ["users", "sleeping"]),
        ("admin", ["users", "pending", "0"]),
        ("admin", ["users", "pending", "2", "more"]),
        ("admin", ["tier", "2001"]),
        ("admin", ["tier", "alice", "vip"]),
        ("admin", ["tier", "2001", "vip", "now"]),
        ("admin", ["usage"]),
        ("admin", ["usage", "alice"]),
        ("debug", []),
        ("debug", ["actor"]),
        ("debug", ["tree", "deep"]),
        ("other", ["stats"]),
    ],
)
def test_anything_else_asks_for_the_usage(command: str, args: list[str]) -> None:
    assert parse_command(command, args) == ShowUsage()


def test_button_data_reads_back_as_the_request_it_was_written_for() -> None:
    assert parse_button(access_data("approve", 2001)) == ChangeAccess(
        action="approve", user_id=2001
    )
    assert parse_button(access_data("reject", 7)) == ChangeAccess(action="reject", user_id=7)
    assert parse_button(users_page_data("pending", 3)) == ShowUsers(state="pending", page=3)
    assert parse_button(users_page_data(None, 2)) == ShowUsers(page=2)
    assert parse_button(access_data("approve", -100777)) == ChangeAccess(
        action="approve", user_id=-100777
    )
    assert parse_button(groups_page_data("pending", 2)) == ShowGroups(access="pending", page=2)
    assert parse_button(groups_page_data(None, 1)) == ShowGroups()


@pytest.mark.parametrize(
    "data",
    [
        "m:abc",
        "a:",
        "a:approve",
        "a:approve:x",
        "a:nuke:1",
        "a:users:x:1",
        "a:users:all",
        "a:groups:x:1",
    ],
)
def test_button_data_this_module_never_wrote_means_nothing(data: str) -> None:
    assert parse_button(data) is None


def test_button_data_fits_telegrams_64_bytes_even_at_the_extremes() -> None:
    longest_id = 2**63 - 1
    assert len(access_data("unblock", longest_id).encode()) <= 64
    assert len(access_data("unblock", -longest_id).encode()) <= 64
    assert len(groups_page_data("blocked", 10**9).encode()) <= 64
    assert len(users_page_data("blocked", 10**9).encode()) <= 64


@pytest.mark.parametrize(
    ("raw", "path"), [("storage", "/storage"), ("/io/gateway/", "/io/gateway"), ("/", "/")]
)
def test_actor_paths_are_written_as_the_runtime_writes_them(raw: str, path: str) -> None:
    assert normalize_path(raw) == path


@pytest.mark.parametrize("args", [["refresh"], ["Refresh"]])
def test_admin_refresh_is_read_as_run_refresh(args: list[str]) -> None:
    assert parse_command("admin", args) == RunRefresh()


def test_admin_refresh_with_extra_words_asks_for_the_usage() -> None:
    assert parse_command("admin", ["refresh", "now"]) == ShowUsage()


def test_a_tier_change_needs_a_login_and_reading_usage_does_not() -> None:
    assert requires_elevation(SetTier(user_id=2001, tier="vip"))
    assert not requires_elevation(ShowUserUsage(user_id=2001))
