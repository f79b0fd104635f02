"""The WeChat channel end to end: the real webhook on uvicorn, driven as WeChat's servers drive it.

``WeChatClient`` signs and encrypts from the public spec; the stand-in API
server records every customer-service message the bot sends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from sqlmodel import select

from bot.channels.text_parts import split_text, utf8_bytes
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.render import WECHAT_TEXT_LIMIT
from bot.channels.wechat.security import MAX_BODY_BYTES
from bot.channels.wechat.webhook import WeChatChannel, WeChatConfig
from bot.core_runner import ThreadCore
from bot.http_server import build_http_app, make_server
from handlers.core.context import Context, CoreConfig
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import registry
from models.accounts import ChatAccount
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.invites import create_invite
from models.members import get_member_by_employee_no
from tests.e2e.test_telegram import free_port
from tests.e2e.wechat_client import Mode, WeChatClient
from tests.e2e.wechat_stub import WeChatStub
from tests.factories import make_member

TOKEN = "wechat-test-token"
APP_ID = "wx0123456789abcdef"
SECRET = "test-secret"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
MEMBER = "oMember_0123456789"
CUSTOM_SEND = "/cgi-bin/message/custom/send"

LONG_TEXT = "\n".join(f"第 {n} 条：" + "职工之家建设情况说明。" * 6 for n in range(1, 41))


def _slow(ctx: Context, arg: str) -> list[Reply]:
    time.sleep(0.6)  # a handler stuck on a slow database: longer than the test's reply budget
    return [Reply("慢慢来的回复")]


def _pause(ctx: Context, arg: str) -> list[Reply]:
    time.sleep(0.2)  # each longer than the burst test's reply budget
    return [Reply("稍等后的回复")]


def _long(ctx: Context, arg: str) -> list[Reply]:
    return [Reply(LONG_TEXT)]


ATTACHMENTS = Path(__file__).resolve().parent / "attachments"


def _chart(ctx: Context, arg: str) -> list[Reply]:
    return [
        Reply("本季度统计图", image=OutgoingFile(str(ATTACHMENTS / "chart.png"), "chart.png", "image/png"))
    ]


def _markup(ctx: Context, arg: str) -> list[Reply]:
    return [Reply("引号 ]]> 与 <b>标签</b> & 符号")]


TEST_FEATURES = (
    Feature(name="slow", label="慢", summary="慢", words=("/slow",), run=_slow, in_menu=False),
    Feature(
        name="pause", label="停", summary="停", words=("/pause",), run=_pause, in_menu=False, for_unbound=True
    ),
    Feature(name="long", label="长", summary="长", words=("/long",), run=_long, in_menu=False),
    Feature(name="markup", label="符", summary="符", words=("/markup",), run=_markup, in_menu=False),
    Feature(name="chart", label="图", summary="图", words=("/chart",), run=_chart, in_menu=False),
)


@dataclass
class Running:
    client: WeChatClient
    stub: WeChatStub
    channel: WeChatChannel
    url: str


@contextlib.asynccontextmanager
async def running(
    db: SessionFactory, store: EphemeralStore, media: Path, *, mode: Mode = "safe", reply_seconds: float = 4.0
) -> AsyncIterator[Running]:
    """The webhook served by uvicorn on a free port, the stand-in API behind it, a client in front."""
    catalogues = Catalogues()
    core = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=TEST_FEATURES)),
    )
    async with (
        WeChatStub(app_id=APP_ID, secret=SECRET) as stub,
        WeChatApi(app_id=APP_ID, secret=SECRET, store=store, api_url=stub.url) as api,
    ):
        config = WeChatConfig(
            token=TOKEN,
            app_id=APP_ID,
            aes_key=None if mode == "plain" else AES_KEY,
            reply_seconds=reply_seconds,
            media_dir=media,
        )
        channel = WeChatChannel(
            core=ThreadCore(core), sessions=db, store=store, catalogues=catalogues, config=config, service=api
        )
        port = free_port()
        server = make_server(build_http_app([channel.route()]), "127.0.0.1", port)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}/wechat"
        try:
            async with WeChatClient(
                url, token=TOKEN, app_id=APP_ID, aes_key=None if mode == "plain" else AES_KEY, mode=mode
            ) as client:
                yield Running(client, stub, channel, url)
        finally:
            await channel.stop()
            await channel.core.close()
            server.should_exit = True
            await task


@pytest.fixture
def member(db: SessionFactory) -> None:
    with db() as session:
        make_member(session)


async def bind(wx: WeChatClient, openid: str = MEMBER) -> None:
    reply = await wx.send_event(openid, "subscribe")
    assert "请输入您的工号" in (reply.content or "")
    await wx.send_text(openid, "1001")
    reply = await wx.send_text(openid, "1234")
    assert "绑定成功" in (reply.content or ""), reply.content


@pytest.fixture
async def bound(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> AsyncIterator[Running]:
    """The webhook in safe mode, with member 1001 bound and following."""
    async with running(db, store, tmp_path) as run:
        await bind(run.client)
        yield run


def account(db: SessionFactory, openid: str = MEMBER) -> ChatAccount | None:
    with db() as session:
        found = session.exec(select(ChatAccount).where(ChatAccount.external_id == openid)).first()
        if found is not None:
            session.expunge(found)
        return found


# -- the console's checks ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_url_verification_echoes_only_for_a_good_signature(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, mode: Mode
) -> None:
    async with running(db, store, tmp_path, mode=mode) as run:
        good = await run.client.verify_url("echo-123")
        assert (good.status_code, good.text) == (200, "echo-123")
        stale = await run.client.verify_url("echo-123", timestamp=int(time.time()) - 301)
        assert stale.status_code == 403
        async with httpx.AsyncClient() as http:
            forged = await http.get(
                run.url,
                params={
                    "signature": "0" * 40,
                    "timestamp": str(int(time.time())),
                    "nonce": "1",
                    "echostr": "x",
                },
            )
        assert forged.status_code == 403
        assert "x" not in forged.text


# -- conversations -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_following_binds_and_the_menu_is_numbered(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None, mode: Mode
) -> None:
    async with running(db, store, tmp_path, mode=mode) as run:
        welcome = await run.client.send_event(MEMBER, "subscribe")
        assert welcome.encrypted == (mode != "plain")
        assert "您好，欢迎使用工会助手" in (welcome.content or "")
        await run.client.send_text(MEMBER, "1001")
        bound = await run.client.send_text(MEMBER, "1234")
        text = bound.content or ""
        assert "绑定成功" in text
        assert "1. 我的信息" in text
        assert "（回复数字选择）" in text
        assert bound.message is not None
        assert bound.message["ToUserName"] == MEMBER
    assert run.stub.sent(CUSTOM_SEND) == []


async def test_a_whole_dialog_answered_by_number_full_width_digit_and_words(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    async with running(db, store, tmp_path) as run:
        wx = run.client
        await bind(wx)
        form = await wx.send_text(MEMBER, "语言")
        assert "1. 简体中文" in (form.content or "")
        assert "3. English" in (form.content or "")
        english = await wx.send_text(MEMBER, "３")
        assert "(Reply with a number)" in (english.content or "")
        again = await wx.send_text(MEMBER, "/lang")
        assert "Choose a language" in (again.content or "")
        traditional = await wx.send_text(MEMBER, "繁體中文")
        assert "（回覆數字選擇）" in (traditional.content or "")
        await wx.send_text(MEMBER, "/lang")
        cancelled = await wx.send_text(MEMBER, "取消")
        assert "已取消" in (cancelled.content or "")


async def test_a_menu_click_runs_the_same_command_as_typing(bound: Running) -> None:
    clicked = await bound.client.send_event(MEMBER, "CLICK", key="go:me")
    typed = await bound.client.send_text(MEMBER, "/me")
    assert "工号：1001" in (clicked.content or "")
    assert clicked.content == typed.content
    foreign = await bound.client.send_event(MEMBER, "CLICK", key="V1001_TODAY_MUSIC")
    assert foreign.message is None
    assert foreign.status == 200
    view = await bound.client.send_event(MEMBER, "VIEW", key="https://union.example.org/")
    assert view.message is None
    assert view.status == 200


async def test_a_qr_scene_that_is_not_an_invite_code_greets_like_a_plain_follow(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(db, store, tmp_path) as run:
        wx = run.client
        with caplog.at_level(logging.INFO, logger="bot.channels.wechat.webhook"):
            poster = await wx.send_event(MEMBER, "subscribe", key="qrscene_canteen_poster_2026")
        assert "您好，欢迎使用工会助手" in (poster.content or "")
        assert "请输入您的工号" in (poster.content or "")
        assert "无效或已过期" not in (poster.content or "")
        [noted] = [r for r in caplog.records if "canteen_poster_2026" in r.getMessage()]
        assert noted.levelno == logging.INFO
        assert MEMBER not in noted.getMessage()
        await wx.send_text(MEMBER, "1001")
        assert "绑定成功" in ((await wx.send_text(MEMBER, "1234")).content or "")
        # Already following and bound: scanning a unit's code just says welcome back.
        scan = await wx.send_event(MEMBER, "SCAN", key="123", create_time=int(time.time()) + 1)
        assert "欢迎回来" in (scan.content or "")
        assert "无需再次绑定" not in (scan.content or "")


async def test_a_qr_scene_shaped_like_a_code_that_is_not_valid_says_so(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    async with running(db, store, tmp_path) as run:
        reply = await run.client.send_event(MEMBER, "subscribe", key="qrscene_ABCD2345")
        assert "这个绑定码无效或已过期" in (reply.content or "")
    found = account(db)
    assert found is not None
    assert found.member_id is None


async def test_following_through_an_invite_qr_code_binds_at_once(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    with db() as session:
        code = create_invite(
            session,
            member=get_member_by_employee_no(session, "1001"),
            now=datetime.now(UTC),
            ttl=timedelta(days=1),
        )
    async with running(db, store, tmp_path) as run:
        reply = await run.client.send_event(MEMBER, "subscribe", key=f"qrscene_{code}")
        assert "绑定成功" in (reply.content or ""), reply.content


async def test_unfollowing_stops_pushes_and_following_again_resumes(
    bound: Running, db: SessionFactory
) -> None:
    gone = await bound.client.send_event(MEMBER, "unsubscribe")
    assert gone.message is None
    assert gone.status == 200
    found = account(db)
    assert found is not None
    assert not found.active
    # Events are told apart by their second: this one comes a second after the first follow.
    back = await bound.client.send_event(MEMBER, "subscribe", create_time=int(time.time()) + 1)
    assert "欢迎回来" in (back.content or "")
    found = account(db)
    assert found is not None
    assert found.active


async def test_voice_with_recognised_text_is_read_back_and_without_asks_for_text(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    async with running(db, store, tmp_path) as run:
        wx = run.client
        await wx.send_event(MEMBER, "subscribe")
        heard = await wx.send_voice(MEMBER, "1001。")  # recognition ends a sentence with 。
        assert "我听到的是：“1001”" in (heard.content or "")
        unheard = await wx.send_voice(MEMBER, None)
        assert "这条语音没能识别成文字" in (unheard.content or "")
        typed = await wx.send_text(MEMBER, "1001")
        assert "手机号" in (typed.content or "")


async def test_a_photo_is_downloaded_and_kept(bound: Running, tmp_path: Path) -> None:
    picture = b"\xff\xd8\xff\xe0" + secrets.token_bytes(2048)
    media_id = bound.stub.add_member_media(picture)
    reply = await bound.client.send_image(MEMBER, "http://127.0.0.1:1/pic.jpg", media_id)
    assert reply.status == 200
    assert reply.content
    [kept] = (tmp_path / "wechat").iterdir()
    assert kept.read_bytes() == picture


async def test_a_photo_wechat_no_longer_has_is_asked_for_again(bound: Running) -> None:
    reply = await bound.client.send_image(MEMBER, "http://127.0.0.1:1/pic.jpg", "MEDIA_expired")
    assert "照片没能收到，请再发一次" in (reply.content or "")
    assert "1. 我的信息" in (reply.content or "")  # and the member is shown where they are


async def test_a_photo_that_did_not_arrive_is_asked_for_again_with_the_open_question(
    bound: Running, db: SessionFactory
) -> None:
    wx = bound.client
    await wx.send_text(MEMBER, "提建议")
    await wx.send_text(MEMBER, "安全生产")
    await wx.send_text(MEMBER, "叉车转弯处看不见行人")
    await wx.send_text(MEMBER, "叉车转弯处看不见行人，建议加装凸面镜。")
    await wx.send_text(MEMBER, "跳过")
    question = await wx.send_text(MEMBER, "跳过")
    assert "可以发一张现场照片" in (question.content or "")
    expired = await wx.send_image(MEMBER, "http://127.0.0.1:1/pic.jpg", "MEDIA_expired")
    text = expired.content or ""
    assert "抱歉，照片没能收到，请再发一次。" in text
    assert "可以发一张现场照片" in text  # the open question, asked again
    picture = b"\xff\xd8\xff\xe0" + secrets.token_bytes(512)
    taken = await wx.send_image(MEMBER, "http://127.0.0.1:1/pic.jpg", bound.stub.add_member_media(picture))
    assert "还可以再发一张" in (taken.content or "")


async def test_an_image_in_a_reply_is_uploaded_and_follows_the_text(bound: Running) -> None:
    reply = await bound.client.send_text(MEMBER, "/chart")
    assert reply.content == "本季度统计图"
    [image] = await bound.stub.wait_for(CUSTOM_SEND)
    assert image.body["msgtype"] == "image"
    [upload] = bound.stub.sent("/cgi-bin/media/upload")
    assert image.body["image"]["media_id"] == upload.answer["media_id"]
    assert bound.stub.uploads[upload.answer["media_id"]] == (ATTACHMENTS / "chart.png").read_bytes()


async def test_a_retry_that_reaches_another_process_gets_the_first_answer(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    """Two processes behind one URL share the store: the second answers from the first one's record."""
    async with running(db, store, tmp_path) as one, running(db, store, tmp_path) as two:
        await bind(one.client)
        await one.client.send_text(MEMBER, "/lang")
        params_body = one.client.requests
        first = await one.client.send_text(MEMBER, "3", msg_id=88_000_000_001)
        params, body = params_body[-1]
        async with httpx.AsyncClient() as http:
            retried = await http.post(two.url, params=params, content=body)
        assert retried.status_code == 200
        answer = two.client._read_reply(retried)
        assert answer.content == first.content
        assert "OK, I'll write to you in English" in (answer.content or "")


