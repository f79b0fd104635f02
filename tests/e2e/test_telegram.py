"""The real python-telegram-bot Application against a stand-in Bot API server, end to end."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.channels.telegram.adapter import TelegramChannel, TelegramConfig
from bot.channels.telegram.limits import SendLimiter
from bot.core_runner import ThreadCore
from bot.http_server import build_http_app, make_server, telegram_route
from handlers.core.context import Context, CoreConfig
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind, OutgoingFile, Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import registry
from models.accounts import ChatAccount
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.suggestions import Suggestion, SuggestionPhoto
from tests.e2e.telegram_stub import TelegramStub
from tests.factories import make_member

MEMBER_ID = 7001
ATTACHMENTS = Path(__file__).resolve().parent / "attachments"


def _attachments(ctx: Context, arg: str) -> list[Reply]:
    return [
        Reply(
            "本月会费公开",
            image=OutgoingFile(str(ATTACHMENTS / "chart.png"), "chart.png", "image/png"),
            file=OutgoingFile(str(ATTACHMENTS / "dues.xlsx"), "会费.xlsx"),
        )
    ]


UPLOADS: list[Media] = []


def _upload(ctx: Context, arg: str) -> list[Reply]:
    assert ctx.incoming.media is not None
    UPLOADS.append(ctx.incoming.media)
    return [Reply("收到文件")]


TEST_FEATURES = (
    Feature(name="upload", label="上传", summary="", words=("/upload",), run=_upload, in_menu=False),
    Feature(name="files", label="附件", summary="", words=("/files",), run=_attachments, in_menu=False),
    Feature(
        name="long",
        label="长文",
        summary="",
        words=("/long",),
        run=lambda ctx, arg: [Reply("\n".join(f"第{i}行：" + "工" * 45 for i in range(100)))],
        in_menu=False,
    ),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    server = TelegramStub()
    await server.start()
    yield server
    await server.stop()


def make_channel(
    db: SessionFactory, store: EphemeralStore, stub: TelegramStub, media: Path, webhook_url: str | None = None
) -> TelegramChannel:
    catalogues = Catalogues()
    core = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=TEST_FEATURES)),
    )
    return TelegramChannel(
        core=ThreadCore(core),
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=TelegramConfig(
            token=stub.token,
            api_root=stub.url,
            webhook_url=webhook_url,
            webhook_secret="s3cret-for-tests" if webhook_url else None,
            media_dir=media,
        ),
        limiter=SendLimiter(per_second=1000, per_chat_interval=0),
    )


@pytest.fixture
async def polling(
    db: SessionFactory, store: EphemeralStore, stub: TelegramStub, tmp_path: Path
) -> AsyncIterator[TelegramChannel]:
    with db() as session:
        make_member(session)
    channel = make_channel(db, store, stub, tmp_path / "media")
    await channel.start()
    yield channel
    await channel.stop()
    await channel.core.close()


async def said(
    stub: TelegramStub, fragment: str, *, chat_id: int = MEMBER_ID, timeout: float = 10
) -> dict[str, Any]:
    """The first message to ``chat_id`` containing ``fragment``, waiting for it to arrive."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    count = 1
    while True:
        messages = await stub.wait_for(
            "sendMessage", count=count, chat_id=chat_id, timeout=max(0.01, deadline - loop.time())
        )
        for message in messages:
            if fragment in message["text"]:
                return message
        count = len(messages) + 1


def button(message: dict[str, Any], label: str) -> str:
    markup = message["reply_markup"]
    for row in markup["inline_keyboard"]:
        for key in row:
            if key["text"] == label:
                return str(key["callback_data"])
    raise AssertionError(f"no button {label!r} in {markup}")


def message_id_of(stub: TelegramStub, text_fragment: str) -> int:
    for call in stub.calls:
        if call.method == "sendMessage" and text_fragment in str(call.params.get("text")) and call.result:
            return int(call.result["message_id"])
    raise AssertionError(f"no sent message with {text_fragment!r}")


async def bind(stub: TelegramStub) -> None:
    stub.push_message(user_id=MEMBER_ID, text="/start")
    await said(stub, "请输入您的工号")
    stub.push_message(user_id=MEMBER_ID, text="1001")
    await said(stub, "后四位")
    stub.push_message(user_id=MEMBER_ID, text="1234")
    await said(stub, "请选择要办理的事项")


