"""The Telegram emulator, driven by the real python-telegram-bot ``Bot`` over HTTP.

Most tests play both sides: the bot through PTB (so request encoding and error mapping are PTB's
own), the users through the emulator's control API. A few at the end check the HTTP base
(streaming, drops, multipart) that other emulators reuse.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.emulators._http import (
    DROP,
    HttpServer,
    Request,
    Response,
    ServerSentEvent,
    json_response,
    sse_response,
)
from tests.emulators.telegram import (
    MarkupError,
    RateLimits,
    TelegramEmulator,
    parse_html,
    parse_markdown_v2,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from tests.emulators._http import Reply

ALICE = 1001


def _our_threads() -> list[str]:
    return [
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith(("telegram-emulator", "test-http")) and thread.is_alive()
    ]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emu() -> Iterator[TelegramEmulator]:
    with TelegramEmulator() as emulator:
        emulator.user(ALICE, "Alice", username="alice")
        yield emulator
    assert _our_threads() == []


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.bot_base_url, base_file_url=emu.file_base_url) as bot:
        yield bot


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(item.title(), callback_data=item)] for item in data]
    )


# --- identity and routing ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_me_describes_the_bot_named_by_the_token(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "test_llm_bot", True)


@pytest.mark.anyio
async def test_wrong_token_is_unauthorized(emu: TelegramEmulator) -> None:
    async with HTTPXRequest() as request:  # closed here: the Bot never initializes
        wrong = Bot("999:WRONG", base_url=emu.bot_base_url, request=request)
        with pytest.raises(InvalidToken):
            await wrong.get_me()
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"{emu.base_url}/bot999:WRONG/getMe")
    assert (reply.status_code, reply.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


def test_unknown_method_is_not_found(emu: TelegramEmulator) -> None:
    reply = httpx.post(f"{emu.base_url}/bot{emu.token}/sendTelepathy", data={"chat_id": ALICE})

    assert (reply.status_code, reply.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )


def test_params_may_come_as_json_body_or_query_and_method_names_ignore_case(
    emu: TelegramEmulator,
) -> None:
    api = f"{emu.base_url}/bot{emu.token}"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}

    by_json = httpx.post(
        f"{api}/sendMessage", json={"chat_id": ALICE, "text": "a", "reply_markup": markup}
    )
    by_query = httpx.get(f"{api}/SENDMESSAGE", params={"chat_id": ALICE, "text": "b"})

    assert by_json.json()["result"]["reply_markup"] == markup
    assert by_query.json()["ok"] is True
    assert [m.text for m in emu.bot_messages(ALICE)] == ["a", "b"]
    assert [call.method for call in emu.calls()] == ["sendMessage", "sendMessage"]


# --- sending and formatting --------------------------------------------------------------------


@pytest.mark.anyio
async def test_sent_html_message_is_returned_and_recorded_with_its_entities(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(
        ALICE, "<b>Hi</b> <i>there</i>, see /help", parse_mode="HTML", reply_markup=_keyboard("ok")
    )

    assert sent.text == "Hi there, see /help"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("italic", 3, 5),
        ("bot_command", 14, 5),
    ]
    assert sent.from_user is not None
    assert sent.from_user.id == emu.bot_id
    [record] = emu.bot_messages(ALICE)
    assert (record.message_id, record.text, record.raw_text, record.parse_mode) == (
        sent.message_id,
        "Hi there, see /help",
        "<b>Hi</b> <i>there</i>, see /help",
        "HTML",
    )
    assert record.entity_texts("bold") == ("Hi",)
    assert [[button.callback_data for button in row] for row in record.buttons] == [["ok"]]


@pytest.mark.anyio
async def test_edit_replaces_the_text_and_keeps_the_previous_version(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "Thinking…")

    edited = await bot.edit_message_text(
        "Done: *42*", ALICE, sent.message_id, parse_mode="MarkdownV2"
    )

    assert isinstance(edited, Message)  # PTB types edits as Message | bool (inline messages)
    assert edited.text == "Done: 42"
    assert edited.edit_date is not None
    [record] = emu.bot_messages(ALICE)
    assert record.text == "Done: 42"
    assert record.entity_texts("bold") == ("42",)
    assert [version.text for version in record.history] == ["Thinking…"]


@pytest.mark.anyio
async def test_identical_edit_is_refused_as_not_modified(emu: TelegramEmulator, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "<b>same</b>", parse_mode="HTML", reply_markup=_keyboard("x")
    )

    with pytest.raises(
        BadRequest, match=r"^Message is not modified: specified new message content"
    ):
        await sent.edit_text("<b>same</b>", parse_mode="HTML", reply_markup=_keyboard("x"))
    assert not emu.bot_messages(ALICE)[0].edited


@pytest.mark.anyio
async def test_edit_without_reply_markup_removes_the_inline_keyboard(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "pick", reply_markup=_keyboard("a"))

    edited = await sent.edit_text("picked")

    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert emu.bot_messages(ALICE)[0].buttons == ()


@pytest.mark.anyio
async def test_edit_of_reply_markup_alone_changes_only_the_keyboard(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "pick", reply_markup=_keyboard("a"))

    await sent.edit_reply_markup(_keyboard("b"))

    with pytest.raises(BadRequest, match="not modified"):
        await sent.edit_reply_markup(_keyboard("b"))
    [record] = emu.bot_messages(ALICE)
    assert (record.text, record.buttons[0][0].callback_data) == ("pick", "b")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<h1>Title</h1>", 'unsupported start tag "h1" at byte offset 0'),
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("é <b>x</i>", 'unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("x</b>", "unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_refused_with_telegrams_parse_error(
    emu: TelegramEmulator, bot: Bot, markup: str, error: str
) -> None:
    # PTB strips "Bad Request: " and capitalizes (lower-casing the rest) of the description.
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(ALICE, markup, parse_mode="HTML")

    assert raised.value.message == f"Can't parse entities: {error}"
    assert emu.bot_messages(ALICE) == []
    assert emu.calls("sendMessage")[0].description == (
        "Bad Request: can't parse entities: " + _tdlib_case(markup)
    )


def _tdlib_case(markup: str) -> str:
    """The description as Telegram spells it, before PTB lower-cases it."""
    try:
        parse_html(markup)
    except MarkupError as error:
        return str(error)
    raise AssertionError(markup)


@pytest.mark.anyio
async def test_unescaped_markdown_v2_reserved_character_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(ALICE, "Version 2.0 is out", parse_mode="MarkdownV2")

    assert raised.value.message == (
        "Can't parse entities: character '.' is reserved and must be escaped with the "
        "preceding '\\'"
    )


@pytest.mark.anyio
async def test_text_longer_than_4096_utf16_units_is_too_long(
    emu: TelegramEmulator, bot: Bot
) -> None:
    await bot.send_message(ALICE, "😀" * 2048)  # 4096 UTF-16 code units: the limit itself

    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, "😀" * 2049)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    assert len(emu.bot_messages(ALICE)) == 1


@pytest.mark.anyio
async def test_empty_text_after_parsing_and_trimming_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(ALICE, "<b> </b>\n", parse_mode="HTML")


@pytest.mark.anyio
async def test_surrounding_whitespace_is_trimmed_and_entities_shift(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "\n  <b>x</b> y  \n", parse_mode="HTML")

    assert sent.text == "x y"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 1)]


@pytest.mark.anyio
async def test_unknown_chat_is_not_found_and_blocked_user_is_forbidden(
    emu: TelegramEmulator, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hello?")
    emu.set_blocked(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hello?")


@pytest.mark.anyio
async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])

    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(ALICE, "menu", reply_markup=markup)


@pytest.mark.anyio
async def test_reply_parameters_make_a_reply_and_a_missing_target_is_refused(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.send_text(ALICE, "question")
    [update] = await bot.get_updates()
    assert update.message is not None

    answer = await update.message.reply_text("answer", do_quote=True)

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    assert emu.bot_messages(ALICE)[0].reply_to_message_id == update.message.message_id
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(ALICE, "x", reply_parameters=ReplyParameters(message_id=999))


@pytest.mark.anyio
async def test_deleted_message_is_flagged_and_cannot_be_deleted_or_edited_again(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "temporary")

    assert await sent.delete()

    assert emu.bot_messages(ALICE)[0].deleted
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await sent.delete()
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await sent.edit_text("again")


@pytest.mark.anyio
async def test_chat_actions_and_commands_are_recorded(emu: TelegramEmulator, bot: Bot) -> None:
    await bot.send_chat_action(ALICE, "typing")
    await bot.set_my_commands([("start", "Start"), ("help", "Help")])

    assert [action.action for action in emu.chat_actions(ALICE)] == ["typing"]
    assert [command["command"] for command in emu.my_commands()] == ["start", "help"]
    assert [command.command for command in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([("Start", "Capitals are not allowed")])


# --- updates -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_user_command_carries_a_bot_command_entity_including_the_bot_username(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.send_text(ALICE, "/start@test_llm_bot hi @alice")

    [update] = await bot.get_updates()

    assert update.message is not None
    assert update.message.text == "/start@test_llm_bot hi @alice"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 19),
        ("mention", 23, 6),
    ]
    assert update.message.chat.type == "private"


@pytest.mark.anyio
async def test_get_updates_forgets_only_updates_below_the_offset(
    emu: TelegramEmulator, bot: Bot
) -> None:
    ids = [emu.send_text(ALICE, f"m{i}") for i in range(3)]

    first = await bot.get_updates()
    unconfirmed = await bot.get_updates()
    rest = await bot.get_updates(offset=ids[1])

    assert [u.update_id for u in first] == ids
    assert [u.update_id for u in unconfirmed] == ids
    assert [u.update_id for u in rest] == ids[1:]
    assert emu.confirmed_offset == ids[1]
    assert [update["update_id"] for update in emu.pending_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert [u.update_id for u in await bot.get_updates(limit=1)] == []


@pytest.mark.anyio
async def test_negative_offset_keeps_only_the_last_updates(emu: TelegramEmulator, bot: Bot) -> None:
    ids = [emu.send_text(ALICE, f"m{i}") for i in range(4)]

    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[2:]
    assert [u.update_id for u in await bot.get_updates()] == ids[2:]


@pytest.mark.anyio
async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: TelegramEmulator, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.to_thread(emu.wait_for, lambda: emu.polling, timeout=5)
    started = time.monotonic()

    emu.send_text(ALICE, "wake up")
    updates = await poll

    assert time.monotonic() - started < 1
    assert [u.message.text for u in updates if u.message] == ["wake up"]


@pytest.mark.anyio
async def test_allowed_updates_filter_what_get_updates_returns(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "menu", reply_markup=_keyboard("a"))
    emu.send_text(ALICE, "text")
    emu.press_button(ALICE, emu.bot_messages(ALICE)[0], "a")

    only_callbacks = await bot.get_updates(allowed_updates=["callback_query"])

    assert [u.callback_query.data for u in only_callbacks if u.callback_query] == ["a"]
    assert only_callbacks[0].callback_query is not None
    assert only_callbacks[0].callback_query.message is not None
    assert only_callbacks[0].callback_query.message.message_id == sent.message_id


@pytest.mark.anyio
async def test_adding_and_kicking_the_bot_are_my_chat_member_updates_ptb_decodes(
    emu: TelegramEmulator, bot: Bot
) -> None:
    team = emu.group(-100777, "Team", with_bot=False)
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(team.id, "hello?")

    emu.add_bot_to_group(team, by=ALICE)
    await bot.send_message(team.id, "hello")
    emu.remove_bot_from_group(team, by=ALICE)
    updates = await bot.get_updates(allowed_updates=["message", "my_chat_member"])

    changes = [u.my_chat_member for u in updates if u.my_chat_member is not None]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("left", "member"),
        ("member", "kicked"),
    ]
    assert {(c.chat.id, c.chat.title, c.from_user.id) for c in changes} == {
        (team.id, "Team", ALICE)
    }
    assert changes[0].new_chat_member.user.id == (await bot.get_me()).id
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(team.id, "still here?")
    with pytest.raises(ValueError, match="already"):
        emu.remove_bot_from_group(team, by=ALICE, kicked=False)


@pytest.mark.anyio
async def test_second_get_updates_terminates_the_waiting_one_with_conflict(
    emu: TelegramEmulator, bot: Bot
) -> None:
    # A second instance: PTB's own getUpdates connection pool holds one request at a time.
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.to_thread(emu.wait_for, lambda: emu.polling, timeout=5)

    async with Bot(emu.token, base_url=emu.bot_base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


@pytest.mark.anyio
async def test_delete_webhook_can_drop_pending_updates(emu: TelegramEmulator, bot: Bot) -> None:
    emu.send_text(ALICE, "old news")

    await bot.delete_webhook(drop_pending_updates=True)

    assert emu.pending_updates() == []
    emu.send_text(ALICE, "fresh")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["fresh"]


# --- buttons and files -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_button_press_reaches_the_bot_and_a_query_is_answered_once(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "Proceed?", reply_markup=_keyboard("yes", "no"))
    [record] = emu.bot_messages(ALICE)

    emu.press_button(ALICE, record, "yes")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.data, query.from_user.id) == ("yes", ALICE)
    assert query.message is not None
    assert query.message.message_id == sent.message_id

    assert await query.answer("Done")
    assert [(a.callback_query_id, a.text, a.data) for a in emu.answered_callbacks] == [
        (query.id, "Done", "yes")
    ]
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await query.answer()
    with pytest.raises(ValueError, match="no button"):
        emu.press_button(ALICE, record, "maybe")


@pytest.mark.anyio
async def test_file_sent_by_a_user_can_be_downloaded_by_the_bot(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.send_document(ALICE, b"%PDF-1.4 ...", file_name="report.pdf", mime_type="application/pdf")

    [update] = await bot.get_updates()
    assert update.message is not None
    document = update.message.document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "report.pdf",
        "application/pdf",
        12,
    )
    file = await bot.get_file(document.file_id)

    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 ..."
    with pytest.raises(BadRequest, match=r"^Invalid file_id$"):
        await bot.get_file("nonsense")


@pytest.mark.anyio
async def test_photo_from_a_user_arrives_with_its_size_and_caption(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.send_photo(ALICE, b"\xff\xd8jpeg", width=640, height=480, caption="look")

    [update] = await bot.get_updates()

    assert update.message is not None
    assert update.message.caption == "look"
    [photo] = update.message.photo
    assert (photo.width, photo.height) == (640, 480)
    assert bytes(await (await photo.get_file()).download_as_bytearray()) == b"\xff\xd8jpeg"


@pytest.mark.anyio
async def test_voice_message_arrives_with_duration_and_type_and_can_be_downloaded(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.send_voice(ALICE, b"OggS voice", duration=7)

    [update] = await bot.get_updates()

    assert update.message is not None
    voice = update.message.voice
    assert voice is not None
    assert (voice.mime_type, voice.file_size) == ("audio/ogg", 10)
    # PTB warns when ``duration`` is read (it will become a timedelta): look at ours instead.
    sent = emu.message(ALICE, update.message.message_id).voice
    assert sent is not None
    assert sent.duration == 7
    file = await voice.get_file()
    assert file.file_path is not None
    assert file.file_path.endswith(".oga")
    assert bytes(await file.download_as_bytearray()) == b"OggS voice"


@pytest.mark.anyio
async def test_uploaded_document_is_recorded_with_its_bytes_and_caption(
    emu: TelegramEmulator, bot: Bot
) -> None:
    sent = await bot.send_document(
        ALICE, b"col1,col2\n", filename="export.csv", caption="<b>Export</b>", parse_mode="HTML"
    )

    [record] = emu.bot_messages(ALICE)
    assert record.document is not None
    assert (record.document.file_name, record.text) == ("export.csv", "Export")
    assert emu.file_bytes(record.document.file_id) == b"col1,col2\n"
    assert sent.document is not None
    assert sent.caption == "Export"
    assert emu.calls("sendDocument")[0].params["document"] == "<upload 'export.csv', 10 bytes>"


# --- failures, delays and limits ---------------------------------------------------------------


@pytest.mark.anyio
async def test_injected_429_surfaces_as_retry_after_and_sends_nothing(
    emu: TelegramEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else reading retry_after warns (an error here)
    emu.fail_next("sendMessage", retry_after=7)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ALICE, "hi")

    assert raised.value.retry_after == dt.timedelta(seconds=7)
    assert emu.bot_messages(ALICE) == []
    assert emu.calls("sendMessage")[0].description == "Too Many Requests: retry after 7"
    await bot.send_message(ALICE, "hi")
    assert len(emu.bot_messages(ALICE)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "text"), [(500, "Internal Server Error"), (502, "Bad Gateway")])
async def test_injected_server_error_surfaces_as_network_error(
    emu: TelegramEmulator, bot: Bot, status: int, text: str
) -> None:
    emu.fail_next("sendMessage", status=status, count=2)

    for _ in range(2):
        with pytest.raises(NetworkError, match=text):
            await bot.send_message(ALICE, "hi")

    await bot.send_message(ALICE, "hi")
    assert [call.status for call in emu.calls("sendMessage")] == [status, status, 200]


@pytest.mark.anyio
async def test_injected_failure_can_target_one_chat(emu: TelegramEmulator, bot: Bot) -> None:
    emu.user(2002, "Bob")
    emu.fail_next(
        "sendMessage",
        status=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=2002,
    )

    await bot.send_message(ALICE, "fine")
    with pytest.raises(Forbidden):
        await bot.send_message(2002, "blocked")


@pytest.mark.anyio
async def test_dropped_connection_is_a_network_error_and_may_still_have_sent(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "lost")
    assert emu.bot_messages(ALICE) == []

    emu.drop_next("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "sent, answer lost")
    assert [m.text for m in emu.bot_messages(ALICE)] == ["sent, answer lost"]


@pytest.mark.anyio
async def test_a_dropped_connection_can_be_aimed_at_one_chat(
    emu: TelegramEmulator, bot: Bot
) -> None:
    bob = emu.user(1002, "Bob")
    emu.drop_next("sendMessage", chat_id=ALICE)
    await bot.send_message(bob.id, "not for alice")
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "lost")

    assert [m.text for m in emu.bot_messages(bob.id)] == ["not for alice"]
    assert emu.bot_messages(ALICE) == []


@pytest.mark.anyio
async def test_response_delay_slows_down_answers(emu: TelegramEmulator, bot: Bot) -> None:
    emu.set_delay(0.2, method="sendChatAction")
    started = time.monotonic()

    await bot.send_chat_action(ALICE, "typing")

    assert time.monotonic() - started >= 0.2


@pytest.mark.anyio
async def test_rate_limits_refuse_a_burst_in_a_private_chat(
    emu: TelegramEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.set_rate_limits(RateLimits(private_burst=3))

    for i in range(3):
        await bot.send_message(ALICE, f"burst {i}")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ALICE, "one too many")

    assert raised.value.retry_after == dt.timedelta(seconds=1)
    emu.user(2002, "Bob")
    await bot.send_message(2002, "another chat has its own budget")


@pytest.mark.anyio
async def test_rate_limits_allow_twenty_messages_a_minute_in_a_group(
    emu: TelegramEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    group = emu.group(-100123, "Team")
    emu.set_rate_limits(RateLimits())

    for i in range(20):
        await bot.send_message(group.id, f"{i}")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(group.id, "21st")

    assert raised.value.retry_after == dt.timedelta(seconds=3)


@pytest.mark.anyio
async def test_a_ptb_application_polls_answers_commands_and_stops_cleanly(
    emu: TelegramEmulator,
) -> None:
    async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        assert update.effective_user is not None
        await update.effective_message.reply_text(f"Hello {update.effective_user.first_name}")

    application = (
        Application.builder()
        .token(emu.token)
        .base_url(emu.bot_base_url)
        .base_file_url(emu.file_base_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    users = [emu.user(3000 + i, f"User{i}") for i in range(20)]
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, drop_pending_updates=True)
        for user in users:
            emu.send_text(user, "/start")
        for user in users:
            await asyncio.to_thread(emu.wait_for_message, user.id, containing="Hello", timeout=10)
        await application.updater.stop()
        await application.stop()

    assert emu.bot_messages(users[-1].id)[0].text == "Hello User19"
    assert [call.method for call in emu.calls()][:2] == ["getMe", "deleteWebhook"]


# --- the control API ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_group_messages_carry_the_group_chat_and_topic(
    emu: TelegramEmulator, bot: Bot
) -> None:
    forum = emu.group(-100777, "Forum", is_forum=True)

    emu.send_text(ALICE, "in a topic", chat=forum, thread_id=5)
    [update] = await bot.get_updates()
    assert update.message is not None
    assert (update.message.chat.id, update.message.chat.type, update.message.message_thread_id) == (
        -100777,
        "supergroup",
        5,
    )
    await bot.send_message(forum.id, "reply in topic", message_thread_id=5)
    assert emu.bot_messages(forum.id)[0].message_thread_id == 5


def test_wait_for_message_times_out_naming_what_the_chat_holds(emu: TelegramEmulator) -> None:
    httpx.post(
        f"{emu.base_url}/bot{emu.token}/sendMessage", data={"chat_id": ALICE, "text": "Hello"}
    )

    assert [m.text for m in emu.wait_for_message(ALICE, containing="Hell")] == ["Hello"]
    with pytest.raises(TimeoutError, match=r"last bot messages: \['Hello'\]"):
        emu.wait_for_message(ALICE, containing="Goodbye", timeout=0.1)


def test_wait_for_wakes_on_a_message_sent_from_another_thread(emu: TelegramEmulator) -> None:
    def later() -> None:
        time.sleep(0.1)
        httpx.post(
            f"{emu.base_url}/bot{emu.token}/sendMessage", data={"chat_id": ALICE, "text": "late"}
        )

    sender = threading.Thread(target=later)
    sender.start()
    [message] = emu.wait_for_message(ALICE, timeout=5)
    sender.join()

    assert message.text == "late"


def test_close_ends_a_waiting_long_poll_and_leaves_no_thread() -> None:
    emu = TelegramEmulator().start()
    results: list[Any] = []
    poller = threading.Thread(
        target=lambda: results.append(
            httpx.get(
                f"{emu.base_url}/bot{emu.token}/getUpdates", params={"timeout": 30}, timeout=60
            )
        )
    )
    poller.start()
    emu.wait_for(lambda: emu.polling, timeout=5)

    started = time.monotonic()
    emu.close()
    poller.join(5)

    assert time.monotonic() - started < 2
    assert _our_threads() == []
    assert results[0].json() == {"ok": True, "result": []}


def test_thousands_of_chats_and_concurrent_updates_stay_fast(emu: TelegramEmulator) -> None:
    users = [emu.user(10_000 + i, f"User {i}") for i in range(2000)]
    client = httpx.Client(base_url=f"{emu.base_url}/bot{emu.token}")
    started = time.monotonic()

    def flood(chunk: list[Any]) -> None:
        for user in chunk:
            emu.send_text(user, "hi")

    senders = [threading.Thread(target=flood, args=(users[i::4],)) for i in range(4)]
    for sender in senders:
        sender.start()
    received: list[int] = []
    offset = 0
    while len(received) < len(users):
        batch = client.get("/getUpdates", params={"offset": offset, "timeout": 5}).json()["result"]
        received.extend(update["update_id"] for update in batch)
        offset = batch[-1]["update_id"] + 1
    for sender in senders:
        sender.join()
    for user in users[:500]:
        client.post("/sendMessage", data={"chat_id": user.id, "text": f"hello {user.first_name}"})
    client.close()

    assert received == sorted(set(received))
    assert len(received) == len(users)
    assert emu.bot_messages(users[499].id)[0].text == "hello User 499"
    assert time.monotonic() - started < 20


# --- markup parsers ----------------------------------------------------------------------------


def test_html_parser_nests_tags_decodes_entities_and_normalizes_links() -> None:
    text, entities = parse_html(
        '<b>bold <i>both</i></b> <a href="example.com">link</a> <code>x</code> '
        '<pre><code class="language-python">print(1)</code></pre> &lt;&amp;&gt;&#33; &copy; '
        "<blockquote expandable>q</blockquote>"
    )

    assert text == "bold both link x print(1) <&>! &copy; q"
    assert [(e.type, e.offset, e.length, e.url or e.language) for e in entities] == [
        ("bold", 0, 9, None),
        ("italic", 5, 4, None),
        ("text_link", 10, 4, "http://example.com/"),
        ("code", 15, 1, None),
        ("pre", 17, 8, "python"),
        ("expandable_blockquote", 38, 1, None),
    ]


def test_html_offsets_count_utf16_code_units() -> None:
    text, entities = parse_html("😀 <b>x</b> <a href='tg://user?id=1001'>Alice</a>")

    assert text == "😀 x Alice"
    assert [(e.type, e.offset, e.length, e.user_id) for e in entities] == [
        ("bold", 3, 1, None),
        ("text_mention", 5, 5, 1001),
    ]


@pytest.mark.parametrize(
    ("markup", "plain", "spans"),
    [
        (
            r"*b* _i_ __u__ ~s~ ||p|| `c` [l](https://x.org) \. \\",
            "b i u s p c l . \\",
            [
                ("bold", 0, 1),
                ("italic", 2, 1),
                ("underline", 4, 1),
                ("strikethrough", 6, 1),
                ("spoiler", 8, 1),
                ("code", 10, 1),
                ("text_link", 12, 1),
            ],
        ),
        ("*bold _both_*", "bold both", [("bold", 0, 9), ("italic", 5, 4)]),
        ("```python\nprint(1)\n```", "print(1)\n", [("pre", 0, 9)]),
        ("`a.b` and ```\n*x*```", "a.b and *x*", [("code", 0, 3), ("pre", 8, 3)]),
        (">quote\nplain", "quote\nplain", [("blockquote", 0, 6)]),
    ],
)
def test_markdown_v2_parser_handles_nesting_code_and_escapes(
    markup: str, plain: str, spans: list[tuple[str, int, int]]
) -> None:
    text, entities = parse_markdown_v2(markup)

    assert text == plain
    assert [(e.type, e.offset, e.length) for e in entities] == spans


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("1+1=2", "Character '+' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("é _it", "Can't find end of Italic entity at byte offset 3"),
        ("[a](http://x.org", "Can't find end of a URL at byte offset 4"),
        ("*a\n>b*", "Can't find end of Bold entity at byte offset 5"),  # the quote nests in bold
        ("a>b", "Character '>' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_markdown_v2_parser_reports_telegrams_errors(markup: str, error: str) -> None:
    with pytest.raises(MarkupError) as raised:
        parse_markdown_v2(markup)

    assert str(raised.value) == error


# --- the HTTP base -----------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer(name="test-http") as http_server:
        yield http_server
    assert _our_threads() == []


def test_http_server_flushes_each_event_of_a_stream(server: HttpServer) -> None:
    first_seen = threading.Event()

    def stream(_request: Request) -> Reply:
        def events() -> Iterator[ServerSentEvent]:
            yield ServerSentEvent(data="one")
            first_seen.wait(5)  # the client must see "one" before "two" is even produced
            yield ServerSentEvent(data="two", event="done")

        return sse_response(events())

    server.route("GET", "/stream", stream)
    with httpx.stream("GET", f"{server.base_url}/stream") as reply:
        lines = reply.iter_lines()
        assert next(lines) == "data: one"
        first_seen.set()
        assert list(lines) == ["", "event: done", "data: two", ""]


def test_http_server_can_cut_a_stream_or_a_body_short(server: HttpServer) -> None:
    server.route("GET", "/stream", lambda _r: sse_response([ServerSentEvent(data="a"), DROP]))
    server.route("GET", "/body", lambda _r: Response(body=b"0123456789", truncate_after=4))
    server.route("GET", "/nothing", lambda _r: DROP)

    for path in ("/stream", "/body", "/nothing"):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{server.base_url}{path}")


def test_http_server_parses_multipart_forms_with_binary_files(server: HttpServer) -> None:
    def echo(request: Request) -> Reply:
        upload = request.files["doc"]
        return json_response(
            {
                "form": dict(request.form),
                "file": [upload.filename, upload.content_type, list(upload.data)],
            }
        )

    server.route("POST", "/upload/{name}", echo)
    data = b"\r\n--\x00\xff\r\n"

    reply = httpx.post(
        f"{server.base_url}/upload/x",
        data={"caption": "résumé"},
        files={"doc": ("a b.bin", data, "application/octet-stream")},
    )

    assert reply.json() == {
        "form": {"caption": "résumé"},
        "file": ["a b.bin", "application/octet-stream", list(data)],
    }


def test_http_server_refuses_to_start_twice() -> None:
    http_server = HttpServer(name="test-http")
    with http_server:
        pass

    with pytest.raises(RuntimeError, match="closed"):
        http_server.start()
