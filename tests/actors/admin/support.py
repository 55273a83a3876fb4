"""Records to feed the admin's plain functions: users, snapshots, model cache entries."""

from __future__ import annotations

from runtime import ActorSnapshot, DeadLetter, SystemSnapshot
from storage import User, UserState

NOW = 1_700_000_000.0


def user(
    user_id: int,
    first_name: str = "Alice",
    *,
    username: str | None = None,
    state: UserState = "pending",
    is_admin: bool = False,
) -> User:
    return User(
        id=user_id,
        first_name=first_name,
        username=username,
        state=state,
        is_admin=is_admin,
        requested_at=NOW,
        decided_at=None,
        decided_by=None,
    )


def node(
    path: str, *children: ActorSnapshot, restarts_last_hour: int = 0, processed: int = 0
) -> ActorSnapshot:
    return ActorSnapshot(
        path=path,
        actor_class="Fake",
        role="actor",
        state="running",
        mailbox_depth=0,
        processed=processed,
        failures=0,
        restarts=restarts_last_hour,
        last_failure=None,
        uptime_s=10.0,
        since_last_message_s=None,
        recent=(),
        p50_ms=0.0,
        p99_ms=0.0,
        restarts_last_hour=restarts_last_hour,
        children=children,
    )


def snapshot(
    root: ActorSnapshot | None,
    *,
    uptime_s: float = 5.0,
    dead_letters: tuple[DeadLetter, ...] = (),
) -> SystemSnapshot:
    count = 0
    stack = [root] if root else []
    while stack:
        current = stack.pop()
        count += 1
        stack.extend(current.children)
    return SystemSnapshot(
        taken_at=NOW,
        uptime_s=uptime_s,
        actor_count=count,
        dead_letter_total=len(dead_letters),
        root=root,
        dead_letters=dead_letters,
    )
