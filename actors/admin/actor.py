"""The admin actor: every ``/admin`` and ``/debug`` command and every ``a:`` button press.

Sessions forward these as :class:`AdminCommand` and :class:`AdminButton` without judging;
this actor checks the sender against ``admin_ids`` itself (anyone else is refused and
nothing changes), asks storage for what it needs, and answers through the gateway. When
it changes a user's access it tells the sessions that may have cached it
:class:`AccessChanged`, so a block holds from the user's very next message.

It also runs ``/admin login`` (a flow from ``actors/flows``; with ADMIN_PASSWORD set, the
commands ``commands.requires_elevation`` names need it) and sends :class:`NotifyAdmins`
notices to every admin, rate-limited per topic (crash reports arrive that way too).

The logic is in plain modules beside it (``commands``, ``access``, ``stats``, ``users``,
``models``, ``debug``, ``login``, ``alerts``); this class only gathers the figures and
sends. If storage fails or does not answer in time, the admin is told so and the actor
carries on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from actors.admin.access import chats_to_tell, decide, decide_group
from actors.admin.alerts import AlertLimiter, with_held_back
from actors.admin.commands import (
    AdminRequest,
    ChangeAccess,
    Login,
    Logout,
    RunRefresh,
    SetTier,
    ShowActor,
    ShowDeadLetters,
    ShowGroups,
    ShowHealth,
    ShowModels,
    ShowStats,
    ShowTree,
    ShowUsage,
    ShowUsers,
    ShowUserUsage,
    parse_button,
    parse_command,
    requires_elevation,
)
from actors.admin.debug import as_pre, debug_pages
from actors.admin.groups import GroupsPage, groups_keyboard, render_groups_page
from actors.admin.login import (
    LOGGED_OUT,
    LOGIN_FLOW,
    NOT_LOGGED_IN,
    NOTHING_GUARDED,
    PRIVATE_ONLY,
    Elevations,
    locked_out,
    login_flow,
    login_required,
)
from actors.admin.messages import AdminButton, AdminCommand, NotifyAdmins
from actors.admin.models import render_models
from actors.admin.stats import (
    WEEK,
    StatsFigures,
    day_start,
    render_stats,
    restarts_last_hour,
)
from actors.admin.tiers import TierDesk
from actors.admin.users import (
    PAGE_SIZE,
    UsersPage,
    clamp_page,
    count_in,
    offset_of,
    page_count,
    render_users_page,
    users_keyboard,
)
from actors.chat import texts
from actors.chat.messages import AccessChanged, GroupAccessChanged, UserRef
from actors.config import AdminConfig
from actors.flows import Ended, FlowEngine
from actors.flows.messages import CancelFlow, FlowInput
from actors.flows.runner import FLOW_TOPIC, FlowRunner
from actors.health.messages import ReportHealth
from actors.llm.catalog import RefreshModels
from actors.scheduler.messages import JobDue
from actors.storage import (
    CountActiveChats,
    CountGroups,
    CountUsers,
    GetChat,
    GetLlmStats,
    GetUser,
    ListCachedModels,
    ListGroups,
    ListUsers,
    SetGroupAccess,
    SetUserState,
)
from actors.telegram.messages import AnswerButton, EditText, Keyboard, SendText
from actors.usage import UsagePolicy
from runtime import (
    Actor,
    ActorContext,
    ActorSystemError,
    Address,
    Message,
    SystemSnapshot,
    current_correlation_id,
    receive,
)
from storage import Chat, StorageError, User, UserCounts

# What may go wrong while answering, besides a bug: storage fails or does not answer.
_EXPECTED_FAILURES = (ActorSystemError, StorageError)
_TOAST_LIMIT = 190  # answerCallbackQuery texts stop at 200 characters


@dataclass(frozen=True, kw_only=True)
class AdminSettings:
    """What the admin actor needs from the configuration."""

    admin_ids: frozenset[int]
    default_provider: str
    provider_models: Mapping[str, str]  # each usable provider -> its default model
    storage_timeout: float = 10.0
    page_size: int = PAGE_SIZE
    usage: UsagePolicy = field(default_factory=UsagePolicy.unlimited)


class AdminActor(Actor):
    """See the module docstring. ``snapshot`` returns the live tree (any thread may call it)."""

    def __init__(
        self,
        context: ActorContext,
        *,
        settings: AdminSettings,
        storage: Address,
        gateway: Address,
        sessions: Address,
        snapshot: Callable[[], SystemSnapshot],
        health: Address | None = None,
        catalog: Address | None = None,
        config: AdminConfig | None = None,
        scheduler: Address | None = None,
    ) -> None:
        super().__init__(context)
        self._config = config or AdminConfig()  # the default: no password, nothing guarded
        specs = {LOGIN_FLOW: login_flow(self._config)} if self._config.password else {}
        self._flows = FlowRunner(
            FlowEngine(specs),
            context=context,
            gateway=gateway,
            sessions=sessions,
            scheduler=scheduler,  # None: timers by tell_later (tests, or no scheduler)
            on_ended=self._flow_ended,
        )
        self._elevations = Elevations(
            elevation_seconds=self._config.elevation_minutes * 60.0,
            lockout_seconds=self._config.lockout_minutes * 60.0,
        )
        self._alerts = AlertLimiter(self._config.alert_interval_seconds)
        self._catalog = catalog  # None: no model catalog (tests that do not need one)
        self._health = health  # None: no health supervisor (tests that do not need one)
        self._settings = settings
        self._storage = storage
        self._gateway = gateway
        self._sessions = sessions
        self._snapshot = snapshot
        self._tiers = TierDesk(settings.usage, self._ask)

    # -- commands ------------------------------------------------------------------------------

    @receive
    def on_command(self, message: AdminCommand) -> None:
        reply_to = message.message_id if message.chat_id < 0 else None
        if not self._is_admin(message.user):
            logger.info(
                "refused /{} from user {}: not an admin cid={}",
                message.command,
                message.user.id,
                current_correlation_id(),
            )
            self._send(message.chat_id, texts.ADMINS_ONLY, reply_to=reply_to)
            return
        request = parse_command(message.command, message.args)
        if isinstance(request, Login | Logout):
            self._login_command(message, request)
            return
        if self._guarded(request, message.user):
            self._send(message.chat_id, login_required(self._config), reply_to=reply_to)
            return
        try:
            self._answer(message, request, reply_to)
        except _EXPECTED_FAILURES as exc:
            self._send(message.chat_id, self._failed(exc), reply_to=reply_to)

    def _answer(self, message: AdminCommand, request: AdminRequest, reply_to: int | None) -> None:
        chat_id = message.chat_id
        match request:
            case ShowUsers() | ShowGroups():
                text, buttons = self._list_page(request)
                self._send(chat_id, text, buttons=buttons, reply_to=reply_to)
            case ShowHealth():
                self._show_health(chat_id, reply_to)
            case RunRefresh():
                self._refresh_models(chat_id, reply_to)
            case ShowTree() | ShowActor() | ShowDeadLetters():
                for page_text in debug_pages(request, self._snapshot()):
                    self._gateway.tell(
                        SendText(
                            chat_id=chat_id,
                            text=as_pre(page_text),
                            format="html",
                            reply_to_message_id=reply_to,
                        )
                    )
            case _:
                self._send(chat_id, self._text_for(message.user, request), reply_to=reply_to)

    def _text_for(
        self,
        admin: UserRef,
        request: ShowStats | SetTier | ShowUserUsage | ChangeAccess | ShowModels | ShowUsage,
    ) -> str:
        """The reply to a command answered with one plain message."""
        match request:
            case ShowStats():
                return "\n\n".join((render_stats(self._stats()), self._tiers.stats()))
            case SetTier() | ShowUserUsage():
                return self._usage_command(admin, request)
            case ChangeAccess():
                return self._change_access(admin, request)
            case ShowModels():
                return self._models()
            case ShowUsage():
                return texts.ADMIN_COMMANDS

    # -- buttons -------------------------------------------------------------------------------

    @receive
    def on_button(self, message: AdminButton) -> None:
        if not self._is_admin(message.user):
            logger.info(
                "refused button {!r} from user {}: not an admin cid={}",
                message.data,
                message.user.id,
                current_correlation_id(),
            )
            self._toast(message, texts.ADMINS_ONLY)
            return
        request = parse_button(message.data)
        if self._guarded(request, message.user):
            self._toast(message, login_required(self._config))
            return
        try:
            match request:
                case ChangeAccess():
                    verdict = self._change_access(message.user, request)
                    self._toast(message, verdict)
                    self._edit(message, verdict)
                case ShowUsers() | ShowGroups():
                    self._edit(message, *self._list_page(request))
                    self._toast(message, "")
                case None:
                    self._toast(message, "")
        except _EXPECTED_FAILURES as exc:
            self._toast(message, self._failed(exc))

    # -- what the commands do ------------------------------------------------------------------

    def _stats(self) -> StatsFigures:
        now = time.time()
        today = day_start(now)
        snapshot = self._snapshot()
        users: UserCounts = self._ask(CountUsers())
        return StatsFigures(
            users=users,
            chats_today=self._ask(CountActiveChats(since=today)),
            chats_week=self._ask(CountActiveChats(since=now - WEEK)),
            requests=self._ask(GetLlmStats(since=today)),
            uptime_s=snapshot.uptime_s,
            restarts_last_hour=restarts_last_hour(snapshot),
        )

    def _users_page(self, request: ShowUsers) -> UsersPage:
        size = self._settings.page_size
        counts: UserCounts = self._ask(CountUsers())
        total = count_in(counts, request.state)
        page = clamp_page(request.page, total, size)
        users: tuple[User, ...] = self._ask(
            ListUsers(state=request.state, limit=size, offset=offset_of(page, size))
        )
        return UsersPage(
            state=request.state,
            page=page,
            pages=page_count(total, size),
            total=total,
            users=users,
        )

    def _list_page(self, request: ShowUsers | ShowGroups) -> tuple[str, Keyboard]:
        """A page of ``/admin users`` or ``/admin groups``, and its Prev / Next keyboard."""
        if isinstance(request, ShowUsers):
            page = self._users_page(request)
            return render_users_page(page), users_keyboard(page)
        groups = self._groups_page(request)
        return render_groups_page(groups), groups_keyboard(groups)

    def _groups_page(self, request: ShowGroups) -> GroupsPage:
        size = self._settings.page_size
        total: int = self._ask(CountGroups(access=request.access))
        page = clamp_page(request.page, total, size)
        groups: tuple[Chat, ...] = self._ask(
            ListGroups(access=request.access, limit=size, offset=offset_of(page, size))
        )
        return GroupsPage(
            access=request.access,
            page=page,
            pages=page_count(total, size),
            total=total,
            groups=groups,
        )

    def _change_access(self, admin: UserRef, request: ChangeAccess) -> str:
        if request.is_group:
            return self._change_group_access(admin, request)
        user_id = request.user_id
        record: User | None = self._ask(GetUser(user_id=user_id))
        decision = decide(request.action, user_id, record, admin_ids=self._settings.admin_ids)
        if decision.state is None:
            return decision.verdict
        self._ask(SetUserState(user_id=user_id, state=decision.state, by=admin.id))
        for chat_id in chats_to_tell(self._snapshot(), self._sessions.path, user_id):
            self._sessions.child(chat_id).tell(AccessChanged(user_id=user_id, state=decision.state))
        if decision.notice is not None:
            self._send(user_id, decision.notice)
        logger.info(
            "admin {} {}: user {} is now {} cid={}",
            admin.id,
            request.action,
            user_id,
            decision.state,
            current_correlation_id(),
        )
        return decision.verdict

    def _change_group_access(self, admin: UserRef, request: ChangeAccess) -> str:
        """Decide on a whole group; its session applies it from the group's next message."""
        chat_id = request.user_id
        record: Chat | None = self._ask(GetChat(chat_id=chat_id))
        decision = decide_group(request.action, chat_id, record)
        if decision.state is None:
            return decision.verdict
        self._ask(SetGroupAccess(chat_id=chat_id, access=decision.state, by=admin.id))
        self._sessions.child(chat_id).tell(
            GroupAccessChanged(chat_id=chat_id, access=decision.state)
        )
        if decision.notice is not None:
            self._send(chat_id, decision.notice)
        logger.info(
            "admin {} {}: group {} is now {} cid={}",
            admin.id,
            request.action,
            chat_id,
            decision.state,
            current_correlation_id(),
        )
        return decision.verdict

    def _usage_command(self, admin: UserRef, request: SetTier | ShowUserUsage) -> str:
        if isinstance(request, ShowUserUsage):
            return self._tiers.usage(request.user_id)
        verdict = self._tiers.set_tier(request.user_id, request.tier)
        logger.info(
            "admin {} tier {} {}: {} cid={}",
            admin.id,
            request.user_id,
            request.tier,
            verdict,
            current_correlation_id(),
        )
        return verdict

    def _show_health(self, chat_id: int, reply_to: int | None) -> None:
        if self._health is None:
            self._send(chat_id, texts.HEALTH_OFF, reply_to=reply_to)
        else:  # the health actor sends its view to the chat itself
            self._health.tell(ReportHealth(chat_id=chat_id, reply_to_message_id=reply_to))

    def _refresh_models(self, chat_id: int, reply_to: int | None) -> None:
        if self._catalog is None:
            self._send(chat_id, texts.REFRESH_OFF, reply_to=reply_to)
        else:  # the catalog answers in the chat itself, once the providers have
            self._catalog.tell(RefreshModels(chat_id=chat_id, reply_to_message_id=reply_to))

    def _models(self) -> str:
        return render_models(
            self._settings.provider_models,
            self._settings.default_provider,
            self._ask(ListCachedModels()),
        )

    # -- /admin login and the flows it runs on -------------------------------------------------

    def _guarded(self, request: object, user: UserRef) -> bool:
        """Whether ``request`` must be refused: it needs a login this admin does not have."""
        if not self._config.password or not requires_elevation(request):
            return False
        return not self._elevations.is_elevated(user.id, time.monotonic())

    def _login_command(self, message: AdminCommand, request: Login | Logout) -> None:
        chat_id, user = message.chat_id, message.user
        if isinstance(request, Logout):
            self._send(chat_id, LOGGED_OUT if self._elevations.revoke(user.id) else NOT_LOGGED_IN)
            logger.info("admin {} logged out cid={}", user.id, current_correlation_id())
        elif not self._config.password:
            self._send(chat_id, NOTHING_GUARDED)
        elif chat_id != user.id:
            self._send(chat_id, PRIVATE_ONLY, reply_to=message.message_id)
        elif wait := self._elevations.locked_for(user.id, time.monotonic()):
            self._send(chat_id, locked_out(wait))
        else:
            self._flows.start(LOGIN_FLOW, chat_id=chat_id, user_id=user.id)

    def _flow_ended(self, ended: Ended) -> None:
        if ended.name != LOGIN_FLOW:
            return
        user_id, cid = ended.user_id, current_correlation_id()
        if ended.ending == "done":
            self._elevations.grant(user_id, time.monotonic())
            logger.info("admin {} logged in cid={}", user_id, cid)
        elif ended.ending == "exhausted":
            self._elevations.lock(user_id, time.monotonic())
            logger.warning("admin {} login locked: too many wrong passwords cid={}", user_id, cid)
            self.context.address.tell(
                NotifyAdmins(
                    text=f"⛔ Admin login for user {user_id} locked after wrong passwords.",
                    topic=f"login-locked:{user_id}",
                )
            )
        else:
            logger.info("admin {} login ended: {} cid={}", user_id, ended.ending, cid)

    @receive
    def on_flow_input(self, message: FlowInput) -> None:
        """The answer to a flow's prompt, captured by the chat's session (maybe a password)."""
        self._flows.on_input(message)

    @receive
    def on_cancel_flow(self, message: CancelFlow) -> None:
        self._flows.on_cancel(message)

    @receive
    def on_job_due(self, message: JobDue) -> None:
        if message.topic == FLOW_TOPIC:
            self._flows.on_job_due(message)
        else:
            logger.warning("admin: job {} has unknown topic {!r}", message.job_id, message.topic)

    # -- notices to admins ---------------------------------------------------------------------

    @receive
    def on_notify(self, message: NotifyAdmins) -> None:
        """Tell every admin, unless this topic was told less than an interval ago.

        Crash reports arrive here too, so this must never fail loudly: a failure is logged
        below ERROR, where the crash reporter does not listen, or one crash would feed itself.
        """
        try:
            held_back = self._alerts.admit(
                message.topic, urgent=message.urgent, now=time.monotonic()
            )
            if held_back is None:
                return
            text = with_held_back(message.text, held_back)
            for admin_id in sorted(self._settings.admin_ids):
                self._send(admin_id, text)
        except Exception as exc:  # noqa: BLE001 - boundary: see the docstring
            logger.opt(exception=exc).warning("admin: notifying admins failed")

    # -- plumbing ------------------------------------------------------------------------------

    def _is_admin(self, user: UserRef) -> bool:
        return user.id in self._settings.admin_ids

    def _ask(self, message: Message) -> Any:
        return self._storage.ask(message, timeout=self._settings.storage_timeout)

    def _failed(self, exc: Exception) -> str:
        logger.opt(exception=exc).error(
            "admin request failed: {}: {} cid={}",
            type(exc).__name__,
            exc,
            current_correlation_id(),
        )
        return texts.ADMIN_FAILED.format(error=type(exc).__name__)

    def _send(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Keyboard = (),
        reply_to: int | None = None,
    ) -> None:
        self._gateway.tell(
            SendText(
                chat_id=chat_id,
                text=text,
                format="plain",
                buttons=buttons,
                reply_to_message_id=reply_to,
            )
        )

    def _edit(self, message: AdminButton, text: str, buttons: Keyboard = ()) -> None:
        self._gateway.tell(
            EditText(
                chat_id=message.chat_id,
                message_id=message.message_id,
                text=text,
                format="plain",
                buttons=buttons,
            )
        )

    def _toast(self, message: AdminButton, text: str) -> None:
        self._gateway.tell(AnswerButton(callback_id=message.callback_id, text=text[:_TOAST_LIMIT]))
