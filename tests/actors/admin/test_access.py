from __future__ import annotations

from actors.admin.access import Decision, chats_to_tell, decide, decide_group
from actors.chat import texts
from storage import Chat, ChatKind, ChatSettings, GroupAccess
from tests.actors.admin.support import node, snapshot, user

ADMINS = frozenset({1000})


def test_approving_a_pending_user_makes_them_active_and_tells_them() -> None:
    decision = decide("approve", 2001, user(2001), admin_ids=ADMINS)

    assert decision == Decision(
        verdict="✅ Approved Alice (2001).", state="active", notice=texts.ACCESS_APPROVED
    )


def test_rejecting_blocks_with_the_declined_wording() -> None:
    decision = decide("reject", 2001, user(2001), admin_ids=ADMINS)

    assert (decision.state, decision.notice) == ("blocked", texts.ACCESS_DECLINED)
    assert "Declined Alice" in decision.verdict


def test_blocking_is_silent_for_the_user() -> None:
    decision = decide("block", 2001, user(2001, state="active"), admin_ids=ADMINS)

    assert (decision.state, decision.notice) == ("blocked", None)
    assert "Blocked Alice" in decision.verdict


def test_unblocking_restores_access_and_says_so() -> None:
    decision = decide("unblock", 2001, user(2001, state="blocked"), admin_ids=ADMINS)

    assert (decision.state, decision.notice) == ("active", texts.ACCESS_RESTORED)


def test_nothing_changes_for_someone_who_never_wrote() -> None:
    assert decide("approve", 5, None, admin_ids=ADMINS) == Decision(
        verdict="No user with id 5 has asked for access."
    )


def test_nothing_changes_when_the_user_is_already_there() -> None:
    decision = decide("block", 2001, user(2001, state="blocked"), admin_ids=ADMINS)

    assert decision == Decision(verdict="Alice (2001) is already blocked.")


def test_a_pending_request_is_not_unblocked() -> None:
    decision = decide("unblock", 2001, user(2001), admin_ids=ADMINS)

    assert decision.state is None
    assert "pending" in decision.verdict


def test_admins_cannot_be_shut_out() -> None:
    admin = user(1000, "Ada", state="active", is_admin=True)

    assert decide("block", 1000, admin, admin_ids=ADMINS).state is None
    assert decide("reject", 1000, admin, admin_ids=ADMINS).state is None


def test_the_users_own_chat_and_live_group_chats_are_told() -> None:
    tree = node(
        "/",
        node("/storage"),
        node("/sessions", node("/sessions/2001"), node("/sessions/-100123"), node("/sessions/7")),
    )

    assert chats_to_tell(snapshot(tree), "/sessions", 2001) == (2001, -100123)


def test_the_users_own_chat_is_told_even_when_its_session_is_not_alive() -> None:
    assert chats_to_tell(snapshot(node("/", node("/sessions"))), "/sessions", 42) == (42,)
    assert chats_to_tell(snapshot(None), "/sessions", 42) == (42,)


def _group(access: GroupAccess | None, *, kind: ChatKind = "supergroup") -> Chat:
    return Chat(
        chat_id=-100777,
        kind=kind,
        title="Team",
        settings=ChatSettings(),
        created_at=0.0,
        updated_at=0.0,
        access=access,
    )


def test_approving_a_pending_group_makes_it_active_and_tells_the_group() -> None:
    decision = decide_group("approve", -100777, _group("pending"))

    assert decision == Decision(
        verdict="✅ Approved Team (-100777).", state="active", notice=texts.GROUP_APPROVED
    )


def test_a_group_from_before_group_access_can_be_decided_on() -> None:
    decision = decide_group("reject", -100777, _group(None))

    assert (decision.state, decision.notice) == ("blocked", texts.GROUP_DECLINED)


def test_a_group_the_bot_left_is_decided_on_but_not_told() -> None:
    decision = decide_group("approve", -100777, _group("left"))

    assert (decision.state, decision.notice) == ("active", None)


def test_blocking_a_group_is_silent_and_unblocking_needs_a_blocked_group() -> None:
    assert decide_group("block", -100777, _group("active")).notice is None
    assert decide_group("unblock", -100777, _group("pending")) == Decision(
        verdict="Team (-100777) is not blocked."
    )
    assert decide_group("reject", -100777, _group("blocked")).state is None


def test_nothing_changes_for_a_group_never_seen_or_a_private_chat() -> None:
    assert decide_group("approve", -5, None) == Decision(verdict="No group with id -5 is known.")
    assert decide_group("approve", -5, _group(None, kind="private")).state is None
