"""/debug: the live actor tree, one actor's figures and the dead letters, for admins."""

from __future__ import annotations

import re

from tests.e2e.harness import BotProcess
from tests.emulators.telegram import ChatMessage, SimUser, TelegramEmulator


def say(telegram: TelegramEmulator, user: SimUser, text: str, expect: str) -> ChatMessage:
    """``user`` sends ``text``; wait for one more bot message containing ``expect``."""
    before = sum(expect in m.text for m in telegram.bot_messages(user.id))
    telegram.send_text(user, text)
    return telegram.wait_for_message(user.id, containing=expect, count=before + 1)[-1]


def test_the_tree_lists_every_actor_with_its_figures_preformatted(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    tree = say(telegram, admin, "/debug tree", "/io/gateway")

    assert tree.parse_mode == "HTML"
    assert tree.entity_texts("pre") == (tree.text,)
    lines = tree.text.splitlines()
    assert "path  state  mailbox/processed/failures/restarts" in lines
    for path in ("/storage", "/sessions", "/admin", "/io", "/io/providers/deepseek"):
        assert any(line.strip().startswith(f"{path} [running]") for line in lines), path
    assert any(line.strip().startswith(f"/sessions/{admin.id} [") for line in lines)


def test_one_actor_shows_its_figures_and_a_missing_one_is_named(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    storage = say(telegram, admin, "/debug actor /storage", "/storage (").text.splitlines()

    assert storage[0] == "/storage (StorageActor, actor)"
    assert storage[1].startswith("state: running, up ")
    # The durable inbox writes to storage as updates come and go: its mailbox may hold one.
    assert re.match(r"mailbox: \d+, processed: ", storage[2]), storage[2]
    assert int(storage[2].split("processed: ")[1].split(",")[0]) > 0
    assert "recent messages:" in storage
    assert say(telegram, admin, "/debug actor io/nothing", "no actor").text == (
        "no actor at /io/nothing"
    )


def test_dead_letters_are_listed(
    bot: BotProcess, telegram: TelegramEmulator, admin: SimUser
) -> None:
    header = say(telegram, admin, "/debug tree", "/io/gateway").text.splitlines()[0]
    letters = say(telegram, admin, "/debug deadletters", "").text

    counted = re.search(r"(\d+) dead letters", header)
    assert counted is not None, header
    total = int(counted[1])
    if total == 0:
        assert letters == "no dead letters"
    else:  # newest first: time, type -> target: reason (cid ...)
        line = re.compile(r"\d\d:\d\d:\d\d \w+ -> /\S*: .+ \(cid \S+\)")
        assert all(line.fullmatch(text) for text in letters.splitlines()), letters


def test_non_admins_get_nothing_of_it(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    telegram.send_text(alice, "/start")
    telegram.wait_for_message(admin.id, containing="Alice")
    say(telegram, admin, "/admin approve 2001", "Approved")

    say(telegram, alice, "/debug tree", "admins only")
    assert not [m for m in telegram.bot_messages(alice.id) if "/io/gateway" in m.text]
