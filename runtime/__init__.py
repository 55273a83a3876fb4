"""A supervised actor runtime on pykka: addresses, supervisors, keyed pools, introspection.

Read ``docs/runtime.md`` for the model in one page. Everything public is listed here.
"""

from runtime._actor import Actor, ActorContext, receive
from runtime._address import Address
from runtime._asyncio import AsyncLoop
from runtime._cell import LifecycleState
from runtime._deadletters import DeadLetter
from runtime._exceptions import (
    ActorNotFound,
    ActorStopped,
    ActorSystemError,
    AskTimeout,
    ChildStartFailed,
    Escalated,
    PoisonMessage,
    UnhandledMessage,
)
from runtime._message import DeliveryFailed, Message, current_correlation_id
from runtime._pool import KeyedPool, PoolSpec, pool
from runtime._snapshot import (
    ActorSnapshot,
    MessageStamp,
    SystemSnapshot,
    paginate,
    render_actor,
    render_dead_letters,
    render_tree,
)
from runtime._stats import FailureInfo
from runtime._supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    Strategy,
    Supervisor,
    SupervisorSpec,
    supervisor,
)
from runtime._system import ActorSystem
from runtime._timers import TimerHandle

__all__ = [
    "Actor",
    "ActorContext",
    "ActorNotFound",
    "ActorSnapshot",
    "ActorStopped",
    "ActorSystem",
    "ActorSystemError",
    "Address",
    "AskTimeout",
    "AsyncLoop",
    "Backoff",
    "ChildSpec",
    "ChildStartFailed",
    "DeadLetter",
    "DeliveryFailed",
    "Escalated",
    "FailureInfo",
    "KeyedPool",
    "LifecycleState",
    "Message",
    "MessageStamp",
    "PoisonMessage",
    "PoolSpec",
    "Restart",
    "Strategy",
    "Supervisor",
    "SupervisorSpec",
    "SystemSnapshot",
    "TimerHandle",
    "UnhandledMessage",
    "current_correlation_id",
    "paginate",
    "pool",
    "receive",
    "render_actor",
    "render_dead_letters",
    "render_tree",
    "supervisor",
]
