"""The Telegram stub, checked with the real python-telegram-bot.

These tests pin the stub to what PTB actually sends and how it reads the
answers: if the stub drifted from the Bot API protocol, every end-to-end test
built on it would prove nothing. Each test talks HTTP on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.e2e.telegram_stub import TelegramStub, UploadedFile

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MEMBER = 4242
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    """A fresh stub per test; a short redelivery delay keeps webhook tests fast."""
    async with TelegramStub(webhook_retry_delay=0.01) as server:
        yield server


@pytest.fixture
async def bot(stub: TelegramStub) -> AsyncIterator[Bot]:
    """The real ``telegram.Bot``, pointed at the stub exactly as production points it at Telegram."""
    async with Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url) as client:
        yield client


@dataclass
class Receiver:
    """A tiny webhook endpoint: records what arrives and answers the queued statuses, then 200."""

    url: str = ""
    received: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=self.answers.popleft() if self.answers else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on 127.0.0.1 at a free port."""
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


def free_port() -> int:
    """A port for PTB's own webhook server, which needs it before it binds."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def texts(updates: tuple[Update, ...]) -> list[str | None]:
    return [update.message.text if update.message else None for update in updates]


# -- basics -----------------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(stub: TelegramStub, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.can_join_groups) == (123456, True, "UnionTestBot", True)
    assert bot.username == "UnionTestBot"
    assert stub.calls[0].method == "getMe"


async def test_a_wrong_token_is_refused_like_telegram_does(stub: TelegramStub) -> None:
    # PTB maps both 401 (unknown token) and 404 (malformed token) to InvalidToken.
    for token in ("123456:SOMEONE-ELSE", "not-a-token"):
        with pytest.raises(InvalidToken):
            async with Bot(token, base_url=stub.base_url):
                pass
    assert [call.status for call in stub.calls] == [401, 404]


async def test_an_unknown_method_is_a_clear_404(stub: TelegramStub, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound, match="sendUnicorn"):
        await bot.do_api_request("sendUnicorn", api_kwargs={"chat_id": MEMBER})
    assert stub.calls[-1].status == 404


async def test_send_message_round_trips_an_inline_keyboard(stub: TelegramStub, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("入会", callback_data="join:1")]])
    first = await bot.send_message(MEMBER, "你好，会员", reply_markup=keyboard)
    second = await bot.send_message(MEMBER, "12345")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.reply_markup == keyboard
    assert first.chat.id == MEMBER
    assert first.from_user is not None
    assert first.from_user.is_bot
    sent = stub.sent("sendMessage", chat_id=MEMBER)
    # Nested values travel as JSON strings in the form; the stub hands back the dict form.
    assert sent[0]["reply_markup"] == keyboard.to_dict()
    # A text made of digits stays a string, a chat id becomes an int.
    assert sent[1] == {"chat_id": MEMBER, "text": "12345"}


async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("按钮", callback_data="数" * 22)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(MEMBER, "x", reply_markup=keyboard)


# -- getUpdates -------------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_a_message_is_pushed(stub: TelegramStub, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await stub.wait_until(lambda: stub.polling == 1, timeout=2, what="getUpdates to be long-polling")
    pushed_at = time.perf_counter()
    update = stub.push_message(user_id=MEMBER, text="在吗？")
    updates = await asyncio.wait_for(poll, timeout=2)
    waited = time.perf_counter() - pushed_at
    assert waited < 0.5, f"the long poll took {waited:.3f} s to notice the message"
    assert [u.update_id for u in updates] == [update["update_id"]]
    assert texts(updates) == ["在吗？"]
    message = updates[0].message
    assert message is not None
    assert message.from_user is not None
    assert message.from_user.language_code == "zh-hans"


async def test_an_empty_long_poll_ends_at_its_timeout(stub: TelegramStub, bot: Bot) -> None:
    started = time.perf_counter()
    assert await bot.get_updates(timeout=timedelta(milliseconds=200)) == ()
    assert 0.15 < time.perf_counter() - started < 0.9
    assert stub.calls[-1].status == 200


async def test_offset_confirms_and_drops_earlier_updates(stub: TelegramStub, bot: Bot) -> None:
    for text in ("一", "二", "三"):
        stub.push_message(user_id=MEMBER, text=text)
    first = await bot.get_updates()
    assert texts(first) == ["一", "二", "三"]
    assert texts(await bot.get_updates()) == ["一", "二", "三"], "unconfirmed updates come again"
    assert texts(await bot.get_updates(offset=first[1].update_id, limit=1)) == ["二"]
    assert stub.pending_updates == 2
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert stub.pending_updates == 0


async def test_a_second_poller_ends_the_first_with_409(stub: TelegramStub, bot: Bot) -> None:
    # Two bot instances polling one token is a deployment mistake; Telegram makes it loud.
    # (A second instance it must be: one Bot has a single connection for getUpdates.)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await stub.wait_until(lambda: stub.polling == 1, timeout=2, what="the first poll to be open")
    async with Bot(stub.token, base_url=stub.base_url) as second:
        assert await second.get_updates() == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=2)


async def test_commands_and_groups_look_like_telegram(bot: Bot, stub: TelegramStub) -> None:
    stub.push_message(user_id=MEMBER, text="/start abc")
    stub.push_message(user_id=MEMBER, chat_id=-100, chat_type="group", text="/help@UnionTestBot")
    private, group = await bot.get_updates()
    assert private.message is not None
    assert group.message is not None
    # CommandHandler needs the bot_command entity, measured in UTF-16 units.
    assert private.message.parse_entities() == {private.message.entities[0]: "/start"}
    assert (group.message.chat.id, group.message.chat.type) == (-100, "group")
    assert group.message.chat.title
    assert group.message.entities[0].length == len("/help@UnionTestBot")


# -- faults -----------------------------------------------------------------------------------------


async def test_429_surfaces_as_retry_after(
    stub: TelegramStub, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, building RetryAfter itself emits a PTBDeprecationWarning (22.2+), which
    # filterwarnings=error turns into the exception the caller sees instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    stub.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(MEMBER, "第一次")
    assert refused.value.retry_after == timedelta(seconds=3)
    await bot.send_message(MEMBER, "第二次")
    assert [(c.method, c.status) for c in stub.calls[-2:]] == [("sendMessage", 429), ("sendMessage", 200)]
    assert [p["text"] for p in stub.sent()] == ["第二次"]


async def test_a_blocked_member_surfaces_as_forbidden(stub: TelegramStub, bot: Bot) -> None:
    stub.block_user(MEMBER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(MEMBER, "月度提醒")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(MEMBER, "typing")
    await bot.send_message(MEMBER + 1, "别人照常")
    assert stub.sent() == [{"chat_id": MEMBER + 1, "text": "别人照常"}]


async def test_an_answer_held_past_the_read_timeout_still_delivers_the_message(
    stub: TelegramStub, bot: Bot
) -> None:
    stub.answer_late("sendMessage", chat_id=MEMBER, seconds=30)
    with pytest.raises(TimedOut):
        await bot.send_message(MEMBER, "慢回答", read_timeout=0.2)
    await bot.send_message(MEMBER, "这次立刻回答", read_timeout=0.2)
    assert [p["text"] for p in stub.sent()] == ["慢回答", "这次立刻回答"]


async def test_wait_for_says_what_came_instead(stub: TelegramStub, bot: Bot) -> None:
    await bot.send_message(MEMBER, "只有这一条")
    with pytest.raises(TimeoutError, match="只有这一条"):
        await stub.wait_for("sendMessage", count=2, timeout=0.05)


# -- files ------------------------------------------------------------------------------------------


async def test_a_pushed_photo_downloads_byte_for_byte(stub: TelegramStub, bot: Bot) -> None:
    stub.push_message(user_id=MEMBER, photo=PNG, text="会员证")
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.caption == "会员证"
    small, large = update.message.photo
    assert large.file_size == len(PNG)
    assert small.width < large.width
    telegram_file = await bot.get_file(large.file_id)
    assert telegram_file.file_size == len(PNG)
    buffer = BytesIO()
    await telegram_file.download_to_memory(buffer)
    assert buffer.getvalue() == PNG
    assert telegram_file.file_path == f"{stub.base_file_url}{stub.token}/{stub.downloads[0]}"


async def test_a_pushed_document_carries_name_and_type(stub: TelegramStub, bot: Bot) -> None:
    data = b"name,dues\n"
    stub.push_message(user_id=MEMBER, document=("会费.csv", data, "text/csv"))
    [update] = await bot.get_updates()
    assert update.message is not None
    document = update.message.document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == ("会费.csv", "text/csv", len(data))
    assert await (await bot.get_file(document.file_id)).download_as_bytearray() == bytearray(data)


async def test_uploads_are_recorded_and_downloadable(stub: TelegramStub, bot: Bot) -> None:
    photo = await bot.send_photo(MEMBER, PNG, caption="二维码")
    document = await bot.send_document(MEMBER, b"a;b\n", filename="roster.csv")
    assert photo.photo[-1].file_size == len(PNG)
    assert photo.caption == "二维码"
    assert document.document is not None
    assert document.document.file_name == "roster.csv"
    [params] = stub.sent("sendPhoto", chat_id=MEMBER)
    assert isinstance(params["photo"], UploadedFile)
    assert params["photo"].data == PNG
    again = await bot.send_photo(MEMBER, photo.photo[-1].file_id)  # re-sent by file_id, no upload
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    assert await (await bot.get_file(document.document.file_id)).download_as_bytearray() == b"a;b\n"


# -- buttons ----------------------------------------------------------------------------------------


async def test_a_button_press_can_be_answered_once_and_its_keyboard_removed_once(
    stub: TelegramStub, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    sent = await bot.send_message(MEMBER, "确认缴费？", reply_markup=keyboard)
    stub.push_callback(user_id=MEMBER, message_id=sent.message_id, data="ok")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.data == "ok"
    assert isinstance(query.message, Message)
    assert query.message.reply_markup == keyboard
    assert await query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    edited = await query.edit_message_reply_markup(None)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await query.edit_message_reply_markup(None)
    relabelled = await bot.edit_message_text("已确认", chat_id=MEMBER, message_id=sent.message_id)
    assert isinstance(relabelled, Message)
    assert relabelled.text == "已确认"


async def test_a_press_received_after_the_answer_window_cannot_be_answered(
    stub: TelegramStub, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    sent = await bot.send_message(MEMBER, "确认缴费？", reply_markup=keyboard)
    stub.push_callback(user_id=MEMBER, message_id=sent.message_id, data="ok", late=True)
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout expired"):
        await update.callback_query.answer()


# -- webhook ----------------------------------------------------------------------------------------


async def test_a_webhook_takes_over_from_get_updates(
    stub: TelegramStub, bot: Bot, receiver: Receiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token="s3cret")
    assert (stub.webhook_url, stub.webhook_secret) == (receiver.url, "s3cret")
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    update = stub.push_message(user_id=MEMBER, text="走 webhook")
    await stub.wait_for_deliveries(1, timeout=2)
    assert receiver.received == [("s3cret", update)]
    assert stub.deliveries == [(update["update_id"], 200)]
    assert stub.pending_updates == 0
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)
    assert await bot.delete_webhook()
    stub.push_message(user_id=MEMBER, text="又回到轮询")
    assert texts(await bot.get_updates()) == ["又回到轮询"]


async def test_a_failed_webhook_delivery_is_redelivered(
    stub: TelegramStub, bot: Bot, receiver: Receiver
) -> None:
    receiver.answers.extend([500])
    await bot.set_webhook(receiver.url)
    first = stub.push_message(user_id=MEMBER, text="一")
    second = stub.push_message(user_id=MEMBER, text="二")
    await stub.wait_for_deliveries(3, timeout=2)
    one, two = first["update_id"], second["update_id"]
    # In order: the failed update is redelivered before the next one goes out.
    assert stub.deliveries == [(one, 500), (one, 200), (two, 200)]
    assert [body["update_id"] for _, body in receiver.received] == [one, one, two]
    assert receiver.received[0][0] is None, "no secret header without a secret_token"
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_a_webhook_must_stay_on_this_machine(stub: TelegramStub, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="loopback"):
        await bot.set_webhook("https://example.org/hook")
    assert stub.webhook_url is None


# -- commands ---------------------------------------------------------------------------------------


async def test_set_my_commands_is_recorded_per_language(stub: TelegramStub, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("menu", "主菜单"), BotCommand("help", "使用帮助")])
    await bot.set_my_commands([BotCommand("menu", "Main menu")], language_code="en")
    await bot.set_my_commands([BotCommand("me", "我的")], scope=BotCommandScopeAllPrivateChats())
    assert stub.commands == {
        None: [{"command": "menu", "description": "主菜单"}, {"command": "help", "description": "使用帮助"}],
        "en": [{"command": "menu", "description": "Main menu"}],
    }
    assert stub.commands_for({"type": "all_private_chats"}) == [{"command": "me", "description": "我的"}]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["menu"]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("menu", "主菜单")], language_code="zh_CN")
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Menu", "大写不行")])
    assert await bot.delete_my_commands(language_code="en")
    assert set(stub.commands) == {None}


# -- the real Application ---------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bare echo bot: what came in goes back out."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def test_an_application_polls_and_answers(stub: TelegramStub) -> None:
    app = (
        ApplicationBuilder()
        .token(stub.token)
        .base_url(stub.base_url)
        .base_file_url(stub.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_polling(timeout=timedelta(seconds=5))
        stub.push_message(user_id=MEMBER, text="回声")
        [reply] = await stub.wait_for("sendMessage", chat_id=MEMBER, timeout=2)
        await app.updater.stop()
        await app.stop()
    assert reply["text"] == "回声"
    assert stub.pending_updates == 0, "the updater confirmed what it handled when it stopped"


async def test_an_application_takes_a_webhook(stub: TelegramStub) -> None:
    app = (
        ApplicationBuilder()
        .token(stub.token)
        .base_url(stub.base_url)
        .base_file_url(stub.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    port = free_port()
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="tg",
            webhook_url=f"http://127.0.0.1:{port}/tg",
            secret_token="s3cret",
        )
        update = stub.push_message(user_id=MEMBER, text="网钩")
        [reply] = await stub.wait_for("sendMessage", chat_id=MEMBER, timeout=2)
        await app.updater.stop()
        await app.stop()
    assert reply["text"] == "网钩"
    assert stub.deliveries == [(update["update_id"], 200)]
