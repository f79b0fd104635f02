"""``python -m bot run`` wiring: settings in, working Telegram and WeChat channels out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App
from bot.cli_run import serve
from bot.settings import load_settings
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_telegram import free_port, said, stub  # noqa: F401  (fixture)
from tests.e2e.wechat_client import WeChatClient
from tests.e2e.wechat_stub import WeChatStub


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_run_serves_telegram_from_settings(stub: TelegramStub, tmp_path: Path, mode: str) -> None:  # noqa: F811
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        telegram_token=stub.token,
        telegram_api_url=stub.url,
        telegram_webhook_url=f"http://127.0.0.1:{port}/hook/telegram" if mode == "webhook" else None,
        http_host="127.0.0.1",
        http_port=port,
    )
    app = App(settings)
    app.prepare()
    stop = asyncio.Event()
    running = asyncio.create_task(serve(app, stop))
    stub.push_message(user_id=42, text="/start")
    await said(stub, "请输入您的工号", chat_id=42)
    if mode == "webhook":
        assert stub.webhook_url == f"http://127.0.0.1:{port}/hook/telegram"
        assert stub.webhook_secret == settings.webhook_secret
    stop.set()
    await asyncio.wait_for(running, timeout=15)
    assert (tmp_path / "data" / "unionbot.db").exists()


async def test_run_serves_wechat_and_telegram_on_one_server(stub: TelegramStub, tmp_path: Path) -> None:  # noqa: F811
    port = free_port()
    aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    async with WeChatStub(app_id="wx0123456789abcdef", secret="s") as wechat:
        settings = load_settings(
            data_dir=tmp_path / "data",
            telegram_token=stub.token,
            telegram_api_url=stub.url,
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
            wechat_token="wx-token",
            wechat_app_id="wx0123456789abcdef",
            wechat_app_secret="s",
            wechat_aes_key=aes_key,
            wechat_api_url=wechat.url,
            http_host="127.0.0.1",
            http_port=port,
        )
        app = App(settings)
        app.prepare()
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop))

        async def webhook_set() -> None:  # the HTTP server is up before Telegram's webhook is set
            while stub.webhook_url is None:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(webhook_set(), timeout=10)
        async with WeChatClient(
            f"http://127.0.0.1:{port}/wechat",
            token="wx-token",
            app_id="wx0123456789abcdef",
            aes_key=aes_key,
            mode="safe",
        ) as client:
            reply = await client.send_event("oNewMember_01", "subscribe")
        assert "请输入您的工号" in (reply.content or "")
        stop.set()
        await asyncio.wait_for(running, timeout=15)
