"""Group chats: the bot answers only what is addressed to it, in reply to the message that asked.

Addressed means a command for it, a mention of its @username, or a reply to one of its
messages (what Telegram delivers with privacy mode on); other chatter is recorded done in
the durable inbox and never answered.
"""

from __future__ import annotations

from tests.e2e.harness import BotProcess, approve
from tests.emulators.telegram import ChatMessage, SimChat, SimUser, TelegramEmulator

BOT = "@test_llm_bot"  # the emulator's default bot username


def _team(telegram: TelegramEmulator) -> SimChat:
    return telegram.group(-100777, "Team")


def _last_from(telegram: TelegramEmulator, chat: SimChat, user: SimUser) -> ChatMessage:
    return [m for m in telegram.chat_messages(chat.id) if m.sender_id == user.id][-1]


def test_a_mention_is_answered_in_reply_and_the_model_does_not_see_the_mention(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    team = _team(telegram)
    telegram.send_text(alice, f"{BOT} what is 2+2?", chat=team)
    [answer] = telegram.wait_for_message(team.id, containing="Echo: what is 2+2?")
    assert answer.reply_to_message_id == _last_from(telegram, team, alice).message_id
    assert bot.deepseek.generate_requests[-1].last_user_text == "what is 2+2?"


def test_a_reply_to_the_bot_is_answered_and_other_chatter_is_ignored(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    team = _team(telegram)
    chatter = telegram.send_text(alice, "lunch at noon, anyone?", chat=team)
    document = telegram.send_document(
        alice, b"minutes", file_name="minutes.txt", mime_type="text/plain", chat=team
    )
    telegram.send_text(alice, f"hi {BOT}", chat=team)
    [greeting] = telegram.wait_for_message(team.id, containing="Echo: hi")
    telegram.send_text(alice, "and what about tomorrow?", chat=team, reply_to=greeting)
    telegram.wait_for_message(team.id, containing="Echo: and what about tomorrow?")

    asked = [r.last_user_text for r in bot.deepseek.generate_requests]
    assert asked == ["hi", "and what about tomorrow?"]
    assert len(telegram.bot_messages(team.id)) == 2
    assert not telegram.calls("getFile"), "a file not meant for the bot is not fetched"
    assert bot.update_done(chatter)
    assert bot.update_done(document)


def test_a_reply_to_another_persons_message_is_not_for_the_bot(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    team = _team(telegram)
    telegram.send_text(admin, "who brings the cake?", chat=team)
    telegram.send_text(alice, "me!", chat=team, reply_to=_last_from(telegram, team, admin))
    telegram.send_text(alice, "/ping", chat=team)
    telegram.wait_for_message(team.id, containing="Bot ready")
    assert bot.deepseek.generate_requests == ()


def test_two_forum_topics_keep_separate_contexts_and_clear_empties_only_its_own(
    bot_process: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    # A dozen sends and edits in one group: faster than 20 a minute keeps the test short.
    bot = bot_process.configure("telegram", group_rate_per_minute=600).start()
    approve(telegram, alice, admin)
    forum = telegram.group(-100888, "Forum", is_forum=True)
    ideas, travel = 10, 20

    def ask(text: str, topic: int) -> list[str]:
        """Ask in a topic; the contents of what the model was sent, system prompt left out."""
        telegram.send_text(alice, f"{BOT} {text}", chat=forum, thread_id=topic)
        telegram.wait_for_message(forum.id, containing=f"Echo: {text}")
        return [m["content"] for m in bot.deepseek.generate_requests[-1].body["messages"][1:]]

    ask("an app for plants", ideas)
    ask("Lisbon in May", travel)
    assert ask("which app was it?", ideas) == [
        "an app for plants",
        "Echo: an app for plants",
        "which app was it?",
    ]

    telegram.send_text(alice, "/clear", chat=forum, thread_id=travel)
    telegram.wait_for_message(forum.id, containing="Context cleared")
    assert ask("where to?", travel) == ["where to?"]
    assert ask("and its name?", ideas)[:2] == ["an app for plants", "Echo: an app for plants"]


def test_in_a_forum_typing_and_the_answer_go_to_the_topic_that_asked(
    bot: BotProcess, telegram: TelegramEmulator, alice: SimUser, admin: SimUser
) -> None:
    approve(telegram, alice, admin)
    forum = telegram.group(-100889, "Forum", is_forum=True)
    topic = 30
    # Silent for a second first, so that "typing…" (held 0.5 s) shows.
    bot.deepseek.reply("Packed and ready", delay=1.0, chunks=3, chunk_delay=0.3)

    telegram.send_text(alice, f"{BOT} what to pack?", chat=forum, thread_id=topic)
    [answer] = telegram.wait_for_message(forum.id, containing="Packed and ready")

    typing = telegram.chat_actions(forum.id)
    assert typing, "typing was shown"
    assert {action.message_thread_id for action in typing} == {topic}, "not in General"
    assert answer.message_thread_id == topic