async def test_commands_are_registered_for_chinese_and_english(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    assert [c["command"] for c in stub.commands["zh"]][:4] == ["menu", "me", "dues", "lang"]
    assert stub.commands["zh"][0]["description"] == "主菜单"
    assert stub.commands["en"][0]["description"] == "Main menu"


async def test_binding_menu_button_photo_dialog_and_cancel(
    polling: TelegramChannel, stub: TelegramStub, db: SessionFactory, tmp_path: Path
) -> None:
    await bind(stub)
    menu = await said(stub, "请选择要办理的事项")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "请选择要办理的事项"), data=button(menu, "提建议")
    )
    await stub.wait_for("answerCallbackQuery")
    await stub.wait_for("editMessageReplyMarkup")
    categories = await said(stub, "请选择建议类别")
    stub.push_callback(
        user_id=MEMBER_ID,
        message_id=message_id_of(stub, "请选择建议类别"),
        data=button(categories, "安全生产"),
    )
    await said(stub, "请用一句话概括")
    title = "*粗体* <b>标签</b> _下划线_ [链接](x)"
    stub.push_message(user_id=MEMBER_ID, text=title)
    await said(stub, "请写下发现的问题")
    stub.push_message(user_id=MEMBER_ID, text="叉车转弯处看不见行人，建议加装凸面镜。")
    await said(stub, "预期能带来什么效益")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    await said(stub, "估计每年")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    await said(stub, "可以发一张现场照片")
    picture = b"\xff\xd8\xff\xe0" + b"jpeg" * 500
    stub.push_message(user_id=MEMBER_ID, photo=picture)
    await said(stub, "还可以再发一张")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    named = await said(stub, "是否显示您的姓名")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "是否显示您的姓名"), data=button(named, "实名")
    )
    confirm = await said(stub, f"标题：{title}")
    assert "parse_mode" not in confirm or confirm["parse_mode"] in (None, "")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "标题："), data=button(confirm, "确认")
    )
    await said(stub, "您的建议已提交，编号 JY-")
    with db() as session:
        [suggestion] = session.exec(select(Suggestion)).all()
        [photo] = session.exec(select(SuggestionPhoto)).all()
        assert suggestion.title == title
    stored = Path(photo.ref)
    assert stored.read_bytes() == picture
    assert stored.is_relative_to(tmp_path)

    stub.push_message(user_id=MEMBER_ID, text="提建议")
    await said(stub, "请选择建议类别")
    stub.push_message(user_id=MEMBER_ID, text="取消")
    await said(stub, "已取消")
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 1


async def test_a_double_tap_on_an_old_button_does_not_act_twice(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    await bind(stub)
    menu = await said(stub, "请选择要办理的事项")
    data = button(menu, "解除绑定")
    menu_id = message_id_of(stub, "请选择要办理的事项")
    stub.push_callback(user_id=MEMBER_ID, message_id=menu_id, data=data)
    question = await said(stub, "确定要解除")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "确定要解除"), data=button(question, "否")
    )
    await said(stub, "绑定保持不变")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "确定要解除"), data=button(question, "是")
    )
    await said(stub, "这个按钮已经失效了")


async def test_a_press_that_arrives_after_telegrams_answer_window_is_still_handled(
    polling: TelegramChannel, stub: TelegramStub, caplog: pytest.LogCaptureFixture
) -> None:
    await bind(stub)
    menu = await said(stub, "请选择要办理的事项")
    with caplog.at_level(logging.DEBUG, logger="bot.channels.telegram.adapter"):
        stub.push_callback(
            user_id=MEMBER_ID,
            message_id=message_id_of(stub, "请选择要办理的事项"),
            data=button(menu, "提建议"),
            late=True,  # the bot was down or backlogged: answerCallbackQuery says "query is too old"
        )
        await said(stub, "请选择建议类别")
    [answer] = [call for call in stub.calls if call.method == "answerCallbackQuery"]
    assert answer.status == 400
    assert not [m for m in stub.sent("sendMessage", chat_id=MEMBER_ID) if "出了点问题" in m["text"]]
    [noted] = [r for r in caplog.records if "could not be acknowledged" in r.getMessage()]
    assert noted.levelno == logging.DEBUG


