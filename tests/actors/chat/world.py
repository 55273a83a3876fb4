"""A small world for chat-session tests: real sessions and storage, a recorder for the rest.

The gateway, the admin actor and the one provider (``deepseek``) are one recorder actor
each, made by ``recorder`` (a factory of ``ActorContext``), so a test reads what a session
sent where; storage is the real actor on a temporary file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from actors.chat.session import ChatSession, SessionSettings
from actors.llm.provider import Generate
from actors.storage import StorageActor
from actors.telegram.messages import SendText, ShowTyping, UpdateHandled
from runtime import (
    Actor,
    ActorContext,
    ActorSystem,
    AsyncLoop,
    ChildSpec,
    PoolSpec,
    SupervisorSpec,
    pool,
    receive,
)
from tests.actors.admin.test_actor import Journal


class Recorder(Actor):
    """Stands in for the gateway, the admin actor and the provider."""

    def __init__(self, context: ActorContext, journal: Journal) -> None:
        super().__init__(context)
        self._journal = journal

    @receive
    def on_message(self, message: SendText | ShowTyping | UpdateHandled | Generate) -> None:
        self._journal.record(self.context.path, message)


@contextmanager
def sessions_world(
    database: Path,
    settings: SessionSettings,
    recorder: Callable[[ActorContext], Actor],
    *,
    loop: AsyncLoop | None = None,
) -> Iterator[ActorSystem]:
    """A started system with ``/storage``, ``/gateway``, ``/admin``, ``/deepseek`` and the
    ``/sessions`` pool (never passivated); shut down on exit. With ``loop``, sessions take
    what they can from it (``Actor.serve_idle_on_loop``)."""
    system = ActorSystem()
    system.start(
        SupervisorSpec(
            children=(
                ChildSpec(name="storage", factory=partial(StorageActor, path=database)),
                ChildSpec(name="gateway", factory=recorder),
                ChildSpec(name="admin", factory=recorder),
                ChildSpec(name="deepseek", factory=recorder),
                pool(
                    "sessions",
                    PoolSpec(
                        factory=partial(
                            ChatSession,
                            settings=settings,
                            storage=system.address("/storage"),
                            gateway=system.address("/gateway"),
                            admin=system.address("/admin"),
                            providers={"deepseek": system.address("/deepseek")},
                            loop=loop,
                        ),
                        idle_after=None,
                    ),
                ),
            )
        )
    )
    try:
        yield system
    finally:
        system.shutdown()