async def test_markup_in_a_reply_reaches_the_member_as_written(bound: Running) -> None:
    reply = await bound.client.send_text(MEMBER, "/markup")
    assert reply.content == "引号 ]]> 与 <b>标签</b> & 符号"


# -- retries and the 5-second budget -------------------------------------------------------------


async def test_three_concurrent_copies_of_a_message_are_handled_once_and_answered_alike(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    async with running(db, store, tmp_path) as run:
        wx = run.client
        await bind(wx)
        await wx.send_text(MEMBER, "/lang")
        msg_id = 77_000_000_001
        created = int(time.time())
        copies = await asyncio.gather(
            *(wx.send_text(MEMBER, "3", msg_id=msg_id, create_time=created) for _ in range(3))
        )
        contents = {copy.content for copy in copies}
        assert len(contents) == 1, contents
        assert "OK, I'll write to you in English" in (contents.pop() or "")
        # Handled twice, the second "3" would have opened the menu's third item (Unbind).
        after = await wx.send_text(MEMBER, "取消")
        assert "Nothing is in progress" in (after.content or "")
    assert run.stub.sent(CUSTOM_SEND) == []


async def test_a_replayed_request_gets_the_same_answer_and_a_forged_body_is_refused(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    async with running(db, store, tmp_path, mode="plain") as run:
        wx = run.client
        first = await wx.send_event(MEMBER, "subscribe")
        again = await wx.replay()
        assert again.content == first.content
        params, body = wx.requests[-1]
        forged = body.replace(b"subscribe", b"unsubscribe")
        async with httpx.AsyncClient() as http:
            refused = await http.post(run.url, params=params, content=forged)
        assert refused.status_code == 403
        found = account(db)
        assert found is not None
        assert found.active


async def test_a_call_replayed_while_its_timestamp_is_still_accepted_is_not_handled_again(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    """WeChat's clock runs 290 s ahead of ours: its call stays acceptable for 590 s, not five minutes."""
    async with running(db, store, tmp_path) as run:
        wx = run.client
        await bind(wx)
        await wx.send_text(MEMBER, "/lang")
        ahead = int(time.time()) + 290
        message = (
            f"<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>{MEMBER}</FromUserName>"
            f"<CreateTime>{ahead}</CreateTime><MsgType>text</MsgType><Content>3</Content>"
            f"<MsgId>66000000001</MsgId></xml>"
        ).encode()
        first = await wx.send_raw(message, encrypt=True, timestamp=ahead)
        assert "OK, I'll write to you in English" in (first.content or "")
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=400), tick=True):
            replayed = await wx.replay()
            assert replayed.status == 200
            assert replayed.content in (None, first.content)
            # Handled twice, the replayed "3" would have opened the menu's third item (Unbind).
            after = await wx.send_text(MEMBER, "取消")
            assert "Nothing is in progress" in (after.content or "")


async def test_a_slow_reply_goes_as_a_customer_service_message(bound: Running) -> None:
    bound.channel.config = replace(bound.channel.config, reply_seconds=0.2)
    bound.stub.fail_next(CUSTOM_SEND, -1)  # "system busy": sent again after a pause
    started = time.monotonic()
    answer = await bound.client.send_text(MEMBER, "/slow")
    assert answer.message is None
    assert answer.body == b"success"
    assert time.monotonic() - started < 0.55
    [sent] = await bound.stub.wait_for(CUSTOM_SEND)
    assert sent.body["touser"] == MEMBER
    assert "慢慢来的回复" in sent.body["text"]["content"]
    assert bound.stub.count(CUSTOM_SEND) == 2  # the busy answer, then the retry


async def test_every_reply_of_a_burst_of_late_ones_reaches_its_member(bound: Running) -> None:
    bound.channel.config = replace(bound.channel.config, reply_seconds=0.1)
    members = [f"oBurst_{n:04d}_abcdef" for n in range(10)]  # more than go out at once
    answers = await asyncio.gather(*(bound.client.send_text(openid, "/pause") for openid in members))
    assert all(answer.body == b"success" for answer in answers)  # every one missed the budget
    calls = await bound.stub.wait_for(CUSTOM_SEND, len(members), timeout=30)
    assert sorted(call.body["touser"] for call in calls) == members


async def test_a_long_reply_is_split_under_wechat_limits(bound: Running) -> None:
    passive = await bound.client.send_text(MEMBER, "/long")
    first = passive.content or ""
    expected = split_text(LONG_TEXT, WECHAT_TEXT_LIMIT, utf8_bytes)
    assert len(expected) > 2
    rest = [
        call.body["text"]["content"] for call in await bound.stub.wait_for(CUSTOM_SEND, len(expected) - 1)
    ]
    parts = [first, *rest]
    assert all(len(part.encode()) <= 2048 for part in parts)
    assert "\n".join(parts) == LONG_TEXT
    assert all(part.startswith("第 ") for part in parts)  # cut between lines


# -- what an attacker sends ----------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>oAttacker</FromUserName>
<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><FromUserName>oAttacker</FromUserName><MsgType>text</MsgType><Content>&lol3;</Content></xml>"""


HIDDEN_DOCTYPE = (
    b'<?x <![CDATA[ ?><!DOCTYPE xml SYSTEM "file:///etc/passwd"><?y ]]> ?>'
    b"<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>oAttacker</FromUserName>"
    b"<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>1001</Content>"
    b"<MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_hostile_xml_is_refused_or_ignored_never_a_500(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    encrypt = mode == "safe"
    async with running(db, store, tmp_path, mode=mode) as run:
        wx = run.client
        huge = b"<xml><Content>" + b"a" * (MAX_BODY_BYTES + 1) + b"</Content></xml>"
        assert (await wx.send_raw(huge, encrypt=False)).status == 413
        # Answered as any message we cannot read: "success", so WeChat does not retry it.
        for attack in (XXE, LAUGHS, HIDDEN_DOCTYPE):
            refused = await wx.send_raw(attack, encrypt=encrypt)
            assert (refused.status, refused.body, refused.message) == (200, b"success", None), attack
        now = str(int(time.time())).encode()
        ignored = [
            b"<xml><unclosed>",
            b"not xml at all",
            b"<other>1</other>",
            b"<xml><ToUserName>gh</ToUserName><FromUserName>oAttacker1</FromUserName><CreateTime>"
            + now
            + b"</CreateTime><MsgType>hologram</MsgType><MsgId>5</MsgId></xml>",
            b"<xml><MsgType>text</MsgType><Content>hi</Content></xml>",  # no sender, no time, no id
            b"<xml><FromUserName>oAttacker1</FromUserName><CreateTime>"
            + now
            + b"</CreateTime><MsgType>text</MsgType><Content><b>x</b></Content></xml>",  # no MsgId
        ]
        for body in ignored:
            answer = await wx.send_raw(body, encrypt=encrypt)
            assert (answer.status, answer.body) == (200, b"success"), body
    assert account(db, "oAttacker") is None
    assert account(db, "oAttacker1") is None
    assert "Traceback" not in caplog.text


async def test_bad_signatures_stale_timestamps_and_another_app_are_refused(
    db: SessionFactory, store: EphemeralStore, tmp_path: Path, member: None
) -> None:
    subscribe = (
        f"<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>{MEMBER}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    ).encode()
    async with running(db, store, tmp_path) as run:
        wx = run.client
        assert (await wx.send_raw(subscribe, sign=False, encrypt=True)).status == 403
        stale = await wx.send_raw(subscribe, encrypt=True, timestamp=int(time.time()) - 600)
        assert stale.status == 403
        plain = await wx.send_raw(subscribe, encrypt=False)  # the console says safe mode
        assert plain.status == 403
        async with WeChatClient(
            run.url, token=TOKEN, app_id="wxSomeoneElse000", aes_key=AES_KEY, mode="safe"
        ) as other:
            assert (await other.send_raw(subscribe, encrypt=True)).status == 403
        async with WeChatClient(
            run.url, token="guessed", app_id=APP_ID, aes_key=AES_KEY, mode="safe"
        ) as guess:
            assert (await guess.send_raw(subscribe, encrypt=True)).status == 403
    assert account(db) is None
