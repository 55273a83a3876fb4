"""The supervision tree: the one place where the bot's actors are wired together.

::

    /                 one_for_one   independent subsystems
    ├── storage       StorageActor  the single SQLite writer
    ├── sessions      KeyedPool     one ChatSession per chat, passivated when idle
    ├── admin         AdminActor    /admin and /debug commands, access decisions
    ├── io            rest_for_one  everything bound to the shared event loop
    │   ├── loop        LoopKeeper    the event-loop thread
    │   ├── providers   one_for_one   one ProviderActor per configured provider
    │   └── gateway     Gateway       Telegram: polling and the paced outbox
    ├── catalog       ModelCatalog  refreshes the providers' model lists, reports changes
    ├── scheduler     SchedulerActor  persistent APScheduler jobs, delivered as JobDue
    ├── health        HealthSupervisor  checks storage, Telegram, providers, tree, process
    └── ops           OpsActor      the ops HTTP endpoint (absent when [ops] listen = "")

Children start top to bottom and stop bottom to top, so the gateway starts last and
stops first. docs/architecture.md says why each strategy was chosen.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from actors.admin.actor import AdminActor, AdminSettings
from actors.chat.files import FileSettings
from actors.chat.session import ChatSession, SessionSettings
from actors.config import Config
from actors.health import HealthSupervisor
from actors.llm.catalog import REFRESH_TOPIC, ModelCatalog
from actors.llm.provider import ProviderActor
from actors.loop import LoopKeeper
from actors.ops import OpsActor
from actors.scheduler.actor import SchedulerActor, SchedulerSettings
from actors.scheduler.messages import Cron, Schedule
from actors.scheduler.triggers import jobstore_path
from actors.storage import RETENTION_TOPIC, StorageActor
from actors.telegram.gateway import Gateway
from actors.usage import UsagePolicy
from runtime import (
    ActorSystem,
    Address,
    AsyncLoop,
    Backoff,
    ChildSpec,
    PoolSpec,
    Strategy,
    SupervisorSpec,
    pool,
    supervisor,
)


@dataclass(frozen=True, kw_only=True)
class BotAddresses:
    """Where the top-level actors live, for main.py's graceful shutdown and for tests."""

    storage: Address
    sessions: Address
    admin: Address
    gateway: Address
    health: Address
    catalog: Address
    scheduler: Address
    providers: Mapping[str, Address]  # read-only: shared by every session


def addresses(system: ActorSystem, config: Config) -> BotAddresses:
    return BotAddresses(
        storage=system.address("/storage"),
        sessions=system.address("/sessions"),
        admin=system.address("/admin"),
        gateway=system.address("/io/gateway"),
        health=system.address("/health"),
        catalog=system.address("/catalog"),
        scheduler=system.address("/scheduler"),
        providers=MappingProxyType(
            {name: system.address(f"/io/providers/{name}") for name in config.usable_providers()}
        ),
    )


def scheduler_settings(config: Config) -> SchedulerSettings:
    """The scheduler's settings, with the standing jobs: model refresh and retention."""
    jobs = config.scheduler
    return SchedulerSettings(
        jobstore=jobstore_path(config.storage.path),
        timezone=jobs.timezone,
        misfire_grace_seconds=jobs.misfire_grace_seconds,
        standing=(
            Schedule(
                job_id="refresh_models",
                trigger=Cron(expression=jobs.refresh_cron),
                target="/catalog",
                topic=REFRESH_TOPIC,
            ),
            Schedule(
                job_id="retention",
                trigger=Cron(expression=jobs.retention_cron),
                target="/storage",
                topic=RETENTION_TOPIC,
            ),
        ),
    )


