"""The chat's menus: ``/model`` and ``/mode``, and what their buttons choose.

:class:`Menus` is plain logic a :class:`~actors.chat.session.ChatSession` holds. The
``/model`` menu asks every provider for its models and is shown once all have answered or
after :data:`MENU_WAIT_SECONDS`, whichever comes first, offering only the models the
asker's tier may use. The ``/mode`` menu lists the configured modes. A choice is stored at
once; the session keeps the chat's settings, so :meth:`Menus.press` returns the new ones.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from actors.chat import texts
from actors.chat.messages import ButtonPressed, ModelsListed
from actors.chat.spending import Spending
from actors.config import ModeConfig
from actors.llm.provider import ListModels
from actors.storage import ReplaceModels, SetChatMode, SetChatModel
from actors.telegram.messages import AnswerButton, Button, EditText, SendText
from runtime import Address
from storage import ChatSettings

MENU_WAIT_SECONDS = 3.0
MODE_PREFIX = "md:"


def mode_token(name: str) -> str:
    """callback_data for a mode button: fixed length (Telegram allows 64 bytes), any name."""
    return MODE_PREFIX + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:16]


def menu_token(provider: str, model: str) -> str:
    """callback_data for a model button: fixed length, whatever the model name's length."""
    digest = hashlib.sha1(f"{provider}\x00{model}".encode(), usedforsecurity=False)
    return "m:" + digest.hexdigest()[:16]


@dataclass(kw_only=True)
class _Menu:
    menu_id: str
    update_id: int = 0
    user_id: int = 0  # who opened it: only models their tier may use are offered
    reply_to: int | None = None  # in a group, the /model message it answers
    listed: dict[str, ModelsListed] = field(default_factory=dict)
    shown: bool = False


