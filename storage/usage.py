"""The usage ledger: what each user's LLM requests cost, and the budget check before one.

One row per LLM request, keyed by the session's ``request_id``. Before the call,
:meth:`UsageTable.reserve_usage` checks the user's daily and monthly budgets and holds an
estimate (a *reserved* row); after it, :meth:`UsageTable.settle_usage` writes the real
figures (*settled*) or :meth:`UsageTable.release_usage` gives the estimate back
(*released*). The check and the hold are one ``BEGIN IMMEDIATE`` transaction, so two
requests at once (even from two processes on one file) cannot both spend the last of a
budget.

What counts against a budget, per row: a settled row its ``tokens_in + tokens_out``, a
reserved row its estimate, a released row nothing. Rows fall in a window by ``created_at``
(when the request was reserved); windows start where the caller says (its day and month,
in its time zone), so storage knows nothing of calendars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from storage.connection import Connection
from storage.errors import ConstraintViolation
from storage.record import Record

if TYPE_CHECKING:
    from sqlite_utils import Database

# Each query counts a row's held tokens: the real ones once settled, the estimate while
# reserved, none once released (the same CASE in each). Cost and requests: settled rows only.
_USER_TOTALS = """
WITH held AS (
    SELECT state, cost, created_at,
           CASE state WHEN 'settled' THEN tokens_in + tokens_out
                      WHEN 'reserved' THEN reserved ELSE 0 END AS tokens
    FROM usage_ledger WHERE user_id = :user_id AND created_at >= min(:day, :month)
)
SELECT
    coalesce(sum(CASE WHEN created_at >= :day THEN tokens END), 0) AS day_tokens,
    total(CASE WHEN created_at >= :day AND state = 'settled' THEN cost END) AS day_cost,
    count(CASE WHEN created_at >= :day AND state = 'settled' THEN 1 END) AS day_requests,
    coalesce(sum(CASE WHEN created_at >= :month THEN tokens END), 0) AS month_tokens,
    total(CASE WHEN created_at >= :month AND state = 'settled' THEN cost END) AS month_cost,
    count(CASE WHEN created_at >= :month AND state = 'settled' THEN 1 END) AS month_requests
FROM held
"""

_BY_TIER = """
SELECT tier, count(DISTINCT user_id) AS users,
       sum(CASE state WHEN 'settled' THEN tokens_in + tokens_out
                      WHEN 'reserved' THEN reserved ELSE 0 END) AS tokens,
       total(CASE WHEN state = 'settled' THEN cost END) AS cost,
       count(CASE WHEN state = 'settled' THEN 1 END) AS requests
FROM usage_ledger
WHERE created_at >= ? AND state != 'released'
GROUP BY tier ORDER BY tokens DESC, tier
"""

_TOP_USERS = """
SELECT l.user_id, u.first_name, u.username, u.tier,
       sum(CASE l.state WHEN 'settled' THEN l.tokens_in + l.tokens_out
                        WHEN 'reserved' THEN l.reserved ELSE 0 END) AS tokens,
       total(CASE WHEN l.state = 'settled' THEN l.cost END) AS cost,
       count(CASE WHEN l.state = 'settled' THEN 1 END) AS requests
FROM usage_ledger AS l LEFT JOIN users AS u ON u.id = l.user_id
WHERE l.created_at >= ? AND l.state != 'released'
GROUP BY l.user_id ORDER BY tokens DESC, l.user_id LIMIT ?
"""


class UsageTotals(Record, frozen=True, kw_only=True):
    """A user's usage in one window.

    ``tokens`` is what counts against a budget: settled tokens plus estimates still
    reserved. ``cost`` and ``requests`` count settled requests only.
    """

    tokens: int
    cost: float
    requests: int


class Reservation(Record, frozen=True, kw_only=True):
    """An estimate held against ``user_id``'s budgets until the request is settled or released."""

    request_id: str
    user_id: int
    tokens: int


