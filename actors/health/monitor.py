"""The health supervisor's logic, without threads: checks, thresholds, states, debounce.

:class:`HealthMonitor` keeps one record per registered check (:class:`CheckSpec`: a name, a
kind, an interval and a failure threshold). The actor asks it which checks are due, tells it
when a probe was sent and what came back, and asks it what to announce. Time comes from
injected clocks, so every rule here is tested with a fake clock and no waiting.

The rules:

- A check **fails its component** only after ``threshold`` failed checks in a row; one
  success makes it ok again at once (a flap is the debounce's business, not the check's).
  A probe that gets no answer within the probe timeout counts as a failed check.
- **Overall**: *unhealthy* when storage or Telegram fails, or every provider does (nobody
  can be answered); *degraded* when any other component fails; *healthy* otherwise.
  Components not checked yet count as ok.
- **Announcements**: a new overall state is announced once it has held for the debounce
  time; a state that flaps back within that time is never announced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from actors.health.messages import ComponentView, HealthView, Kind, Overall, Status

_DETAIL_LIMIT = 300  # characters of a probe's detail kept (an error text can be long)
_CRITICAL: frozenset[Kind] = frozenset({"storage", "telegram"})


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """A registered check: what it watches, how often, and how many failures in a row fail it."""

    name: str
    kind: Kind
    interval: float
    threshold: int


@dataclass(kw_only=True)
class _Record:
    """What the monitor knows of one component (mutable: only the monitor touches it)."""

    spec: CheckSpec
    status: Status = "unknown"
    detail: str = ""
    in_a_row: int = 0
    checked_at: float | None = None
    last_failure: str = ""
    last_failure_at: float | None = None
    last_action: str = ""
    last_action_at: float | None = None
    next_due: float = 0.0
    pending: str | None = None
    pending_since: float = 0.0

    def view(self) -> ComponentView:
        return ComponentView(
            name=self.spec.name,
            kind=self.spec.kind,
            status=self.status,
            detail=self.detail,
            failures_in_a_row=self.in_a_row,
            threshold=self.spec.threshold,
            checked_at=self.checked_at,
            last_failure=self.last_failure,
            last_failure_at=self.last_failure_at,
            last_action=self.last_action,
            last_action_at=self.last_action_at,
        )


def overall_state(components: Iterable[ComponentView]) -> Overall:
    """The overall state from each component's status (see the module docstring)."""
    listed = tuple(components)
    failing = [c for c in listed if c.status == "failing"]
    providers = [c for c in listed if c.kind == "provider"]
    if any(c.kind in _CRITICAL for c in failing) or (
        providers and all(c.status == "failing" for c in providers)
    ):
        return "unhealthy"
    return "degraded" if failing else "healthy"


def wants_open_circuit(component: ComponentView, circuit: str) -> bool:
    """Whether opening a provider's circuit would help: it fails and calls still go through."""
    return component.kind == "provider" and component.status == "failing" and circuit == "closed"


class Debouncer:
    """Announces a new state only once it has held for ``hold`` seconds.

    Args:
        hold: seconds a state must hold; 0 announces every change at once.
        initial: the state taken as already known (nobody is told the bot starts healthy).
    """

    def __init__(self, hold: float, initial: Overall = "healthy") -> None:
        self._hold = hold
        self.announced: Overall = initial
        self._candidate: Overall | None = None
        self._since = 0.0

    def observe(self, state: Overall, now: float) -> Overall | None:
        """Feed the current state; return it when it is to be announced now, else None."""
        if state == self.announced:
            self._candidate = None
            return None
        if state != self._candidate:
            self._candidate, self._since = state, now
        if now - self._since >= self._hold:
            self.announced, self._candidate = state, None
            return state
        return None


class HealthMonitor:
    """Every registered check's record, the overall state and what to announce.

    Args:
        checks: the checks, in the order they are shown.
        debounce: seconds a new overall state must hold before it is announced.
        clock: epoch seconds, for the times shown to people.
        monotonic: seconds for intervals, timeouts and the debounce.

    Raises:
        ValueError: two checks share a name.
    """

    def __init__(
        self,
        checks: Iterable[CheckSpec],
        *,
        debounce: float,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records: dict[str, _Record] = {}
        for spec in checks:
            if spec.name in self._records:
                raise ValueError(f"two health checks are named {spec.name!r}")
            self._records[spec.name] = _Record(spec=spec)
        self._debouncer = Debouncer(debounce)
        self._clock = clock
        self._monotonic = monotonic
        self._overall: Overall = "healthy"
        self._since = clock()
        self._checked_at: float | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._records)

    def component(self, name: str) -> ComponentView:
        """One component's view.

        Raises:
            KeyError: no check has that name.
        """
        return self._records[name].view()

    def due(self) -> tuple[str, ...]:
        """The checks to run now (their interval has passed and no probe of theirs is out).

        Each one returned is scheduled again one interval from now.
        """
        now = self._monotonic()
        names = []
        for record in self._records.values():
            if record.pending is None and now >= record.next_due:
                record.next_due = now + record.spec.interval
                names.append(record.spec.name)
        return tuple(names)

    def sent(self, name: str, probe_id: str) -> None:
        """A probe went out for ``name``; only its answer (by ``probe_id``) will count."""
        record = self._records[name]
        record.pending, record.pending_since = probe_id, self._monotonic()

    def overdue(self, timeout: float) -> tuple[str, ...]:
        """Count every probe out for longer than ``timeout`` seconds as a failed check."""
        now = self._monotonic()
        late = [
            record.spec.name
            for record in self._records.values()
            if record.pending is not None and now - record.pending_since > timeout
        ]
        for name in late:
            self.record(name, ok=False, detail=f"no answer within {timeout:g}s")
        return tuple(late)

    def record(
        self, name: str, *, ok: bool, detail: str, probe_id: str | None = None
    ) -> ComponentView | None:
        """Take one check's outcome; return the component's new view.

        With ``probe_id``, the outcome counts only if it answers the probe still out for that
        check: a late answer to a probe already counted as timed out returns None.
        """
        record = self._records[name]
        if probe_id is not None and probe_id != record.pending:
            return None
        now = self._clock()
        record.pending = None
        record.checked_at = now
        record.detail = detail[:_DETAIL_LIMIT]
        if ok:
            record.in_a_row = 0
            record.status = "ok"
        else:
            record.in_a_row += 1
            record.last_failure, record.last_failure_at = record.detail, now
            if record.in_a_row >= record.spec.threshold:
                record.status = "failing"
        self._checked_at = now
        self._update_overall()
        return record.view()

    def acted(self, name: str, action: str) -> None:
        """Note a recovery action taken for ``name`` (shown in the view)."""
        record = self._records[name]
        record.last_action, record.last_action_at = action, self._clock()

    @property
    def overall(self) -> Overall:
        return self._overall

    def to_announce(self) -> Overall | None:
        """The overall state to tell admins about now, if any (see :class:`Debouncer`)."""
        return self._debouncer.observe(self._overall, self._monotonic())

    def view(self) -> HealthView:
        return HealthView(
            overall=self._overall,
            announced=self._debouncer.announced,
            since=self._since,
            components=tuple(record.view() for record in self._records.values()),
            checked_at=self._checked_at,
        )

    def _update_overall(self) -> None:
        state = overall_state(record.view() for record in self._records.values())
        if state != self._overall:
            self._overall, self._since = state, self._clock()