async def test_a_photo_with_a_caption_answers_a_text_step_with_its_caption_and_a_photo_step_with_its_photo(
    polling: TelegramChannel, stub: TelegramStub, db: SessionFactory
) -> None:
    await bind(stub)
    stub.push_message(user_id=MEMBER_ID, text="提建议")
    categories = await said(stub, "请选择建议类别")
    stub.push_callback(
        user_id=MEMBER_ID,
        message_id=message_id_of(stub, "请选择建议类别"),
        data=button(categories, "安全生产"),
    )
    await said(stub, "请用一句话概括")
    picture = b"\xff\xd8\xff\xe0" + b"jpeg" * 500
    stub.push_message(user_id=MEMBER_ID, text="叉车转弯处看不见行人", photo=picture)
    problem = await said(stub, "请写下发现的问题")
    assert problem["text"].startswith("已记下您写的文字。这一步不需要照片，照片没有保存。")
    stub.push_message(user_id=MEMBER_ID, text="建议加装凸面镜。")
    await said(stub, "预期能带来什么效益")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    await said(stub, "估计每年")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    await said(stub, "可以发一张现场照片")
    stub.push_message(user_id=MEMBER_ID, text="这是二号门的转角", photo=picture)
    more = await said(stub, "还可以再发一张")
    assert more["text"].startswith("照片已收到；随照片发来的文字没有保存。")
    stub.push_message(user_id=MEMBER_ID, text="跳过")
    named = await said(stub, "是否显示您的姓名")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "是否显示您的姓名"), data=button(named, "实名")
    )
    confirm = await said(stub, "标题：叉车转弯处看不见行人")
    stub.push_callback(
        user_id=MEMBER_ID, message_id=message_id_of(stub, "标题："), data=button(confirm, "确认")
    )
    await said(stub, "您的建议已提交")
    with db() as session:
        [suggestion] = session.exec(select(Suggestion)).all()
        [photo] = session.exec(select(SuggestionPhoto)).all()
        assert suggestion.title == "叉车转弯处看不见行人"
        assert suggestion.measure == "建议加装凸面镜。"
    assert Path(photo.ref).read_bytes() == picture


