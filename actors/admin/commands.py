"""What an admin asked for, read from ``/admin ...``, ``/debug ...`` or a button's data.

Reading is kept apart from doing: :func:`parse_command` and :func:`parse_button` turn words
into one :data:`AdminRequest`, and anything they do not understand becomes
:class:`ShowUsage` (or None for a button). The button data is written here too
(:func:`access_data`, :func:`users_page_data`, :func:`groups_page_data`), so both directions
live in one place and
stay within Telegram's 64-byte callback_data limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, get_args

import msgspec

from storage import GROUP_ACCESS, GroupAccess, UserState

AccessAction = Literal["approve", "reject", "block", "unblock"]
ACCESS_ACTIONS: Final[tuple[AccessAction, ...]] = get_args(AccessAction)
USER_STATES: Final[tuple[UserState, ...]] = get_args(UserState)
BUTTON_PREFIX: Final = "a:"
_ALL_USERS: Final = "all"
# Words to their Literal values, so a look-up narrows the type without a cast.
_ACTIONS: Final[dict[str, AccessAction]] = {action: action for action in ACCESS_ACTIONS}
_STATES: Final[dict[str, UserState | None]] = {
    _ALL_USERS: None,
    **{state: state for state in USER_STATES},
}
_GROUP_STATES: Final[dict[str, GroupAccess | None]] = {
    _ALL_USERS: None,
    **{state: state for state in GROUP_ACCESS},
}
_MAX_ID_DIGITS: Final = 19  # Telegram ids fit in a signed 64-bit integer
_MAX_ID: Final = 2**63 - 1
_DEAD_LETTERS: Final = frozenset({"deadletters", "dead-letters", "dead_letters", "dlq"})


class ShowStats(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin stats``."""