def bot_tree(config: Config, system: ActorSystem, loop: AsyncLoop) -> SupervisorSpec:
    """The root supervisor's spec for ``config``."""
    where = addresses(system, config)
    providers = config.usable_providers()
    usage = UsagePolicy.from_config(config)
    session_settings = SessionSettings(
        admin_ids=frozenset(config.telegram.admin_ids),
        default_provider=config.llm.default_provider,
        provider_models={name: p.default_model for name, p in providers.items()},
        system_prompt=config.llm.system_prompt,
        modes=config.chat_modes(),
        default_mode=config.default_mode(),
        context_budget=config.llm.context_token_budget,
        edit_interval=config.telegram.edit_interval,
        usage=usage,
    )
    file_settings = FileSettings(
        limits=config.files,
        files_dir=config.storage.files_dir,
        providers=providers,
        # Extracted text must leave room in the context for the conversation around it.
        max_text_tokens=min(config.files.max_text_tokens, config.llm.context_token_budget * 2 // 3),
    )
    sessions = PoolSpec(
        factory=functools.partial(
            ChatSession,
            settings=session_settings,
            storage=where.storage,
            gateway=where.gateway,
            admin=where.admin,
            providers=where.providers,
            files=file_settings,
            loop=loop,
        ),
        idle_after=config.sessions.idle_seconds,
        max_alive=config.sessions.max_alive,
        poison_after=config.sessions.poison_after,
    )
    admin_settings = AdminSettings(
        admin_ids=session_settings.admin_ids,
        default_provider=config.llm.default_provider,
        provider_models=session_settings.provider_models,
        usage=usage,
    )
    provider_children = tuple(
        ChildSpec(
            name=name,
            factory=functools.partial(
                ProviderActor, config=provider, loop=loop, sessions=where.sessions
            ),
        )
        for name, provider in providers.items()
    )
    grace = config.shutdown.grace_seconds
    io = SupervisorSpec(
        strategy=Strategy.REST_FOR_ONE,
        max_restarts=5,
        within_seconds=60.0,
        backoff=Backoff(initial=0.5, maximum=30.0),
        children=(
            ChildSpec(name="loop", factory=functools.partial(LoopKeeper, loop=loop)),
            supervisor(
                "providers",
                SupervisorSpec(
                    strategy=Strategy.ONE_FOR_ONE,
                    max_restarts=5,
                    within_seconds=30.0,
                    children=provider_children,
                ),
            ),
            ChildSpec(
                name="gateway",
                factory=functools.partial(
                    Gateway,
                    config=config.telegram,
                    loop=loop,
                    sessions=where.sessions,
                    grace_seconds=grace,
                    storage=where.storage,  # the durable inbox
                    run_id=uuid.uuid4().hex,  # one per process, whatever the gateway's restarts
                ),
                shutdown_timeout=grace + 15.0,
                start_timeout=config.telegram.request_timeout + 10.0,
            ),
        ),
    )
    # Last: it asks storage and the gateway, so it starts after them and stops before them.
    ops = ChildSpec(
        name="ops",
        factory=functools.partial(
            OpsActor,
            config=config.ops,
            snapshot=system.snapshot,
            storage=where.storage,
            gateway=where.gateway,
            health=where.health,
        ),
        shutdown_timeout=15.0,
    )
    catalog = ChildSpec(
        name="catalog",
        factory=functools.partial(
            ModelCatalog,
            providers=where.providers,
            storage=where.storage,
            admin=where.admin,
            gateway=where.gateway,
        ),
    )
    scheduler = ChildSpec(
        name="scheduler",
        factory=functools.partial(
            SchedulerActor,
            settings=scheduler_settings(config),
            resolve=system.address,
        ),
    )
    # After everything it checks (so its probes find them up), before ops (which asks it).
    health = ChildSpec(
        name="health",
        factory=functools.partial(
            HealthSupervisor,
            config=config.health,
            storage=where.storage,
            gateway=where.gateway,
            providers=where.providers,
            admin=where.admin,
            snapshot=system.snapshot,
        ),
    )
    return SupervisorSpec(
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=5,
        within_seconds=60.0,
        children=(
            ChildSpec(
                name="storage",
                factory=functools.partial(
                    StorageActor,
                    path=config.storage.path,
                    retention_days=config.storage.retention_days,
                    files_dir=config.storage.files_dir,
                ),
                shutdown_timeout=10.0,
            ),
            pool("sessions", sessions),
            ChildSpec(
                name="admin",
                factory=functools.partial(
                    AdminActor,
                    settings=admin_settings,
                    storage=where.storage,
                    gateway=where.gateway,
                    sessions=where.sessions,
                    snapshot=system.snapshot,
                    health=where.health,
                    catalog=where.catalog,
                    config=config.admin,
                    scheduler=where.scheduler,  # flow timers: /admin login's time-out
                ),
            ),
            supervisor("io", io, shutdown_timeout=grace + 30.0),
            # After io: the providers they ask are up. The scheduler comes last of the two,
            # so the targets of its jobs run when a missed job fires at start (a message to
            # an actor not started yet would wait in its mailbox anyway).
            catalog,
            scheduler,
            health,
            *((ops,) if config.ops.listen else ()),
        ),
    )
