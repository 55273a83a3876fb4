"""The storage actor rides out a locked database instead of failing (and restarting)."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.storage import (
    AppendTurn,
    ClaimPendingUpdates,
    CountGroups,
    GetChat,
    GetLlmStats,
    GetUsage,
    GetUsageStats,
    GetUser,
    ListGroups,
    LoadContext,
    MarkUpdatesDone,
    OpenChat,
    PruneInbox,
    RecordLlmRequest,
    RecordUpdates,
    RegisterUser,
    ReleaseUsage,
    ReserveUsage,
    SetGroupAccess,
    SettleUsage,
    SetUserTier,
    StorageActor,
    UsageStats,
    WriteTogether,
)
from runtime import ActorSystem, Address, ChildSpec, SupervisorSpec
from storage import (
    BudgetExceeded,
    Chat,
    InboxUpdate,
    IncomingUpdate,
    LlmRequestStats,
    RecordNotFound,
    Reservation,
    Store,
    TierUsage,
    Turn,
    UsageTotals,
    User,
    UserUpsert,
    UserUsage,
)


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    with ActorSystem() as running:
        yield running


def test_a_write_waits_out_a_lock_longer_than_the_busy_timeout_and_nothing_restarts(
    system: ActorSystem, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(
                    name="storage",
                    factory=functools.partial(StorageActor, path=path, busy_timeout=0.2),
                ),
            )
        )
    )
    storage = system.address("/storage")
    locker = sqlite3.connect(path, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.5, locker.commit)
    release.start()
    started = time.monotonic()
    try:
        result: UserUpsert = storage.ask(
            RegisterUser(user_id=7, first_name="Ada", username=None), timeout=20
        )
    finally:
        release.join()
        locker.close()
    assert time.monotonic() - started >= 1.0
    assert result.created
    user: User | None = storage.ask(GetUser(user_id=7), timeout=5)
    assert user is not None
    assert user.first_name == "Ada"
    snapshot = system.snapshot().find("/storage")
    assert snapshot is not None
    assert snapshot.restarts == 0
    assert snapshot.failures == 0


def test_the_inbox_records_claims_and_marks_updates_through_the_actor(
    system: ActorSystem, tmp_path: Path
) -> None:
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(
                    name="storage",
                    factory=functools.partial(StorageActor, path=tmp_path / "bot.sqlite3"),
                ),
            )
        )
    )
    storage = system.address("/storage")
    batch = tuple(
        IncomingUpdate(update_id=n, chat_id=7, payload=f'{{"update_id": {n}}}') for n in (1, 2)
    )

    assert storage.ask(RecordUpdates(updates=batch, run_id="old"), timeout=5) == (1, 2)
    assert storage.ask(RecordUpdates(updates=batch[1:], run_id="old"), timeout=5) == ()
    storage.tell(MarkUpdatesDone(update_ids=(1,)))
    claimed: tuple[InboxUpdate, ...] = storage.ask(ClaimPendingUpdates(run_id="new"), timeout=5)
    assert [(u.update_id, u.run_id) for u in claimed] == [(2, "new")]
    assert storage.ask(PruneInbox(older_than=time.time() + 60), timeout=5) == 1, "the done one"


def test_an_inbox_write_does_not_wait_behind_queued_context_writes(
    system: ActorSystem, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = start_storage(system, path)
    storage.ask(OpenChat(chat_id=7, kind="private"), timeout=5)
    backlog = 3000
    for n in range(backlog):
        storage.tell(AppendTurn(chat_id=7, role="user", text=f"turn {n}", budget=1_000_000))
    batch = (IncomingUpdate(update_id=1, chat_id=7, payload='{"update_id": 1}'),)

    assert storage.ask(RecordUpdates(updates=batch, run_id="now"), timeout=5) == (1,)

    with sqlite3.connect(path) as reader:
        [(written,)] = reader.execute("SELECT count(*) FROM turns").fetchall()
    assert written < backlog, "the inbox write overtook the context writes queued before it"


def test_a_groups_access_is_set_listed_and_counted_through_the_actor(
    system: ActorSystem, tmp_path: Path
) -> None:
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(
                    name="storage",
                    factory=functools.partial(StorageActor, path=tmp_path / "bot.sqlite3"),
                ),
            )
        )
    )
    storage = system.address("/storage")

    with pytest.raises(RecordNotFound):  # answered to the asker: no restart over it
        storage.ask(SetGroupAccess(chat_id=-5, access="active", by=1000), timeout=5)
    added: Chat = storage.ask(
        SetGroupAccess(
            chat_id=-5, access="pending", by=2002, added=True, kind="supergroup", title="Team"
        ),
        timeout=5,
    )
    assert (added.access, added.added_by, added.title) == ("pending", 2002, "Team")
    storage.ask(SetGroupAccess(chat_id=-5, access="active", by=1000), timeout=5)

    chat: Chat | None = storage.ask(GetChat(chat_id=-5), timeout=5)
    assert chat is not None
    assert (chat.access, chat.decided_by) == ("active", 1000)
    listed: tuple[Chat, ...] = storage.ask(ListGroups(access="active"), timeout=5)
    assert [c.chat_id for c in listed] == [-5]
    assert storage.ask(CountGroups(access="pending"), timeout=5) == 0
    snapshot = system.snapshot().find("/storage")
    assert snapshot is not None
    assert snapshot.restarts == 0


def start_storage(system: ActorSystem, path: Path) -> Address:
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(name="storage", factory=functools.partial(StorageActor, path=path)),
            )
        )
    )
    return system.address("/storage")


def reserve(request_id: str, tokens: int, *, daily_limit: int | None = None) -> ReserveUsage:
    return ReserveUsage(
        request_id=request_id,
        user_id=7,
        tier="free",
        provider="openai",
        model="m",
        tokens=tokens,
        day_start=0.0,
        month_start=0.0,
        daily_limit=daily_limit,
        monthly_limit=None,
    )


def settle(request_id: str, tokens_in: int, tokens_out: int) -> SettleUsage:
    return SettleUsage(
        request_id=request_id,
        user_id=7,
        tier="free",
        provider="openai",
        model="m",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost=0.5,
    )


def usage(storage: Address) -> UserUsage:
    reply: UserUsage = storage.ask(GetUsage(user_id=7, day_start=0.0, month_start=0.0), timeout=5)
    return reply


def test_usage_is_reserved_settled_released_and_reported_through_the_actor(
    system: ActorSystem, tmp_path: Path
) -> None:
    storage = start_storage(system, tmp_path / "bot.sqlite3")
    storage.ask(RegisterUser(user_id=7, first_name="Ada", username=None), timeout=5)

    held = storage.ask(reserve("r1", 800, daily_limit=1000), timeout=5)
    refused = storage.ask(reserve("r2", 300, daily_limit=1000), timeout=5)
    storage.tell(settle("r1", 100, 50))
    storage.ask(reserve("r3", 400), timeout=5)
    storage.tell(ReleaseUsage(request_id="r3"))
    tiered: User = storage.ask(SetUserTier(user_id=7, tier="pro"), timeout=5)
    stats: UsageStats = storage.ask(GetUsageStats(since=0.0), timeout=5)

    assert held == Reservation(request_id="r1", user_id=7, tokens=800)
    assert refused == BudgetExceeded(period="day", used=800, limit=1000, needed=300)
    assert tiered.tier == "pro"
    assert usage(storage) == UserUsage(
        user_id=7,
        tier="pro",
        day=UsageTotals(tokens=150, cost=0.5, requests=1),
        month=UsageTotals(tokens=150, cost=0.5, requests=1),
    )
    assert stats.tiers == (TierUsage(tier="free", users=1, tokens=150, cost=0.5, requests=1),)
    assert [(u.user_id, u.first_name, u.tokens) for u in stats.top_users] == [(7, "Ada", 150)]


def test_an_answers_writes_land_together_and_its_context_is_trimmed_to_budget(
    system: ActorSystem, tmp_path: Path
) -> None:
    storage = start_storage(system, tmp_path / "bot.sqlite3")
    storage.ask(OpenChat(chat_id=7, kind="private"), timeout=5)
    storage.tell(AppendTurn(chat_id=7, role="user", text="an old question", budget=100, tokens=60))

    storage.tell(
        WriteTogether(
            writes=(
                AppendTurn(chat_id=7, role="user", text="question", budget=100, tokens=20),
                AppendTurn(chat_id=7, role="assistant", text="answer", budget=100, tokens=30),
                settle("r1", 100, 50),
                RecordLlmRequest(
                    chat_id=7,
                    user_id=7,
                    provider="openai",
                    model="m",
                    tokens_in=100,
                    tokens_out=50,
                    latency_ms=5,
                    status="ok",
                ),
            )
        )
    )

    turns: tuple[Turn, ...] = storage.ask(LoadContext(chat_id=7, topic_id=0), timeout=5)
    assert [turn.text for turn in turns] == ["question", "answer"], "the old turn is over budget"
    assert usage(storage).day.tokens == 150
    stats: LlmRequestStats = storage.ask(GetLlmStats(since=0.0), timeout=5)
    assert (stats.ok, stats.tokens_out) == (1, 50)


def test_setting_the_tier_of_an_unknown_user_is_answered_without_a_restart(
    system: ActorSystem, tmp_path: Path
) -> None:
    storage = start_storage(system, tmp_path / "bot.sqlite3")

    with pytest.raises(RecordNotFound):
        storage.ask(SetUserTier(user_id=404, tier="pro"), timeout=5)

    snapshot = system.snapshot().find("/storage")
    assert snapshot is not None
    assert snapshot.restarts == 0


def test_a_reservation_left_in_the_file_is_released_when_the_actor_starts(
    system: ActorSystem, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    with Store.open(path) as store:  # a process killed between reserve and settle
        store.reserve_usage(
            request_id="killed",
            user_id=7,
            tier="free",
            provider="openai",
            model="m",
            tokens=900,
            day_start=0.0,
            month_start=0.0,
            daily_limit=None,
            monthly_limit=None,
        )

    storage = start_storage(system, path)

    assert usage(storage).day == UsageTotals(tokens=0, cost=0.0, requests=0)
    assert isinstance(storage.ask(reserve("next", 900, daily_limit=1000), timeout=5), Reservation)
    storage.tell(settle("killed", 1, 2))  # the call did finish after all: still recorded
    assert usage(storage).day == UsageTotals(tokens=903, cost=0.5, requests=1)
