"""``/admin login``: the password guard on sensitive admin commands.

When ADMIN_PASSWORD is set, the commands :func:`~actors.admin.commands.requires_elevation`
names need an elevated admin. ``/admin login`` is a one-step flow (:func:`login_flow`, run
by the admin actor's :class:`~actors.flows.FlowEngine`): the bot asks for the password, the
message holding it is deleted, and the answer is compared in constant time. A right answer
elevates the admin for ``elevation_minutes``; ``login_attempts`` wrong answers end the flow
and lock login for ``lockout_minutes``; no answer within ``login_timeout_seconds`` ends it.

:class:`Elevations` remembers who is elevated and who is locked out, compared at use (no
timer needed to expire them). It lives in the admin actor's memory only: a restart of that
actor ends every elevation, which errs on the safe side.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Final

from actors.config import AdminConfig
from actors.flows import Finish, FlowData, FlowSpec, Reject, Step, StepOutcome

LOGIN_FLOW: Final = "login"
MIN_REMINDER_TIMEOUT: Final = 20.0  # a shorter prompt gets no reminder: it would be noise


def minutes(value: float) -> str:
    """``"15 minutes"``, ``"1 minute"``, ``"0.5 minutes"``."""
    return f"{value:g} minute{'' if value == 1 else 's'}"


def login_flow(config: AdminConfig) -> FlowSpec:
    """The login flow for ``config``; its only step compares with ``config.password``."""
    expected = config.password.reveal().encode()

    def check(answer: str, _data: FlowData) -> StepOutcome:
        if hmac.compare_digest(answer.strip().encode(), expected):
            return Finish(
                text=(
                    f"🔓 Logged in for {minutes(config.elevation_minutes)}: guarded commands "
                    "are allowed. /admin logout ends it sooner."
                )
            )
        return Reject(text="Wrong password.")

    timeout = config.login_timeout_seconds
    return FlowSpec(
        name=LOGIN_FLOW,
        steps=(
            Step(
                name="password",
                prompt=(
                    "Send the admin password (ADMIN_PASSWORD). I will delete your message "
                    "right away. /cancel stops."
                ),
                handle=check,
                timeout=timeout,
                remind_after=timeout / 2 if timeout >= MIN_REMINDER_TIMEOUT else None,
                reminder="Still waiting for the admin password. /cancel stops.",
                max_attempts=config.login_attempts,
                secret=True,
            ),
        ),
        timed_out="⌛ Login timed out: no password came. Send /admin login to try again.",
        cancelled="Login cancelled.",
        exhausted=(
            f"⛔ Too many wrong passwords: login is locked for {minutes(config.lockout_minutes)}."
            if config.lockout_minutes
            else "⛔ Too many wrong passwords. Send /admin login to try again."
        ),
        lost="That login prompt has expired. Send /admin login again.",
    )


@dataclass(kw_only=True)
class Elevations:
    """Who may use guarded commands until when, and who may not log in until when.

    Times are the caller's clock (monotonic seconds in the actor, a fake one in tests).
    """

    elevation_seconds: float
    lockout_seconds: float
    _elevated: dict[int, float] = field(default_factory=dict, init=False, repr=False)
    _locked: dict[int, float] = field(default_factory=dict, init=False, repr=False)

    def grant(self, user_id: int, now: float) -> None:
        """Elevate ``user_id`` from ``now`` for the configured time (again, if elevated)."""
        self._elevated[user_id] = now + self.elevation_seconds
        self._locked.pop(user_id, None)

    def revoke(self, user_id: int) -> bool:
        """End ``user_id``'s elevation; False if there was none (or it had expired)."""
        return self._elevated.pop(user_id, None) is not None

    def is_elevated(self, user_id: int, now: float) -> bool:
        until = self._elevated.get(user_id)
        if until is not None and now >= until:
            del self._elevated[user_id]
            return False
        return until is not None

    def lock(self, user_id: int, now: float) -> None:
        """Refuse logins by ``user_id`` for the configured time."""
        self._elevated.pop(user_id, None)
        self._locked[user_id] = now + self.lockout_seconds

    def locked_for(self, user_id: int, now: float) -> float:
        """Seconds until ``user_id`` may log in again; 0 if they may now."""
        until = self._locked.get(user_id)
        if until is None or now >= until:
            self._locked.pop(user_id, None)
            return 0.0
        return until - now


def login_required(config: AdminConfig) -> str:
    """What an admin who is not logged in hears when they try a guarded command."""
    return (
        "🔒 That command is guarded by the admin password. Send /admin login in your private "
        f"chat with me first (it lasts {minutes(config.elevation_minutes)})."
    )


NOTHING_GUARDED: Final = (
    "No admin password is set (ADMIN_PASSWORD), so no command is guarded: there is nothing "
    "to log in to."
)
PRIVATE_ONLY: Final = "Log in in your private chat with me: here, everyone would see the password."
LOGGED_OUT: Final = "🔒 Logged out: guarded commands need /admin login again."
NOT_LOGGED_IN: Final = "You were not logged in."


def locked_out(seconds: float) -> str:
    """Why a login is refused right now."""
    return (
        f"⛔ Login is locked after too many wrong passwords. Try again in {seconds / 60:.0f} min."
    )
