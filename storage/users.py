"""Users and their access state: who asked to use the bot, and what an admin decided.

A user starts ``pending`` when first seen; an admin makes them ``active`` or ``blocked``,
which records when and by whom. Profile fields (name, username) follow Telegram on every
upsert; the state only changes through :meth:`UserTable.set_user_state`.
"""

from __future__ import annotations

from typing import Literal, get_args

from storage.connection import Connection
from storage.errors import RecordNotFound
from storage.record import Record, to_record

UserState = Literal["pending", "active", "blocked"]
USER_STATES: tuple[UserState, ...] = get_args(UserState)


class User(Record, frozen=True, kw_only=True):
    """A Telegram user as the bot knows them; times are UTC epoch seconds."""

    id: int
    first_name: str
    username: str | None
    state: UserState
    is_admin: bool
    requested_at: float
    decided_at: float | None
    decided_by: int | None
    tier: str | None = None  # None: the configured default tier (see [usage] in config)


class UserUpsert(Record, frozen=True, kw_only=True):
    """The user after :meth:`UserTable.upsert_user`; ``created`` is True the first time."""

    user: User
    created: bool


class UserCounts(Record, frozen=True, kw_only=True):
    """How many users are in each state."""

    pending: int
    active: int
    blocked: int

    @property
    def total(self) -> int:
        """All users, whatever their state."""
        return self.pending + self.active + self.blocked


class UserTable(Connection):
    """The ``users`` table; mixed into :class:`storage.Store`."""

    def upsert_user(
        self,
        user_id: int,
        *,
        first_name: str,
        username: str | None = None,
        is_admin: bool | None = None,
        initial_state: UserState = "pending",
    ) -> UserUpsert:
        """Record a user seen on Telegram, refreshing their name and username.

        Args:
            user_id: the Telegram user id.
            first_name: as Telegram reports it now.
            username: as Telegram reports it now (None if they have none).
            is_admin: set the admin flag; None keeps it (False for a new user).
            initial_state: the state of a new user; an existing user's state is kept.

        Returns:
            The stored user and whether this call created them, so the caller notifies
            admins about a new request once, not on every message.
        """
        action = f"upsert user {user_id}"
        with self._writing(action) as db:
            existing = self.get_user(user_id)
            if existing is None:
                user = self._record(
                    db,
                    User,
                    "INSERT INTO users (id, first_name, username, state, is_admin, requested_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                    (user_id, first_name, username, initial_state, bool(is_admin), self._now()),
                )
            else:
                user = self._record(
                    db,
                    User,
                    "UPDATE users SET first_name = ?, username = ?,"
                    " is_admin = coalesce(?, is_admin) WHERE id = ? RETURNING *",
                    (first_name, username, is_admin, user_id),
                )
        assert user is not None, "INSERT/UPDATE ... RETURNING yields the row"
        return UserUpsert(user=user, created=existing is None)

    def get_user(self, user_id: int) -> User | None:
        """The user with this Telegram id, or None if the bot never saw them."""
        with self._reading(f"get user {user_id}") as db:
            return self._record(db, User, "SELECT * FROM users WHERE id = ?", (user_id,))

    def set_user_state(self, user_id: int, state: UserState, by: int | None) -> User:
        """Decide on a user: record ``state``, now, and the deciding admin's id ``by``.

        Raises:
            RecordNotFound: no user has this id.
            ConstraintViolation: ``state`` is not one of :data:`USER_STATES`.
        """
        return self._update_user(
            user_id,
            f"set state of user {user_id} to {state!r}",
            "state = ?, decided_at = ?, decided_by = ?",
            (state, self._now(), by),
        )

    def set_user_tier(self, user_id: int, tier: str | None) -> User:
        """Put a user in usage ``tier`` (None: back to the default tier); return the record.

        Only new requests see it: the usage ledger keeps the tier each request was made in.

        Raises:
            RecordNotFound: no user has this id.
        """
        return self._update_user(
            user_id, f"set tier of user {user_id} to {tier!r}", "tier = ?", (tier,)
        )

    def _update_user(
        self, user_id: int, action: str, assignments: str, values: tuple[object, ...]
    ) -> User:
        """``UPDATE users SET <assignments>`` for one user, in one transaction."""
        with self._writing(action) as db:
            user = self._record(
                db,
                User,
                f"UPDATE users SET {assignments} WHERE id = ? RETURNING *",  # noqa: S608 - ours
                (*values, user_id),
            )
            if user is None:
                raise RecordNotFound(
                    f"{action}: no such user in {self.path}",
                    path=self.path,
                    table="users",
                    key=user_id,
                )
        return user

    def list_users(
        self, state: UserState | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[User, ...]:
        """Users in request order (oldest first), optionally only those in ``state``.

        Raises:
            ValueError: ``limit`` or ``offset`` is negative.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must not be negative, got {limit}, {offset}")
        with self._reading("list users") as db:
            return self._records(
                db,
                User,
                "SELECT * FROM users WHERE ?1 IS NULL OR state = ?1"
                " ORDER BY requested_at, id LIMIT ?2 OFFSET ?3",
                (state, limit, offset),
            )

    def count_users_by_state(self) -> UserCounts:
        """How many users are pending, active and blocked."""
        counts: dict[str, int] = dict.fromkeys(USER_STATES, 0)
        with self._reading("count users by state") as db:
            for row in db.query("SELECT state, count(*) AS n FROM users GROUP BY state"):
                counts[row["state"]] = row["n"]
        return to_record(UserCounts, counts, path=self.path)
