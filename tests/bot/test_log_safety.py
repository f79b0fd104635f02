"""No secret and no member's words in any log line, at DEBUG, ours or the libraries'."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
from telegram.error import InvalidToken

from bot.app import App, configure_logging
from bot.channels.telegram.adapter import TelegramChannel, TelegramConfig
from bot.core_runner import ThreadCore
from bot.delivery.runner import supervise_worker
from bot.log_safety import MASK, SecretFilter
from bot.settings import Settings, load_settings
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_telegram import MEMBER_ID, button, make_channel, message_id_of, said
from tests.factories import make_member

TOKEN = "7301234567:AAHk3v9QxLmN2pR5sT8uW1yZ4bC6dF0gJ7e"
APP_SECRET = "wx-app-secret-5f3c1e9a7b2d4c6e8f0a"
AES_KEY = "kR7mW2xQ9pL4vN8sT1yB6cF3hJ0dG5aZ2eU7iO9qX4w"
WECHAT_TOKEN = "wechatToken42"
DATA_KEY = "q1V8r0JmX2l3oYt9zK6pW4nB7cH5sD1fG3aE0uI2yLw="
DB_PASSWORD = "Pg-Passw0rd-x7"
REDIS_PASSWORD = "Redis-Passw0rd-y8"
PROXY_PASSWORD = "Proxy-Passw0rd-z9"
WEBHOOK_SECRET = "hook-secret-Q2w3E4r5"
SECRETS = (
    TOKEN,
    TOKEN.partition(":")[2],
    APP_SECRET,
    AES_KEY,
    WECHAT_TOKEN,
    DATA_KEY,
    DB_PASSWORD,
    REDIS_PASSWORD,
    PROXY_PASSWORD,
    WEBHOOK_SECRET,
)
# What the member types: a wrong invite code, the 工号, the phone's last four digits.
EMPLOYEE_NO = "Z70315"
PHONE = "13900007305"
INVITE_CODE = "K7M2Q9XP"
TITLE = "三号线噪声超标"


def secret_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        data_dir=data_dir,
        telegram_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        wechat_token=WECHAT_TOKEN,
        wechat_app_id="wx0123456789abcdef",
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY,
        data_key=DATA_KEY,
        database_url=f"postgresql://unionbot:{DB_PASSWORD}@127.0.0.1:5432/unionbot",
        redis_url=f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        telegram_proxy=f"socks5://union:{PROXY_PASSWORD}@127.0.0.1:1080",
        log_level="DEBUG",
    )
    return load_settings(**{**values, **overrides})


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time: capsys's during the test."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


@pytest.fixture(autouse=True)
def _hooks_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_logging routes uncaught exceptions through logging; pytest's own hooks come back after."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)


@pytest.fixture
def stderr_log() -> Iterator[None]:
    """The log on stderr as ``run`` writes it (pytest's own handlers keep basicConfig from adding one)."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield
    root.removeHandler(handler)


def leaks(output: str, *, typed: tuple[str, ...] = ()) -> list[str]:
    """The secrets and typed words found in ``output``; digits count only as a number of their own."""
    found = [secret for secret in SECRETS if secret in output]
    found += [
        word for word in typed if re.search(rf"(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", output)
    ]
    return found


def test_every_secret_is_masked_wherever_it_appears(
    data_dir: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], stderr_log: None
) -> None:
    settings = secret_settings(data_dir)
    configure_logging(settings)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("some.library")
    log.debug("settings: %r", settings)
    log.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
    log.info("GET https://api.weixin.qq.com/cgi-bin/stable_token?access_token=ACCESS-abc123&x=1")
    log.info("URL-encoded: %s", f"token={TOKEN.replace(':', '%3A')}")
    log.debug(
        "Calling Bot API endpoint `sendMessage` with parameters `%s`",
        {"chat_id": 1, "text": f"工号{EMPLOYEE_NO}"},
    )
    log.debug('{"update_id":5,"message":{"text":"%s","caption":"%s"}}', PHONE[-4:], INVITE_CODE)
    log.debug("<xml><Content><![CDATA[%s]]></Content></xml>", EMPLOYEE_NO)
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken:
        log.exception("start failed")
    log.debug("%s and %d", "too few")  # a broken call still cannot leak
    logging.getLogger("other").warning("the key %s", DATA_KEY)
    output = caplog.text + capsys.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert leaks(output, typed=(EMPLOYEE_NO, PHONE[-4:], INVITE_CODE)) == []
    assert "access_token=ACCESS" not in output
    assert "Set Bot API URL: https://api.telegram.org/bot***" in output
    assert "InvalidToken: The token `***` was rejected" in output  # the traceback, cleaned
    assert "'chat_id': 1, 'text': '***'" in output