class BudgetExceeded(Record, frozen=True, kw_only=True):
    """Why a reservation was refused: ``used`` + ``needed`` tokens would pass ``limit``."""

    period: Literal["day", "month"]
    used: int
    limit: int
    needed: int


class UserUsage(Record, frozen=True, kw_only=True):
    """A user's usage today and this month; ``tier`` None: the default tier (or no user row)."""

    user_id: int
    tier: str | None
    day: UsageTotals
    month: UsageTotals


class TierUsage(Record, frozen=True, kw_only=True):
    """Usage of one tier (as recorded on each request) since a moment, like :class:`UsageTotals`.

    ``users`` counts the distinct users with a request that was not released.
    """

    tier: str
    users: int
    tokens: int
    cost: float
    requests: int


class TopUser(Record, frozen=True, kw_only=True):
    """One of the heaviest users since a moment; names and ``tier`` as the users table has them
    now (None for someone without a row, e.g. an admin from config).
    """

    user_id: int
    first_name: str | None
    username: str | None
    tier: str | None
    tokens: int
    cost: float
    requests: int


class UsageTable(Connection):
    """The ``usage_ledger`` table; mixed into :class:`storage.Store`.

    A user's tier is a column of ``users`` (:meth:`storage.users.UserTable.set_user_tier`).
    """

    def reserve_usage(
        self,
        *,
        request_id: str,
        user_id: int,
        tier: str,
        provider: str,
        model: str,
        tokens: int,
        day_start: float,
        month_start: float,
        daily_limit: int | None,
        monthly_limit: int | None,
    ) -> Reservation | BudgetExceeded:
        """Hold ``tokens`` against the user's budgets, or say which budget is too small.

        Counts the user's usage since ``day_start`` and since ``month_start`` (epoch
        seconds); if adding ``tokens`` would pass ``daily_limit`` (checked first) or
        ``monthly_limit`` (None: unlimited), writes nothing and returns
        :class:`BudgetExceeded`. Otherwise records a reserved row stamped now. Check and
        write are one transaction: concurrent reservations cannot overspend.

        A ``request_id`` already in the ledger (whatever its state) returns its existing
        reservation and changes nothing, so retrying a reservation never counts it twice.

        Raises:
            ConstraintViolation: ``tokens`` is negative.
        """
        action = f"reserve {tokens} token(s) for user {user_id} (request {request_id!r})"
        if tokens < 0:
            raise ConstraintViolation(
                f"{action} failed on {self.path}: tokens must not be negative", path=self.path
            )
        with self._writing(action) as db:
            existing = list(
                db.query(
                    "SELECT user_id, reserved FROM usage_ledger WHERE request_id = ?",
                    (request_id,),
                )
            )
            if existing:
                row = existing[0]
                return Reservation(
                    request_id=request_id, user_id=int(row["user_id"]), tokens=int(row["reserved"])
                )
            day, month = self._totals(db, user_id, day_start=day_start, month_start=month_start)
            if daily_limit is not None and day.tokens + tokens > daily_limit:
                return BudgetExceeded(
                    period="day", used=day.tokens, limit=daily_limit, needed=tokens
                )
            if monthly_limit is not None and month.tokens + tokens > monthly_limit:
                return BudgetExceeded(
                    period="month", used=month.tokens, limit=monthly_limit, needed=tokens
                )
            db.execute(
                "INSERT INTO usage_ledger"
                " (request_id, user_id, tier, provider, model, state, reserved, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?)",
                (request_id, user_id, tier, provider, model, tokens, self._now()),
            )
        return Reservation(request_id=request_id, user_id=user_id, tokens=tokens)

    def settle_usage(
        self,
        *,
        request_id: str,
        user_id: int,
        tier: str,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost: float,
    ) -> None:
        """Record what the request really used, in place of its estimate.

        A reserved or released row becomes settled with these figures and the provider and
        model that answered (a fallback may have changed them); its user, tier and
        ``created_at`` stay those of the reservation. Without a row (never reserved, or
        pruned) a settled one is inserted, stamped now: the call did happen. Settling
        again overwrites the figures.

        Raises:
            ConstraintViolation: a negative count or cost.
        """
        now = self._now()
        with self._writing(f"settle usage of request {request_id!r}") as db:
            db.execute(
                "INSERT INTO usage_ledger (request_id, user_id, tier, provider, model, state,"
                " reserved, tokens_in, tokens_out, cost, created_at, settled_at)"
                " VALUES (?, ?, ?, ?, ?, 'settled', 0, ?, ?, ?, ?, ?)"
                " ON CONFLICT (request_id) DO UPDATE SET state = 'settled',"
                " provider = excluded.provider, model = excluded.model,"
                " tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out,"
                " cost = excluded.cost, settled_at = excluded.settled_at",
                (request_id, user_id, tier, provider, model, tokens_in, tokens_out, cost, now, now),
            )

    def release_usage(self, request_id: str) -> None:
        """Give a reservation's estimate back (the call failed or never went out).

        An unknown ``request_id``, or one already settled or released, is left as it is.
        """
        with self._writing(f"release usage of request {request_id!r}") as db:
            db.execute(
                "UPDATE usage_ledger SET state = 'released', settled_at = ?"
                " WHERE request_id = ? AND state = 'reserved'",
                (self._now(), request_id),
            )

    def release_reservations_before(self, cutoff: float) -> int:
        """Release every reservation made before ``cutoff``; return how many there were.

        For reservations nobody will settle: those of a process that was killed mid-call.
        """
        with self._writing("release stale reservations") as db:
            return db.execute(
                "UPDATE usage_ledger SET state = 'released', settled_at = ?"
                " WHERE state = 'reserved' AND created_at < ?",
                (self._now(), cutoff),
            ).rowcount

    def usage_of(self, user_id: int, *, day_start: float, month_start: float) -> UserUsage:
        """A user's usage since ``day_start`` and since ``month_start``, and their tier."""
        with self._reading(f"read usage of user {user_id}") as db:
            day, month = self._totals(db, user_id, day_start=day_start, month_start=month_start)
            rows = list(db.query("SELECT tier FROM users WHERE id = ?", (user_id,)))
        tier = rows[0]["tier"] if rows else None
        return UserUsage(user_id=user_id, tier=tier, day=day, month=month)

    def usage_by_tier(self, since: float) -> tuple[TierUsage, ...]:
        """Usage per tier of the requests made at or after ``since``, most tokens first."""
        with self._reading("read usage by tier") as db:
            return self._records(db, TierUsage, _BY_TIER, (since,))

    def top_users(self, since: float, limit: int = 5) -> tuple[TopUser, ...]:
        """The ``limit`` users with the most tokens in requests made at or after ``since``.

        Raises:
            ValueError: ``limit`` is negative.
        """
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        with self._reading("read top users by usage") as db:
            return self._records(db, TopUser, _TOP_USERS, (since, limit))

    def delete_usage_before(self, cutoff: float) -> int:
        """Forget requests made before ``cutoff`` (epoch seconds); return how many went."""
        with self._writing("delete old usage") as db:
            return db.execute("DELETE FROM usage_ledger WHERE created_at < ?", (cutoff,)).rowcount

    def _totals(
        self, db: Database, user_id: int, *, day_start: float, month_start: float
    ) -> tuple[UsageTotals, UsageTotals]:
        """The user's totals since ``day_start`` and since ``month_start``, in one query."""
        (row,) = db.query(
            _USER_TOTALS, {"user_id": user_id, "day": day_start, "month": month_start}
        )
        return (
            UsageTotals(
                tokens=int(row["day_tokens"]),
                cost=float(row["day_cost"]),
                requests=int(row["day_requests"]),
            ),
            UsageTotals(
                tokens=int(row["month_tokens"]),
                cost=float(row["month_cost"]),
                requests=int(row["month_requests"]),
            ),
        )
