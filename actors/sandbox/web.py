"""The sandbox's web page and the small JSON API behind it, on 127.0.0.1 only.

The page plays the Telegram client: it asks this server to make a simulated user send a text,
a command or a file, or press an inline button, and it long-polls one chat for what is in it
now. Everything goes through the Telegram emulator's client side, so the bot sees exactly the
updates a real client would cause, and the page shows exactly what the emulator holds::

    GET  /                       the page (page.html, page.css, page.js beside this module)
    GET  /api/state              the bot, the users (with message counts), the models in use
    POST /api/users              {"name"} -> a new user
    POST /api/send               {"user_id", "text"}: the user writes to the bot
    POST /api/upload             multipart: user_id, caption, file: the user sends a document
    POST /api/press              {"user_id", "message_id", "data"}: the user presses a button
    GET  /api/chats/{id}?since=REV&wait=S   the chat; waits up to S s for a change from REV

Only the loopback address is served, and requests naming another host (DNS rebinding) or
posted from another origin are refused: the page can make users talk to the bot, which may
hold real API keys. Message text reaches the page as HTML built by
:func:`actors.sandbox.render.message_html`, escaped and limited to a fixed set of tags; the page
is also served with a Content-Security-Policy that allows no inline script.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Self

from actors.sandbox.render import message_html
from tests.emulators._http import HttpServer, Request, bytes_response, json_response

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from actors.sandbox.people import People
    from tests.emulators._http import Reply
    from tests.emulators.telegram import ChatMessage, TelegramEmulator

MAX_WAIT: Final = 25.0
TYPING_SECONDS: Final = 5.0  # Telegram shows "typing" for about five seconds per action
_SLICE: Final = 0.5  # a long poll rechecks this often whether the server is closing
_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_STATIC: Final = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
}


class _ClientError(Exception):
    """A request the page should not have sent; answered 400 (or ``status``) with the text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def message_json(message: ChatMessage, names: dict[int, str]) -> dict[str, Any]:
    """One message as the page draws it: HTML body, buttons, edit count, document."""
    document = message.document or message.photo
    return {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "sender": "bot" if message.from_bot else names.get(message.sender_id, "someone"),
        "html": message_html(message.text, message.entities),
        "text": message.text,
        "buttons": [
            [{"text": b.text, "data": b.callback_data, "url": b.url} for b in row]
            for row in message.buttons
        ],
        "edits": len(message.history),
        "deleted": message.deleted,
        "date": message.date,
        "reply_to": message.reply_to_message_id,
        "document": None
        if document is None
        else {
            "name": document.file_name or ("photo.jpg" if message.photo else "file"),
            "size": document.file_size,
            "photo": message.photo is not None,
        },
    }


