"""The model catalog: refreshes every provider's model list in the cache and reports changes.

A refresh asks every provider actor :class:`~actors.llm.provider.FetchModels` at once and
collects their :class:`~actors.llm.provider.ModelsOffered` until all have answered or the
deadline passes (a provider that did not answer counts as failed). Each list is stored with
the storage actor's ``ReplaceModels``, which says what was added and removed. Then:

* the scheduled run (a :class:`~actors.scheduler.messages.JobDue` with topic
  :data:`REFRESH_TOPIC`) tells the admin actor ``NotifyAdmins(topic="models")`` only when
  something changed;
* ``/admin refresh`` (:class:`RefreshModels` with a chat) answers in that chat with the
  diff or "no changes", naming providers that failed.

One refresh runs at a time: a request arriving while one runs joins it and gets the same
report. A provider that fails or lists nothing keeps its cached models (an empty list would
read as "every model removed").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from loguru import logger

from actors.admin.messages import NotifyAdmins
from actors.llm.provider import FetchModels, ModelsOffered
from actors.llm.refresh import ProviderOutcome, changes_notice, outcome_of, refresh_report
from actors.scheduler.messages import JobDue
from actors.storage import ReplaceModels
from actors.telegram.messages import SendText
from runtime import Actor, ActorContext, ActorSystemError, Address, Message, receive
from storage import ModelDiff, StorageError

REFRESH_TOPIC: Final = "refresh_models"
NOTICE_TOPIC: Final = "models"


class RefreshModels(Message, frozen=True, kw_only=True):
    """Command: refresh now; with ``chat_id``, report there (``/admin refresh``)."""

    chat_id: int | None = None
    reply_to_message_id: int | None = None


class RefreshDeadline(Message, frozen=True, kw_only=True):
    """Internal: refresh ``round_id`` has waited long enough for its providers."""

    round_id: str


CatalogMessage = RefreshModels | JobDue | ModelsOffered | RefreshDeadline


@dataclass(frozen=True, kw_only=True)
class CatalogSettings:
    """How long a refresh waits for providers, and for the storage actor."""

    deadline_seconds: float = 30.0
    storage_timeout: float = 10.0


@dataclass(kw_only=True)
class _Round:
    """One refresh in progress."""

    round_id: str
    offered: dict[str, ModelsOffered] = field(default_factory=dict)
    notify_admins: bool = False
    reply_in: list[tuple[int, int | None]] = field(default_factory=list)


class ModelCatalog(Actor):
    """See the module docstring; ``providers`` maps each provider's name to its address."""

    def __init__(
        self,
        context: ActorContext,
        *,
        providers: Mapping[str, Address],
        storage: Address,
        admin: Address,
        gateway: Address,
        settings: CatalogSettings | None = None,
    ) -> None:
        super().__init__(context)
        self._providers = providers
        self._storage = storage
        self._admin = admin
        self._gateway = gateway
        self._settings = settings or CatalogSettings()
        self._round: _Round | None = None
        self._round_ids = itertools.count(1)

    @receive
    def on_job_due(self, message: JobDue) -> None:
        if message.topic != REFRESH_TOPIC:
            logger.warning("catalog: job {} has topic {!r}; ignored", message.job_id, message.topic)
            return
        self._join().notify_admins = True

    @receive
    def on_refresh(self, message: RefreshModels) -> None:
        refresh = self._join()
        if message.chat_id is not None:
            refresh.reply_in.append((message.chat_id, message.reply_to_message_id))

    @receive
    def on_offered(self, message: ModelsOffered) -> None:
        refresh = self._round
        if refresh is None or message.request_id != refresh.round_id:
            return  # an answer that came after its deadline
        refresh.offered[message.provider] = message
        if refresh.offered.keys() >= self._providers.keys():
            self._finish(refresh)

    @receive
    def on_deadline(self, message: RefreshDeadline) -> None:
        refresh = self._round
        if refresh is not None and refresh.round_id == message.round_id:
            self._finish(refresh)

    def _join(self) -> _Round:
        """The refresh in progress, or a new one with every provider asked."""
        if self._round is not None:
            return self._round
        refresh = _Round(round_id=f"{self.context.path}#{next(self._round_ids)}")
        self._round = refresh
        for address in self._providers.values():
            address.tell(FetchModels(request_id=refresh.round_id, reply_to=self.context.address))
        self.context.tell_later(
            self._settings.deadline_seconds, RefreshDeadline(round_id=refresh.round_id)
        )
        if not self._providers:
            self._finish(refresh)  # pragma: no cover - the tree only starts us with providers
        return refresh

    def _finish(self, refresh: _Round) -> None:
        self._round = None
        outcomes = tuple(
            self._store(name, refresh.offered.get(name)) for name in sorted(self._providers)
        )
        logger.info(
            "catalog: refreshed {} provider(s): {}",
            len(outcomes),
            ", ".join(f"{o.provider} {_summary(o)}" for o in outcomes),
        )
        if refresh.notify_admins and (notice := changes_notice(outcomes)) is not None:
            self._admin.tell(NotifyAdmins(text=notice, topic=NOTICE_TOPIC))
        if refresh.reply_in:
            report = refresh_report(outcomes)
            for chat_id, reply_to in refresh.reply_in:
                self._gateway.tell(
                    SendText(
                        chat_id=chat_id, text=report, format="plain", reply_to_message_id=reply_to
                    )
                )

    def _store(self, provider: str, offered: ModelsOffered | None) -> ProviderOutcome:
        if offered is None:
            error = f"no answer within {self._settings.deadline_seconds:g}s"
            return ProviderOutcome(provider=provider, error=error)
        if offered.error is not None:
            return ProviderOutcome(provider=provider, error=offered.error)
        if not offered.models:
            return ProviderOutcome(provider=provider, error="listed no models")
        try:
            diff: ModelDiff = self._storage.ask(
                ReplaceModels(provider=provider, models=offered.models),
                timeout=self._settings.storage_timeout,
            )
        except (ActorSystemError, StorageError) as exc:
            logger.opt(exception=exc).error("catalog: storing {}'s models failed", provider)
            return ProviderOutcome(provider=provider, error=f"not stored: {type(exc).__name__}")
        return outcome_of(diff, len(offered.models))


def _summary(outcome: ProviderOutcome) -> str:
    if outcome.error is not None:
        return f"failed ({outcome.error})"
    return f"+{len(outcome.added)} -{len(outcome.removed)} of {outcome.listed}"
