"""The sandbox page's JSON API, driven over HTTP as the page drives it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actors.sandbox.people import ADMIN_ID, People
from actors.sandbox.web import SandboxPage
from tests.emulators.telegram import TelegramEmulator

TOKEN = "777000:WEB-TEST"


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def people(telegram: TelegramEmulator, tmp_path: Path) -> People:
    people = People(telegram, tmp_path / "users.json")
    people.load()
    return people


@pytest.fixture
def page(telegram: TelegramEmulator, people: People) -> Iterator[SandboxPage]:
    with SandboxPage(telegram, people, models="Offline demo model", demo=True) as page:
        yield page


@pytest.fixture
def client(page: SandboxPage) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=page.url, timeout=10.0) as client:
        yield client


def bot_says(telegram: TelegramEmulator, chat_id: int, text: str, **params: Any) -> int:
    """Send a message as the bot does, through the Bot API; returns its message id."""
    response = httpx.post(
        f"{telegram.bot_base_url}{TOKEN}/sendMessage",
        json={"chat_id": chat_id, "text": text, **params},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["result"]["message_id"])


def test_the_page_is_served_with_a_policy_that_allows_no_inline_script(
    client: httpx.Client,
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert 'src="/page.js"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/page.js").headers["content-type"].startswith("text/javascript")


def test_the_state_lists_the_admin_first_and_says_the_demo_model_answers(
    client: httpx.Client,
) -> None:
    state = client.get("/api/state").json()

    assert state["demo"] is True
    assert state["models"] == "Offline demo model"
    assert state["users"][0] == {
        "id": ADMIN_ID,
        "name": "Ada (admin)",
        "username": "ada_admin",
        "admin": True,
        "bot_messages": 0,
    }


def test_a_new_user_gets_a_fresh_id_and_an_empty_name_is_refused(client: httpx.Client) -> None:
    first = client.post("/api/users", json={"name": "Alice"}).json()
    second = client.post("/api/users", json={"name": "Bob Builder"}).json()
    refused = client.post("/api/users", json={"name": "   "})

    assert (first["id"], second["id"]) == (1001, 1002)
    assert second["username"] == "bobbuilder1002"
    assert refused.status_code == 400


def test_a_text_reaches_the_bot_as_a_telegram_update_with_command_entities(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    client.post("/api/send", json={"user_id": ADMIN_ID, "text": "/model now"})

    [update] = telegram.pending_updates()
    assert update["message"]["text"] == "/model now"
    assert update["message"]["entities"][0]["type"] == "bot_command"
    assert update["message"]["from"]["id"] == ADMIN_ID


def test_an_empty_text_or_an_unknown_user_is_refused(client: httpx.Client) -> None:
    assert client.post("/api/send", json={"user_id": ADMIN_ID, "text": " "}).status_code == 400
    assert client.post("/api/send", json={"user_id": 5, "text": "hi"}).status_code == 404
    assert client.post("/api/send", content=b"not json").status_code == 400


def test_a_chat_shows_the_bots_message_as_telegram_parsed_it_with_its_keyboard(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Pick", "callback_data": "m:1"}]]}
    bot_says(
        telegram,
        ADMIN_ID,
        "<b>Hi</b> &lt;script&gt;",
        parse_mode="HTML",
        reply_markup=keyboard,
    )

    view = client.get(f"/api/chats/{ADMIN_ID}").json()

    [message] = view["messages"]
    assert message["from_bot"] is True
    assert message["html"] == "<b>Hi</b> &lt;script&gt;"
    assert message["buttons"] == [[{"text": "Pick", "data": "m:1", "url": None}]]
    assert message["edits"] == 0


def test_pressing_a_button_sends_a_callback_query_and_a_gone_one_is_refused(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Pick", "callback_data": "m:1"}]]}
    message_id = bot_says(telegram, ADMIN_ID, "Choose", reply_markup=keyboard)

    pressed = client.post(
        "/api/press", json={"user_id": ADMIN_ID, "message_id": message_id, "data": "m:1"}
    )
    gone = client.post(
        "/api/press", json={"user_id": ADMIN_ID, "message_id": message_id, "data": "m:2"}
    )

    assert pressed.status_code == 200
    [update] = telegram.pending_updates()
    assert update["callback_query"]["data"] == "m:1"
    assert gone.status_code == 409


def test_a_file_arrives_as_a_document_with_its_caption(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    response = client.post(
        "/api/upload",
        data={"user_id": str(ADMIN_ID), "caption": "my notes"},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )

    assert response.status_code == 200
    [update] = telegram.pending_updates()
    document = update["message"]["document"]
    assert document["file_name"] == "notes.txt"
    assert telegram.file_bytes(document["file_id"]) == b"hello"
    assert update["message"]["caption"] == "my notes"
    shown = client.get(f"/api/chats/{ADMIN_ID}").json()["messages"][0]
    assert shown["document"] == {"name": "notes.txt", "size": 5, "photo": False}


def test_a_long_poll_returns_as_soon_as_the_chat_changes(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    revision = client.get(f"/api/chats/{ADMIN_ID}").json()["revision"]
    timer = threading.Timer(0.3, bot_says, args=(telegram, ADMIN_ID, "news"))
    timer.start()
    started = time.monotonic()
    try:
        view = client.get(f"/api/chats/{ADMIN_ID}", params={"since": revision, "wait": 10}).json()
    finally:
        timer.join()

    assert time.monotonic() - started < 5
    assert view["revision"] != revision
    assert [m["text"] for m in view["messages"]] == ["news"]


def test_a_long_poll_sees_an_edit_in_place(
    client: httpx.Client, telegram: TelegramEmulator
) -> None:
    message_id = bot_says(telegram, ADMIN_ID, "Hel")
    revision = client.get(f"/api/chats/{ADMIN_ID}").json()["revision"]
    httpx.post(
        f"{telegram.bot_base_url}{TOKEN}/editMessageText",
        json={"chat_id": ADMIN_ID, "message_id": message_id, "text": "Hello"},
    )

    view = client.get(f"/api/chats/{ADMIN_ID}", params={"since": revision, "wait": 5}).json()

    assert [(m["text"], m["edits"]) for m in view["messages"]] == [("Hello", 1)]


def test_a_long_poll_without_change_answers_when_its_wait_is_over(
    client: httpx.Client,
) -> None:
    revision = client.get(f"/api/chats/{ADMIN_ID}").json()["revision"]
    started = time.monotonic()

    view = client.get(f"/api/chats/{ADMIN_ID}", params={"since": revision, "wait": 0.3}).json()

    assert 0.25 < time.monotonic() - started < 3
    assert view["revision"] == revision


def test_requests_naming_another_host_or_from_another_page_are_refused(
    client: httpx.Client,
) -> None:
    rebound = client.get("/api/state", headers={"Host": "evil.example:80"})
    cross_site = client.post(
        "/api/send",
        json={"user_id": ADMIN_ID, "text": "hi"},
        headers={"Origin": "http://evil.example"},
    )
    same_site = client.post(
        "/api/send",
        json={"user_id": ADMIN_ID, "text": "hi"},
        headers={"Origin": client.base_url.scheme + "://" + client.base_url.netloc.decode()},
    )

    assert rebound.status_code == 403
    assert cross_site.status_code == 403
    assert same_site.status_code == 200


def test_users_added_on_the_page_come_back_with_their_ids_after_a_restart(
    client: httpx.Client, tmp_path: Path
) -> None:
    client.post("/api/users", json={"name": "Alice"})

    with TelegramEmulator(token=TOKEN) as fresh:
        people = People(fresh, tmp_path / "users.json")
        people.load()

        assert [(p.id, p.name) for p in people.all()] == [
            (ADMIN_ID, "Ada (admin)"),
            (1001, "Alice"),
        ]
        assert people.add("Bob").id == 1002
    saved = json.loads((tmp_path / "users.json").read_text())
    assert [user["id"] for user in saved] == [1001, 1002]