class ShowUsers(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin users [state] [page]``; ``state`` None means every user, pages count from 1."""

    state: UserState | None = None
    page: int = 1


class ChangeAccess(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin approve|reject|block|unblock <id>``, or an Approve/Reject button.

    A negative ``user_id`` is a group's chat id: the action applies to the whole group.
    """

    action: AccessAction
    user_id: int

    @property
    def is_group(self) -> bool:
        """Whether this decides on a group (Telegram's group ids are negative)."""
        return self.user_id < 0


class ShowGroups(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin groups [state] [page]``; ``access`` None means every group."""

    access: GroupAccess | None = None
    page: int = 1


class ShowModels(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin models``."""


class SetTier(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin tier <id> <tier>``: the tier's budgets and models apply from the next request."""

    user_id: int
    tier: str


class ShowUserUsage(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin usage <id>``: one user's use today and this month."""

    user_id: int


class ShowHealth(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin health``: the health supervisor's view, sent by the health actor itself."""


class RunRefresh(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin refresh``: ask every provider for its models now and report what changed."""


class ShowTree(msgspec.Struct, frozen=True, kw_only=True):
    """``/debug tree``."""


class ShowActor(msgspec.Struct, frozen=True, kw_only=True):
    """``/debug actor <path>``; ``path`` is normalised to start with one slash."""

    path: str


class ShowDeadLetters(msgspec.Struct, frozen=True, kw_only=True):
    """``/debug deadletters``."""


class ShowUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Anything else: answered with the list of admin and debug commands."""


class Login(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin login``: ask for ADMIN_PASSWORD, to be allowed the guarded commands."""


class Logout(msgspec.Struct, frozen=True, kw_only=True):
    """``/admin logout``: end the elevation now."""


DebugRequest = ShowTree | ShowActor | ShowDeadLetters
AdminRequest = (
    ShowStats
    | ShowUsers
    | ShowGroups
    | ChangeAccess
    | SetTier
    | ShowUserUsage
    | ShowModels
    | ShowHealth
    | RunRefresh
    | DebugRequest
    | ShowUsage
)
LoginRequest = Login | Logout
_LOGIN_WORDS: Final[dict[str, LoginRequest]] = {"login": Login(), "logout": Logout()}

# Guarded by ADMIN_PASSWORD when it is set (docs/operations.md, "Admin login"): block and
# unblock change who may use the bot at all. Approve and reject are not: they are the
# everyday buttons on access requests, and an approved user can be blocked again.
GUARDED_ACTIONS: Final[frozenset[AccessAction]] = frozenset({"block", "unblock"})


def requires_elevation(request: object) -> bool:
    """Whether ``request`` needs ``/admin login`` first, when a password is configured.

    Guarded: block and unblock (:data:`GUARDED_ACTIONS`), a model refresh (it rewrites
    the model catalog every chat picks from) and a tier change (it decides who may spend
    how much).
    """
    if isinstance(request, ChangeAccess):
        return request.action in GUARDED_ACTIONS
    return isinstance(request, RunRefresh | SetTier)


def parse_command(command: str, args: Sequence[str]) -> AdminRequest | LoginRequest:
    """The request for ``/<command> <args...>`` (``command`` is "admin" or "debug")."""
    if command == "debug":
        return _parse_debug(args)
    if command == "admin":
        return _parse_admin(args)
    return ShowUsage()


def parse_button(data: str) -> ChangeAccess | ShowUsers | ShowGroups | None:
    """The request a button's data stands for; None for data this module never wrote."""
    if not data.startswith(BUTTON_PREFIX):
        return None
    parts = data[len(BUTTON_PREFIX) :].split(":")
    if parts[0] == "users" and len(parts) == 3:  # noqa: PLR2004 - users:<state>:<page>
        request = _parse_users(parts[1:])
        return request if isinstance(request, ShowUsers) else None
    if parts[0] == "groups" and len(parts) == 3:  # noqa: PLR2004 - groups:<state>:<page>
        groups = _parse_groups(parts[1:])
        return groups if isinstance(groups, ShowGroups) else None
    return _parse_access(parts)


def access_data(action: AccessAction, user_id: int) -> str:
    """callback_data of an access button, e.g. ``a:approve:2001`` (``a:approve:-100777``)."""
    return f"{BUTTON_PREFIX}{action}:{user_id}"


def users_page_data(state: UserState | None, page: int) -> str:
    """callback_data of a users-list page button, e.g. ``a:users:pending:2``."""
    return f"{BUTTON_PREFIX}users:{state or _ALL_USERS}:{page}"


def groups_page_data(access: GroupAccess | None, page: int) -> str:
    """callback_data of a groups-list page button, e.g. ``a:groups:pending:2``."""
    return f"{BUTTON_PREFIX}groups:{access or _ALL_USERS}:{page}"


def normalize_path(path: str) -> str:
    """An actor path as the runtime writes it: ``storage/`` and ``/storage`` are ``/storage``."""
    return "/" + path.strip().strip("/")


_WITHOUT_ARGS: Final[dict[str, AdminRequest]] = {
    "stats": ShowStats(),
    "models": ShowModels(),
    "refresh": RunRefresh(),
    "health": ShowHealth(),
}


def _parse_admin(args: Sequence[str]) -> AdminRequest | LoginRequest:
    action = args[0].lower() if args else ""
    rest = args[1:]
    if action in _WITHOUT_ARGS and not rest:
        return _WITHOUT_ARGS[action]
    if action in ("users", "groups"):
        return _parse_users(rest) if action == "users" else _parse_groups(rest)
    if action == "tier" and len(rest) == 2:  # noqa: PLR2004 - tier <id> <tier>
        user_id = _user_id(rest[0])
        return ShowUsage() if user_id is None else SetTier(user_id=user_id, tier=rest[1].lower())
    if action == "usage" and len(rest) == 1:
        user_id = _user_id(rest[0])
        return ShowUsage() if user_id is None else ShowUserUsage(user_id=user_id)
    return _parse_access(args) or _parse_login(args) or ShowUsage()


def _parse_login(words: Sequence[str]) -> LoginRequest | None:
    return _LOGIN_WORDS.get(words[0].lower()) if len(words) == 1 else None


def _parse_access(words: Sequence[str]) -> ChangeAccess | None:
    if len(words) != 2:  # noqa: PLR2004 - <action> <id>
        return None
    action, user_id = _ACTIONS.get(words[0].lower()), _chat_id(words[1])
    if action is None or user_id is None:
        return None
    return ChangeAccess(action=action, user_id=user_id)


def _parse_users(args: Sequence[str]) -> ShowUsers | ShowUsage:
    words = [word.lower() for word in args]
    state: UserState | None = None
    if words and words[0] in _STATES:
        state = _STATES[words[0]]
        words = words[1:]
    page, words = _page(words)
    return ShowUsage() if words else ShowUsers(state=state, page=page)


def _parse_groups(args: Sequence[str]) -> ShowGroups | ShowUsage:
    words = [word.lower() for word in args]
    access: GroupAccess | None = None
    if words and words[0] in _GROUP_STATES:
        access = _GROUP_STATES[words[0]]
        words = words[1:]
    page, words = _page(words)
    return ShowUsage() if words else ShowGroups(access=access, page=page)


def _page(words: list[str]) -> tuple[int, list[str]]:
    """A leading page number (1 if there is none) and the words after it."""
    if words and words[0].isascii() and words[0].isdigit() and int(words[0]) >= 1:
        return int(words[0]), words[1:]
    return 1, words


def _parse_debug(args: Sequence[str]) -> AdminRequest:
    what = args[0].lower() if args else ""
    rest = args[1:]
    if what == "tree" and not rest:
        return ShowTree()
    if what == "actor" and len(rest) == 1:
        return ShowActor(path=normalize_path(rest[0]))
    if what in _DEAD_LETTERS and not rest:
        return ShowDeadLetters()
    return ShowUsage()


def _chat_id(word: str) -> int | None:
    """A user id, or a group's (negative) chat id: "-100777"."""
    if word.startswith("-"):
        group = _user_id(word[1:])
        return -group if group else None
    return _user_id(word)


def _user_id(word: str) -> int | None:
    """A Telegram user id: ASCII digits only (``int()`` would also take "²" or "1_000")."""
    if not (word.isascii() and word.isdigit() and len(word) <= _MAX_ID_DIGITS):
        return None
    value = int(word)
    return value if value <= _MAX_ID else None
