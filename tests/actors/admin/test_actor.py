"""The admin actor in a small tree: real storage, a fake gateway and fake sessions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from actors.admin.actor import AdminActor, AdminSettings
from actors.admin.messages import AdminButton, AdminCommand
from actors.chat import texts
from actors.chat.messages import AccessChanged, UserRef
from actors.storage import GetUser, RegisterUser, StorageActor
from actors.telegram.messages import AnswerButton, EditText, SendText
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    Address,
    ChildSpec,
    Message,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
)
from storage import User

ADMIN = UserRef(id=1000, first_name="Ada")
ALICE = UserRef(id=2001, first_name="Alice")
SETTINGS = AdminSettings(
    admin_ids=frozenset({ADMIN.id}),
    default_provider="deepseek",
    provider_models={"deepseek": "deepseek-chat"},
    storage_timeout=5.0,
)


class Journal:
    """What the fakes were told, by path, in order; tests wait on it."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, Message]] = []
        self._cond = threading.Condition()

    def record(self, path: str, message: Message) -> None:
        with self._cond:
            self._seen.append((path, message))
            self._cond.notify_all()

    def to(self, path: str) -> list[Message]:
        with self._cond:
            return [message for where, message in self._seen if where == path]

    def wait_for(self, path: str, predicate: Callable[[Message], bool]) -> Message:
        deadline = time.monotonic() + 10.0
        with self._cond:
            while True:
                for where, message in self._seen:
                    if where == path and predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing matching for {path}; seen {self._seen}")
                self._cond.wait(left)


class Fake(Actor):
    """Stands in for the gateway and for chat sessions: records what it is told."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self._journal = journal

    @receive
    def on_message(self, message: SendText | EditText | AnswerButton | AccessChanged) -> None:
        self._journal.record(self.context.path, message)


def text_to(chat_id: int, containing: str) -> Callable[[Message], bool]:
    return lambda m: isinstance(m, SendText) and m.chat_id == chat_id and containing in m.text


@pytest.fixture
def journal() -> Journal:
    return Journal()


def tree(system: ActorSystem, journal: Journal, database: Path | None) -> SupervisorSpec:
    """Storage (left out when ``database`` is None), gateway, sessions and the admin actor."""
    fake = partial(Fake, journal=journal)
    storage = (
        (ChildSpec(name="storage", factory=partial(StorageActor, path=database)),)
        if database is not None
        else ()
    )
    return SupervisorSpec(
        children=(
            *storage,
            ChildSpec(name="gateway", factory=fake),
            pool("sessions", PoolSpec(factory=fake, idle_after=None)),
            ChildSpec(
                name="admin",
                factory=partial(
                    AdminActor,
                    settings=SETTINGS,
                    storage=system.address("/storage"),
                    gateway=system.address("/gateway"),
                    sessions=system.address("/sessions"),
                    snapshot=system.snapshot,
                ),
            ),
        )
    )


@pytest.fixture
def system(tmp_path: Path, journal: Journal) -> Iterator[ActorSystem]:
    actor_system = ActorSystem()
    actor_system.start(tree(actor_system, journal, tmp_path / "bot.db"))
    try:
        yield actor_system
    finally:
        actor_system.shutdown()


@pytest.fixture
def storage(system: ActorSystem) -> Address:
    return system.address("/storage")


@pytest.fixture
def admin_actor(system: ActorSystem) -> Address:
    return system.address("/admin")


def register(storage: Address, user_id: int, name: str) -> None:
    storage.ask(RegisterUser(user_id=user_id, first_name=name, username=None), timeout=5.0)


def state_of(storage: Address, user_id: int) -> str:
    user: User = storage.ask(GetUser(user_id=user_id), timeout=5.0)
    return user.state


def command(user: UserRef, *args: str, name: str = "admin") -> AdminCommand:
    return AdminCommand(chat_id=user.id, message_id=1, user=user, command=name, args=args)


def test_a_non_admin_is_refused_and_nothing_changes(
    storage: Address, admin_actor: Address, journal: Journal
) -> None:
    register(storage, ALICE.id, "Alice")
    admin_actor.tell(command(ALICE, "approve", "2001"))

    journal.wait_for("/gateway", text_to(ALICE.id, texts.ADMINS_ONLY))
    assert state_of(storage, ALICE.id) == "pending"
    assert journal.to("/sessions/2001") == []


def test_a_block_is_stored_told_to_the_users_session_and_not_to_the_user(
    storage: Address, admin_actor: Address, journal: Journal
) -> None:
    register(storage, ALICE.id, "Alice")
    admin_actor.tell(command(ADMIN, "block", "2001"))

    journal.wait_for("/gateway", text_to(ADMIN.id, "Blocked Alice (2001)"))
    # Told to the session and to the gateway separately: either may arrive first.
    blocked = AccessChanged(user_id=ALICE.id, state="blocked")
    journal.wait_for("/sessions/2001", lambda message: message == blocked)
    assert state_of(storage, ALICE.id) == "blocked"
    assert journal.to("/sessions/2001") == [blocked]
    assert not [m for m in journal.to("/gateway") if getattr(m, "chat_id", None) == ALICE.id]


def test_an_unblocked_user_is_told(
    storage: Address, admin_actor: Address, journal: Journal
) -> None:
    register(storage, ALICE.id, "Alice")
    admin_actor.tell(command(ADMIN, "block", "2001"))
    admin_actor.tell(command(ADMIN, "unblock", "2001"))

    journal.wait_for("/gateway", text_to(ALICE.id, texts.ACCESS_RESTORED))
    assert state_of(storage, ALICE.id) == "active"


def test_the_next_page_button_edits_the_list_in_place(
    storage: Address, admin_actor: Address, journal: Journal
) -> None:
    for n in range(25):
        register(storage, 3000 + n, f"User{n}")
    admin_actor.tell(
        AdminButton(
            chat_id=ADMIN.id, message_id=9, callback_id="cb", user=ADMIN, data="a:users:all:2"
        )
    )

    edit = journal.wait_for("/gateway", lambda m: isinstance(m, EditText))
    assert isinstance(edit, EditText)
    assert edit.message_id == 9
    assert edit.text.startswith("Users (all): 25 · page 2/2")
    assert len(edit.text.splitlines()) == 1 + 5
    assert [b.data for row in edit.buttons for b in row] == ["a:users:all:1"]
    journal.wait_for("/gateway", lambda m: isinstance(m, AnswerButton))


def test_when_storage_cannot_be_reached_the_admin_is_told(journal: Journal) -> None:
    system = ActorSystem()
    system.start(tree(system, journal, database=None))
    try:
        system.address("/admin").tell(command(ADMIN, "stats"))

        journal.wait_for("/gateway", text_to(ADMIN.id, "didn't work (ActorNotFound)"))
    finally:
        system.shutdown()