async def test_a_5000_character_reply_is_split_on_line_boundaries(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    await bind(stub)
    before = len(stub.sent("sendMessage", chat_id=MEMBER_ID))
    stub.push_message(user_id=MEMBER_ID, text="/long")
    parts = (await stub.wait_for("sendMessage", count=before + 2, chat_id=MEMBER_ID))[before:]
    texts = [part["text"] for part in parts]
    assert all(len(text) <= 4096 for text in texts)
    assert texts[0].endswith("工")
    assert texts[1].startswith("第")
    expected = "\n".join(f"第{i}行：" + "工" * 45 for i in range(100))
    assert "\n".join(texts) == expected


async def test_flood_control_is_honoured(polling: TelegramChannel, stub: TelegramStub) -> None:
    stub.fail_next("sendMessage", status=429, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stub.push_message(user_id=MEMBER_ID, text="/start")
    await said(stub, "请输入您的工号")
    assert loop.time() - started >= 1.0
    refused = [call for call in stub.calls if call.method == "sendMessage" and call.status == 429]
    assert len(refused) == 1


async def test_a_member_who_blocked_the_bot_gets_no_more_pushes(
    polling: TelegramChannel, stub: TelegramStub, db: SessionFactory
) -> None:
    await bind(stub)
    stub.block_user(MEMBER_ID)
    stub.push_message(user_id=MEMBER_ID, text="/me")
    await stub.wait_for("sendMessage", chat_id=MEMBER_ID, count=1)
    for _ in range(200):
        with db() as session:
            account = session.exec(select(ChatAccount).where(ChatAccount.external_id == str(MEMBER_ID))).one()
        if not account.active:
            break
        await asyncio.sleep(0.01)
    assert not account.active
    assert account.member_id is not None  # still bound: writing again makes it active


async def test_in_a_group_the_bot_answers_once_with_a_private_link(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    for text in ("/start", "大家好", "/me"):
        stub.push_message(user_id=MEMBER_ID, chat_id=-100, chat_type="group", text=text)
    notice = await said(stub, "https://t.me/UnionTestBot", chat_id=-100)
    assert "私聊" in notice["text"]
    stub.push_message(user_id=MEMBER_ID, text="/start")  # a private message after them all
    await said(stub, "请输入您的工号")
    assert len(stub.sent("sendMessage", chat_id=-100)) == 1


@pytest.fixture
async def webhook(
    db: SessionFactory, store: EphemeralStore, stub: TelegramStub, tmp_path: Path
) -> AsyncIterator[tuple[TelegramChannel, str]]:
    with db() as session:
        make_member(session)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    channel = make_channel(db, store, stub, tmp_path / "media", webhook_url=url)
    server = make_server(
        build_http_app([telegram_route("/telegram", "s3cret-for-tests", channel.feed)]), "127.0.0.1", port
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    await channel.start()
    yield channel, url
    await channel.stop()
    await channel.core.close()
    server.should_exit = True
    await task


async def test_webhook_mode_serves_a_whole_binding(
    webhook: tuple[TelegramChannel, str], stub: TelegramStub
) -> None:
    _, url = webhook
    assert stub.webhook_url == url
    assert stub.webhook_secret == "s3cret-for-tests"
    await bind(stub)
    stub.push_message(user_id=MEMBER_ID, text="/me")
    await said(stub, "工号：1001")


async def test_webhook_refuses_a_wrong_secret_and_ignores_a_redelivery(
    webhook: tuple[TelegramChannel, str], stub: TelegramStub
) -> None:
    _, url = webhook
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": MEMBER_ID, "type": "private"},
            "from": {"id": MEMBER_ID, "is_bot": False, "first_name": "x"},
            "text": "/start",
        },
    }
    async with httpx.AsyncClient() as client:
        wrong = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert wrong.status_code == 403
        for _ in range(2):
            right = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-for-tests"}
            )
            assert right.status_code == 200
        bad = await client.post(
            url, content=b"<xml/>", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-for-tests"}
        )
        assert bad.status_code == 400
    await said(stub, "请输入您的工号")
    stub.push_message(user_id=MEMBER_ID, text="/help")
    await said(stub, "使用前请先绑定会员身份")
    welcomes = [m for m in stub.sent("sendMessage", chat_id=MEMBER_ID) if "请输入您的工号" in m["text"]]
    assert len(welcomes) == 1


async def test_a_deep_link_with_an_invite_code_binds(
    polling: TelegramChannel, stub: TelegramStub, db: SessionFactory
) -> None:
    from datetime import UTC, datetime, timedelta

    from models.invites import create_invite
    from models.members import get_member_by_employee_no

    with db() as session:
        member = get_member_by_employee_no(session, "1001")
        code = create_invite(session, member=member, now=datetime.now(UTC), ttl=timedelta(days=1))
    stub.push_message(user_id=MEMBER_ID, text=f"/start {code}")
    await said(stub, "绑定成功")


async def test_a_members_file_is_kept_under_its_unique_id_with_its_extension(
    polling: TelegramChannel, stub: TelegramStub, tmp_path: Path
) -> None:
    UPLOADS.clear()
    await bind(stub)
    data = b"PK\x03\x04" + b"xlsx" * 300
    document = ("../../会费 名单.XLSX", data, "application/zip")
    stub.push_message(user_id=MEMBER_ID, text="/upload", document=document)
    await said(stub, "收到文件")
    media = UPLOADS[0]
    stored = Path(media.ref)
    assert stored.read_bytes() == data
    assert stored.is_relative_to(tmp_path)
    assert stored.suffix == ".xlsx"
    assert "名单" not in stored.name  # never a name the sender chose
    assert (media.kind, media.name, media.size) == (MediaKind.DOCUMENT, "../../会费 名单.XLSX", len(data))


async def test_photos_and_documents_are_sent(polling: TelegramChannel, stub: TelegramStub) -> None:
    await bind(stub)
    stub.push_message(user_id=MEMBER_ID, text="/files")
    await said(stub, "本月会费公开")
    photo = (await stub.wait_for("sendPhoto", chat_id=MEMBER_ID))[0]
    document = (await stub.wait_for("sendDocument", chat_id=MEMBER_ID))[0]
    assert photo["photo"].data == (ATTACHMENTS / "chart.png").read_bytes()
    assert document["document"].filename == "会费.xlsx"


async def test_a_passing_server_error_is_retried(polling: TelegramChannel, stub: TelegramStub) -> None:
    stub.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    stub.push_message(user_id=MEMBER_ID, text="/start")
    await said(stub, "请输入您的工号")
    statuses = [call.status for call in stub.calls if call.method == "sendMessage"]
    assert statuses[:2] == [502, 200]


async def test_a_reply_telegram_refuses_becomes_an_apology(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    stub.fail_next("sendMessage", status=400, retry_after=None, description="Bad Request: chat not found")
    stub.push_message(user_id=MEMBER_ID, text="/start")
    apology = await said(stub, "出了点问题")
    assert "编号 tg-" in apology["text"]


async def test_quick_messages_of_one_member_are_answered_in_order(
    polling: TelegramChannel, stub: TelegramStub
) -> None:
    for text in ("/start", "1001", "1234", "/me", "/lang"):
        stub.push_message(user_id=MEMBER_ID, text=text)
    await said(stub, "Choose a language")
    texts = [message["text"] for message in stub.sent("sendMessage", chat_id=MEMBER_ID)]
    order = [
        next(i for i, text in enumerate(texts) if fragment in text)
        for fragment in ("请输入您的工号", "后四位", "绑定成功", "工号：1001", "Choose a language")
    ]
    assert order == sorted(order)