class Menus:
    """One chat's ``/model`` and ``/mode`` menus; see the module docstring.

    ``say`` sends a text to the chat (the session's, so a reply in a group answers the
    message being handled); ``handled`` tells the gateway an update is done with, for the
    ``/model`` update the session kept while the menu waited for providers.
    """

    def __init__(
        self,
        chat_id: int,
        *,
        storage: Address,
        gateway: Address,
        providers: Mapping[str, Address],
        modes: Mapping[str, ModeConfig],
        spending: Spending,
        say: Callable[[str], None],
        handled: Callable[[int], None],
    ) -> None:
        self._chat_id = chat_id
        self._storage = storage
        self._gateway = gateway
        self._providers = providers
        self._modes = modes
        self._spending = spending
        self._say = say
        self._handled = handled
        self._menu: _Menu | None = None
        self._choices: dict[str, tuple[str, str]] = {}  # model button token -> its choice

    @property
    def unshown(self) -> int | None:
        """The update of a ``/model`` menu still waiting for providers, if there is one."""
        menu = self._menu
        return menu.update_id if menu is not None and not menu.shown else None

    # -- /model --------------------------------------------------------------------------------

    def open_models(self, update_id: int, user_id: int, *, reply_to: int | None) -> str | None:
        """Ask every provider for its models; the new menu's id, None if there are none.

        The caller keeps ``update_id`` and has :class:`ModelMenuDue` told with that id
        after :data:`MENU_WAIT_SECONDS`. A menu opened before and not shown yet is
        superseded: its update is handled now.
        """
        if not self._providers:
            self._say(texts.NO_MODELS)
            return None
        if self._menu is not None and not self._menu.shown:
            self._handled(self._menu.update_id)  # superseded: never shown
        menu = _Menu(
            menu_id=uuid.uuid4().hex[:8], update_id=update_id, user_id=user_id, reply_to=reply_to
        )
        self._menu = menu
        for address in self._providers.values():
            address.tell(ListModels(chat_id=self._chat_id))
        return menu.menu_id

    def listed(self, message: ModelsListed, current: tuple[str, str]) -> None:
        """A provider's models: cache them, and show the menu once every provider answered."""
        menu = self._menu
        if menu is None or menu.shown:
            return
        menu.listed[message.provider] = message
        if message.error is None and message.models:
            # The model cache /admin models reads: what the provider offers now.
            self._storage.tell(
                ReplaceModels(
                    provider=message.provider, models=tuple((m, m) for m in message.models)
                )
            )
        if set(menu.listed) >= set(self._providers):
            self._show(menu, current)

    def due(self, menu_id: str, current: tuple[str, str]) -> None:
        """The wait is over: show the menu with what the providers answered so far."""
        menu = self._menu
        if menu is not None and menu.menu_id == menu_id and not menu.shown:
            self._show(menu, current)

    def _show(self, menu: _Menu, current: tuple[str, str]) -> None:
        menu.shown = True
        allows = self._spending.model_filter(menu.user_id)
        rows: list[tuple[Button, ...]] = []
        for provider in self._providers:
            listed = menu.listed.get(provider)
            for model in listed.models if listed else ():
                if not allows(provider, model):
                    continue
                token = menu_token(provider, model)
                self._choices[token] = (provider, model)
                mark = "✓ " if (provider, model) == current else ""
                rows.append((Button(text=f"{mark}{provider} · {model}", data=token),))
        if not rows:
            self._say(texts.NO_MODELS)
            self._handled(menu.update_id)
            return
        self._gateway.tell(
            SendText(
                chat_id=self._chat_id,
                text=f"Current model: {current[0]} · {current[1]}\nChoose a model:",
                format="plain",
                buttons=tuple(rows),
                reply_to_message_id=menu.reply_to,
            )
        )
        self._handled(menu.update_id)

    # -- /mode ---------------------------------------------------------------------------------

    def show_modes(self, current: ModeConfig | None, *, reply_to: int | None) -> None:
        """The configured modes as buttons, one a row, the chat's current one ticked."""
        if current is None:
            self._say(texts.NO_CHAT_MODES)
            return
        rows = tuple(
            (Button(text=("✓ " if mode == current else "") + mode.title, data=mode_token(name)),)
            for name, mode in self._modes.items()
        )
        self._gateway.tell(
            SendText(
                chat_id=self._chat_id,
                text=texts.MODE_MENU.format(mode=current.title),
                format="plain",
                buttons=rows,
                reply_to_message_id=reply_to,
            )
        )

    # -- buttons -------------------------------------------------------------------------------

    def press(self, message: ButtonPressed, chat: ChatSettings | None) -> ChatSettings | None:
        """A menu button pressed by an active user: the chat's settings now, None if unchanged.

        ``chat`` is the chat's settings before (None: not read yet). The choice is stored
        here and the button answered; an expired menu's button is answered with why.
        """
        if message.data.startswith(MODE_PREFIX):
            return self._choose_mode(message, chat)
        return self._choose_model(message, chat)

    def _choose_mode(
        self, message: ButtonPressed, chat: ChatSettings | None
    ) -> ChatSettings | None:
        """A mode button: store the choice, so the chat's next requests use its prompt.

        Tokens are derived from the mode's name, so a menu survives a restart; one whose
        mode was removed from the config since is expired.
        """
        name = next((n for n in self._modes if mode_token(n) == message.data), None)
        if name is None:
            self._gateway.tell(
                AnswerButton(callback_id=message.callback_id, text=texts.MODE_MENU_EXPIRED)
            )
            return None
        mode = self._modes[name]
        self._storage.tell(SetChatMode(chat_id=self._chat_id, mode=name))
        before = chat or ChatSettings()
        chosen = ChatSettings(provider=before.provider, model=before.model, mode=name)
        self._gateway.tell(AnswerButton(callback_id=message.callback_id, text=mode.title))
        self._gateway.tell(
            EditText(
                chat_id=self._chat_id,
                message_id=message.message_id,
                text=texts.MODE_SET.format(mode=mode.title),
                format="plain",
            )
        )
        return chosen

    def _choose_model(
        self, message: ButtonPressed, chat: ChatSettings | None
    ) -> ChatSettings | None:
        """A model button: store the choice, if the menu is still known and the tier allows.

        Tokens are remembered only by the menu that showed them, so after a restart (or a
        passivation) the buttons of an older menu are expired.
        """
        choice = self._choices.get(message.data)
        if choice is None:
            self._gateway.tell(
                AnswerButton(callback_id=message.callback_id, text=texts.MENU_EXPIRED)
            )
            return None
        provider, model = choice
        if not self._spending.model_filter(message.user.id)(provider, model):  # another's menu
            self._gateway.tell(
                AnswerButton(callback_id=message.callback_id, text=texts.MODEL_NOT_IN_TIER)
            )
            return None
        self._storage.tell(SetChatModel(chat_id=self._chat_id, provider=provider, model=model))
        chosen = ChatSettings(provider=provider, model=model, mode=chat.mode if chat else None)
        self._gateway.tell(AnswerButton(callback_id=message.callback_id, text=f"Model: {model}"))
        self._gateway.tell(
            EditText(
                chat_id=self._chat_id,
                message_id=message.message_id,
                text=f"Model set: {provider} · {model}",
                format="plain",
            )
        )
        return chosen