def test_short_or_absent_secrets_leave_the_log_alone() -> None:
    cleaner = SecretFilter(["ab", ""])
    assert cleaner.redact("about tabs") == "about tabs"
    assert cleaner.redact("postgresql://u:ab@host/db") == f"postgresql://u:{MASK}@host/db"
    assert cleaner.redact("http://127.0.0.1:8080/path") == "http://127.0.0.1:8080/path"
    assert cleaner.redact("context='kept'") == "context='kept'"


async def test_binding_a_suggestion_and_a_401_at_debug_leave_no_secret_and_no_typed_digit(
    db: SessionFactory,
    store: EphemeralStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    stderr_log: None,
) -> None:
    settings = secret_settings(tmp_path / "data")
    configure_logging(settings)
    caplog.set_level(logging.DEBUG)
    with db() as session:
        make_member(session, employee_no=EMPLOYEE_NO, phone=PHONE)
    async with TelegramStub(token=TOKEN) as stub:
        channel = make_channel(db, store, stub, tmp_path / "media")
        await channel.start()
        try:
            stub.push_message(user_id=MEMBER_ID, text=f"/start {INVITE_CODE}")
            await said(stub, "绑定码无效")
            stub.push_message(user_id=MEMBER_ID, text="/start")
            await said(stub, "请输入您的工号")
            stub.push_message(user_id=MEMBER_ID, text=EMPLOYEE_NO)
            await said(stub, "后四位")
            stub.push_message(user_id=MEMBER_ID, text=PHONE[-4:])
            menu = await said(stub, "请选择要办理的事项")
            stub.push_callback(
                user_id=MEMBER_ID,
                message_id=message_id_of(stub, "请选择要办理的事项"),
                data=button(menu, "提建议"),
            )
            categories = await said(stub, "请选择建议类别")
            stub.push_callback(
                user_id=MEMBER_ID,
                message_id=message_id_of(stub, "请选择建议类别"),
                data=button(categories, "安全生产"),
            )
            await said(stub, "请用一句话概括")
            stub.push_message(user_id=MEMBER_ID, text=TITLE)
            await said(stub, "请写下发现的问题")
            stub.push_message(user_id=MEMBER_ID, text="冲压机旁说话听不见，建议加隔音罩。")
            await said(stub, "预期能带来什么效益")
            stub.push_message(user_id=MEMBER_ID, text="跳过")
            await said(stub, "估计每年")
            stub.push_message(user_id=MEMBER_ID, text="跳过")
            await said(stub, "可以发一张现场照片")
            stub.push_message(user_id=MEMBER_ID, text="跳过")
            named = await said(stub, "是否显示您的姓名")
            stub.push_callback(
                user_id=MEMBER_ID,
                message_id=message_id_of(stub, "是否显示您的姓名"),
                data=button(named, "实名"),
            )
            confirm = await said(stub, "标题：")
            stub.push_callback(
                user_id=MEMBER_ID, message_id=message_id_of(stub, "标题："), data=button(confirm, "确认")
            )
            await said(stub, "您的建议已提交，编号 JY-")
        finally:
            await channel.stop()
            await channel.core.close()

    # Telegram answers 401: the token was revoked. The channel fails to start (`run` then ends with
    # the traceback), and the delivery worker logs its failure and tries again.
    async with TelegramStub(token="7301234567:AAdifferentTokenOfAnotherBot0123456") as other:
        catalogues = Catalogues()
        refused = TelegramChannel(
            core=ThreadCore(
                Bot(sessions=db, store=store, catalogues=catalogues, config=CoreConfig(), registry=REGISTRY)
            ),
            sessions=db,
            store=store,
            catalogues=catalogues,
            config=TelegramConfig(token=TOKEN, api_root=other.url, media_dir=tmp_path / "media"),
        )
        with pytest.raises(InvalidToken) as caught:
            await refused.start()
        await refused.core.close()
        for request in refused.application.bot._request:  # opened before the 401; never started
            await request.shutdown()
        sys.excepthook(caught.type, caught.value, caught.tb)
        app = App(
            secret_settings(
                tmp_path / "worker",
                database_url="",
                redis_url=None,
                telegram_api_url=other.url,
                wechat_api_url=other.url,
            )
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(supervise_worker(app, stop))
        async with asyncio.timeout(15):
            while not any("delivery worker failed" in record.getMessage() for record in caplog.records):
                await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(worker, timeout=10)
        app.engine.dispose()

    output = caplog.text + capsys.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert "Set Bot API URL" in output  # python-telegram-bot's DEBUG lines are there, cleaned
    assert "rejected by the server" in output  # and the 401's traceback
    assert "the delivery worker failed" in output
    assert leaks(output, typed=(EMPLOYEE_NO, PHONE[-4:], INVITE_CODE, TITLE)) == []
