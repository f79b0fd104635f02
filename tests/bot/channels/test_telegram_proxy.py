"""Every Bot API request through ``UNIONBOT_TELEGRAM_PROXY``: the channel's (polling too) and the worker's.

The proxies are small ones on 127.0.0.1 (tests/e2e/proxies.py); the stand-in
Bot API records the address each request came from, so the test tells a
request relayed by the proxy from one that went around it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.error import NetworkError
from telegram.request import RequestData

from bot.channels.telegram.adapter import TelegramChannel, TelegramConfig
from bot.channels.telegram.push import push_bot
from bot.channels.telegram.push_http import PushRequest, RequestNotSent
from bot.cli_run import telegram_config
from bot.core_runner import ThreadCore
from bot.delivery.runner import channel_limits
from bot.settings import SettingsError, load_settings
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.e2e.proxies import HttpProxy, Socks5Proxy
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_telegram import MEMBER_ID, said
from tests.factories import make_member

ATTACHMENTS = Path(__file__).resolve().parents[2] / "e2e" / "attachments"


@pytest.fixture(params=["http", "socks5", "socks5 with a password"])
async def proxy(request: pytest.FixtureRequest) -> AsyncIterator[HttpProxy | Socks5Proxy]:
    server: HttpProxy | Socks5Proxy
    if request.param == "http":
        server = HttpProxy()
    elif request.param == "socks5":
        server = Socks5Proxy()
    else:
        server = Socks5Proxy(user="union", password="s3cret")
    async with server:
        yield server


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    async with TelegramStub() as server:
        yield server


def through(proxy: HttpProxy | Socks5Proxy, stub: TelegramStub) -> None:
    """Every request the stand-in got came from one of the proxy's connections."""
    assert stub.calls
    strays = [
        call.method for call in stub.calls if call.peer is None or call.peer[1] not in proxy.upstream_ports
    ]
    assert strays == []
    assert {port for _host, port in proxy.targets} == {int(stub.url.rsplit(":", 1)[1])}


async def test_the_channel_polls_and_answers_through_the_proxy(
    proxy: HttpProxy | Socks5Proxy,
    stub: TelegramStub,
    db: SessionFactory,
    store: EphemeralStore,
    tmp_path: Path,
) -> None:
    with db() as session:
        make_member(session)
    catalogues = Catalogues()
    channel = TelegramChannel(
        core=ThreadCore(
            Bot(sessions=db, store=store, catalogues=catalogues, config=CoreConfig(), registry=REGISTRY)
        ),
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=TelegramConfig(
            token=stub.token, api_root=stub.url, media_dir=tmp_path / "media", proxy=proxy.url
        ),
    )
    await channel.start()
    try:
        stub.push_message(user_id=MEMBER_ID, text="/start")
        await said(stub, "请输入您的工号")
    finally:
        await channel.stop()
        await channel.core.close()
    assert {"getMe", "setMyCommands", "getUpdates", "sendMessage"} <= {call.method for call in stub.calls}
    through(proxy, stub)


async def test_the_workers_pushes_and_uploads_go_through_the_proxy(
    proxy: HttpProxy | Socks5Proxy, stub: TelegramStub
) -> None:
    bot = push_bot(stub.url, stub.token, connections=2, proxy=proxy.url)
    await bot.initialize()
    try:
        for chat_id in (41, 42, 43):
            answer = await bot.do_api_request("sendmessage", api_kwargs={"chat_id": chat_id, "text": "通知"})
            assert answer["chat"]["id"] == chat_id
        await bot.send_photo(44, ATTACHMENTS / "chart.png")
    finally:
        await bot.shutdown()
    assert [call.method for call in stub.calls if call.method != "getMe"] == ["sendMessage"] * 3 + [
        "sendPhoto"
    ]
    through(proxy, stub)


def test_the_proxy_setting_takes_http_and_socks5_and_says_what_else_is_wrong() -> None:
    for good in (
        "http://127.0.0.1:3128",
        "socks5://user:pw@proxy.example.org:1080",
        "socks5h://10.0.0.1:1080",
    ):
        assert load_settings(telegram_proxy=good).telegram_proxy == good
    assert load_settings(telegram_proxy="").telegram_proxy is None
    for wrong in (
        "127.0.0.1:3128",
        "ftp://proxy:21",
        "http://proxy",
        "http://proxy:3128/path",
        "socks4://p:1",
    ):
        with pytest.raises(SettingsError, match="UNIONBOT_TELEGRAM_PROXY: http://host:port or socks5://"):
            load_settings(telegram_proxy=wrong)


def test_the_channel_and_the_worker_keep_the_same_telegram_rates_from_the_settings() -> None:
    settings = load_settings(
        telegram_token="1:x", telegram_push_per_second=1000, telegram_push_chat_interval=0.5
    )
    config = telegram_config(settings)
    assert (config.per_second, config.per_chat_interval) == (1000, 0.5)
    limit = channel_limits(settings)["telegram"]
    assert (limit.per_second, limit.chat_interval) == (1000, 0.5)
    with pytest.raises(SettingsError, match="UNIONBOT_TELEGRAM_PUSH_PER_SECOND"):
        load_settings(telegram_push_per_second=1001)


async def not_sent_through(proxy_url: str, stub: TelegramStub) -> None:
    async with PushRequest(connections=1, proxy=proxy_url) as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"{stub.url}/bot{stub.token}/sendMessage", RequestData([]))
    assert isinstance(raised.value.__cause__, RequestNotSent)


async def test_a_proxy_that_is_down_or_refuses_sends_nothing_and_the_worker_may_send_again(
    stub: TelegramStub,
) -> None:
    async with HttpProxy() as stopped:
        down = stopped.url
    await not_sent_through(down, stub)  # nobody listens there any more
    async with Socks5Proxy(user="union", password="right") as proxy:
        await not_sent_through(proxy.url.replace(":right@", ":wrong@"), stub)
    assert stub.calls == []