class SandboxPage:
    """The page server; start it with ``with SandboxPage(...) as page:`` and open ``page.url``.

    Args:
        telegram: the running Telegram emulator the bot polls.
        people: the simulated users (already loaded).
        models: what the page says answers come from, e.g. "offline demo model".
        demo: whether the offline demo model answers (the page labels it clearly).
        port: 0 picks a free port.
    """

    def __init__(
        self,
        telegram: TelegramEmulator,
        people: People,
        *,
        models: str,
        demo: bool,
        port: int = 0,
    ) -> None:
        self._telegram = telegram
        self._people = people
        self._about = {"models": models, "demo": demo}
        self._server = HttpServer(host="127.0.0.1", port=port, name="sandbox-page")
        self._static: dict[str, bytes] = {}
        routes: list[tuple[str, str, Callable[[Request], Any]]] = [
            ("GET", "/api/state", self._state),
            ("POST", "/api/users", self._add_user),
            ("POST", "/api/send", self._send),
            ("POST", "/api/upload", self._upload),
            ("POST", "/api/press", self._press),
            ("GET", "/api/chats/{chat_id}", self._chat),
        ]
        for path in _STATIC:
            self._server.route("GET", path, self._guarded(self._serve_static))
        for method, pattern, handler in routes:
            self._server.route(method, pattern, self._guarded(handler))

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        """Read the page's files and start serving.

        Raises:
            OSError: the port is taken (or cannot be bound).
        """
        folder = resources.files(__package__) / "static"
        for path, (name, _type) in _STATIC.items():
            self._static[path] = (folder / name).read_bytes()
        self._server.start()
        return self

    def close(self) -> None:
        """Stop serving; long polls give up within half a second; every thread is joined."""
        self._server.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``: what to open in a browser."""
        return self._server.base_url + "/"

    # --- guarding ---------------------------------------------------------------------------

    def _guarded(self, handler: Callable[[Request], Any]) -> Callable[[Request], Reply]:
        """Refuse foreign hosts and origins; turn a :class:`_ClientError` into its answer."""

        def run(request: Request) -> Reply:
            port = self._server.port
            local = {f"127.0.0.1:{port}", f"localhost:{port}"}
            if request.headers.get("host", "") not in local:
                return json_response({"error": "this page is served on 127.0.0.1 only"}, 403)
            origin = request.headers.get("origin")
            if request.method != "GET" and origin is not None and origin[7:] not in local:
                return json_response({"error": "requests from other pages are refused"}, 403)
            try:
                reply: Reply = handler(request)
            except _ClientError as exc:
                return json_response({"error": str(exc)}, exc.status)
            return reply

        return run

    # --- routes -----------------------------------------------------------------------------

    def _serve_static(self, request: Request) -> Reply:
        _name, content_type = _STATIC[request.path]
        headers = (("Content-Security-Policy", _CSP), ("Cache-Control", "no-store"))
        return bytes_response(
            self._static[request.path], content_type=content_type, headers=headers
        )

    def _state(self, _request: Request) -> Reply:
        people = self._people.all()
        counts = {
            p.id: sum(not m.deleted for m in self._telegram.bot_messages(p.id)) for p in people
        }
        return json_response(
            {
                "bot": {
                    "username": self._telegram.bot_username,
                    "name": self._telegram.bot_first_name,
                },
                "users": [{**p.to_json(), "bot_messages": counts[p.id]} for p in people],
                **self._about,
            }
        )

    def _add_user(self, request: Request) -> Reply:
        body = _json_body(request)
        try:
            person = self._people.add(str(body.get("name", "")))
        except ValueError as exc:
            raise _ClientError(str(exc)) from None
        return json_response(person.to_json(), 201)

    def _send(self, request: Request) -> Reply:
        body = _json_body(request)
        user_id = self._user_id(body.get("user_id"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ClientError("Telegram clients do not send empty messages")
        update_id = self._telegram.send_text(user_id, text)
        return json_response({"update_id": update_id})

    def _upload(self, request: Request) -> Reply:
        user_id = self._user_id(request.form.get("user_id"))
        upload = request.files.get("file")
        if upload is None or not upload.data:
            raise _ClientError("no file in the request (field 'file')")
        update_id = self._telegram.send_document(
            user_id,
            upload.data,
            file_name=upload.filename or "file",
            mime_type=upload.content_type,
            caption=request.form.get("caption") or None,
        )
        return json_response({"update_id": update_id})

    def _press(self, request: Request) -> Reply:
        body = _json_body(request)
        user_id = self._user_id(body.get("user_id"))
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _ClientError("expected a message_id and the button's data")
        try:
            message = self._telegram.message(user_id, message_id)
            update_id = self._telegram.press_button(user_id, message, data)
        except (KeyError, ValueError) as exc:
            raise _ClientError(f"that button is gone: {exc}", 409) from None
        return json_response({"update_id": update_id})

    def _chat(self, request: Request) -> Reply:
        chat_id = self._user_id(request.path_params["chat_id"])
        since = request.query.get("since")
        try:
            wait = min(max(float(request.query.get("wait", "0")), 0.0), MAX_WAIT)
        except ValueError:
            raise _ClientError("wait is a number of seconds") from None
        deadline = time.monotonic() + wait
        while since == self._revision(chat_id) and not self._server.closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self._telegram.wait_for(
                    lambda: self._revision(chat_id) != since, timeout=min(remaining, _SLICE)
                )
            except TimeoutError:
                continue
        return json_response(self._chat_view(chat_id))

    # --- helpers ----------------------------------------------------------------------------

    def _user_id(self, value: object) -> int:
        try:
            user_id = int(str(value))
            self._people.get(user_id)
        except (KeyError, ValueError):
            raise _ClientError(f"unknown user {value!r}", 404) from None
        return user_id

    def _revision(self, chat_id: int) -> str:
        """Changes whenever anything the page shows of the chat changes."""
        messages = self._telegram.chat_messages(chat_id)
        edits = sum(len(m.history) for m in messages)
        deleted = sum(m.deleted for m in messages)
        actions = len(self._telegram.chat_actions(chat_id))
        return f"{len(messages)}.{edits}.{deleted}.{actions}"

    def _chat_view(self, chat_id: int) -> dict[str, Any]:
        names = {p.id: p.name for p in self._people.all()}
        messages = self._telegram.chat_messages(chat_id)
        actions = self._telegram.chat_actions(chat_id)
        last_bot = max((m.sent_at for m in messages if m.from_bot), default=0.0)
        typing = bool(
            actions
            and actions[-1].action == "typing"
            and actions[-1].at > last_bot
            and time.time() - actions[-1].at < TYPING_SECONDS
        )
        return {
            "chat_id": chat_id,
            "revision": self._revision(chat_id),
            "typing": typing,
            "messages": [message_json(m, names) for m in messages if not m.deleted],
        }


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise _ClientError("expected a JSON object") from None
    if not isinstance(body, dict):
        raise _ClientError("expected a JSON object")
    return body
