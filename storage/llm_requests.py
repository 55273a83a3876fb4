"""The log of LLM calls, and the numbers an admin's status command shows from it.

One row per call, successful or not. Aggregates are computed in Python from the rows since
a moment: the log is small (one row per message answered) and percentiles are not SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from storage.connection import Connection
from storage.record import Record

RequestStatus = Literal["ok", "failed"]


class LlmRequest(Record, frozen=True, kw_only=True):
    """One call to an LLM provider; times are UTC epoch seconds."""

    id: int
    chat_id: int | None
    user_id: int | None
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    status: RequestStatus
    error: str | None
    correlation_id: str | None
    created_at: float


class ProviderStats(Record, frozen=True, kw_only=True):
    """One provider's calls since a moment.

    Latency percentiles are over successful calls only (a failure's latency is mostly the
    timeout), nearest-rank; None when there was no successful call.
    """

    provider: str
    ok: int
    failed: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class LlmRequestStats(Record, frozen=True, kw_only=True):
    """All calls since ``since`` (epoch seconds); ``providers`` sorted by name."""

    since: float
    ok: int
    failed: int
    tokens_in: int
    tokens_out: int
    providers: tuple[ProviderStats, ...]


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None if there are none.

    ``fraction`` is in (0, 1]: 0.5 is the median, 0.95 the value 95% of calls beat or met.
    """
    if not ordered:
        return None
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


class LlmRequestTable(Connection):
    """The ``llm_requests`` table; mixed into :class:`storage.Store`."""

    def record_llm_request(
        self,
        *,
        chat_id: int | None,
        user_id: int | None,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        latency_ms: float,
        status: RequestStatus,
        error: str | None = None,
        correlation_id: str | None = None,
    ) -> LlmRequest:
        """Log one LLM call, stamped now.

        Raises:
            ConstraintViolation: a negative count or latency, or an unknown ``status``.
        """
        with self._writing(f"record LLM request to {provider}/{model}") as db:
            request = self._record(
                db,
                LlmRequest,
                "INSERT INTO llm_requests (chat_id, user_id, provider, model, tokens_in,"
                " tokens_out, latency_ms, status, error, correlation_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    chat_id,
                    user_id,
                    provider,
                    model,
                    tokens_in,
                    tokens_out,
                    latency_ms,
                    status,
                    error,
                    correlation_id,
                    self._now(),
                ),
            )
        assert request is not None, "INSERT ... RETURNING yields the row"
        return request

    def llm_request_stats(self, since: float) -> LlmRequestStats:
        """Counts, tokens and per-provider latency of the calls made at or after ``since``."""
        with self._reading("compute LLM request stats") as db:
            rows = list(
                db.query(
                    "SELECT provider, status, tokens_in, tokens_out, latency_ms"
                    " FROM llm_requests WHERE created_at >= ?",
                    (since,),
                )
            )
        latencies: defaultdict[str, list[float]] = defaultdict(list)
        failures: defaultdict[str, int] = defaultdict(int)
        for row in rows:
            if row["status"] == "ok":
                latencies[row["provider"]].append(row["latency_ms"])
            else:
                failures[row["provider"]] += 1
        providers = []
        for provider in sorted(latencies.keys() | failures.keys()):
            ordered = sorted(latencies[provider])
            providers.append(
                ProviderStats(
                    provider=provider,
                    ok=len(ordered),
                    failed=failures[provider],
                    latency_p50_ms=percentile(ordered, 0.50),
                    latency_p95_ms=percentile(ordered, 0.95),
                )
            )
        return LlmRequestStats(
            since=since,
            ok=sum(stats.ok for stats in providers),
            failed=sum(stats.failed for stats in providers),
            tokens_in=sum(row["tokens_in"] for row in rows),
            tokens_out=sum(row["tokens_out"] for row in rows),
            providers=tuple(providers),
        )

    def count_active_chats(self, since: float) -> int:
        """How many distinct chats made at least one LLM call (ok or not) at or after ``since``.

        The request log is the measure of activity: context turns are trimmed and cleared,
        the log is not (until :meth:`delete_llm_requests_before`).
        """
        with self._reading("count active chats") as db:
            rows = list(
                db.query(
                    "SELECT count(DISTINCT chat_id) AS n FROM llm_requests"
                    " WHERE created_at >= ? AND chat_id IS NOT NULL",
                    (since,),
                )
            )
        return int(rows[0]["n"])

    def delete_llm_requests_before(self, cutoff: float) -> int:
        """Forget calls made before ``cutoff`` (epoch seconds); return how many went."""
        with self._writing("delete old LLM requests") as db:
            return db.execute("DELETE FROM llm_requests WHERE created_at < ?", (cutoff,)).rowcount
