"""A cadre's export on WeChat, through ``python -m bot run``'s wiring: a download link that downloads.

WeChat cannot carry a spreadsheet, so with ``UNIONBOT_PUBLIC_URL`` the reply
holds a signed link to our own HTTP server; without it, a note saying how to
get the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.cli_run import serve
from bot.settings import load_settings
from handlers.core.workbook import MIME_TYPE
from models.roles import Role
from tests.e2e.test_telegram import free_port
from tests.e2e.wechat_client import WeChatClient
from tests.e2e.wechat_stub import WeChatStub
from tests.factories import make_member

APP_ID = "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CADRE = "oCadre_0123456789"
PUBLIC = "https://union.example.org"
LINK = re.compile(r"点击下载“(?P<name>[^”]+)”（30 分钟内有效）：(?P<url>\S+)")


@dataclass
class Served:
    client: WeChatClient
    app: App
    port: int


@contextlib.asynccontextmanager
async def served(tmp_path: Path, public_url: str | None) -> AsyncIterator[Served]:
    """``serve`` from settings, with the chair of 厂工会 in the roster and bound on WeChat."""
    port = free_port()
    async with WeChatStub(app_id=APP_ID, secret="s") as wechat:
        settings = load_settings(
            data_dir=tmp_path / "data",
            wechat_token="wx-token",
            wechat_app_id=APP_ID,
            wechat_app_secret="s",
            wechat_aes_key=AES_KEY,
            wechat_api_url=wechat.url,
            public_url=public_url,
            http_host="127.0.0.1",
            http_port=port,
            scheduler=False,
        )
        app = App(settings)
        app.prepare()
        with app.sessions() as session:
            make_member(session, name="周主席", roles=[(Role.CHAIR, "厂工会")])
            session.commit()
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop, only="channels"))
        try:
            async with WeChatClient(
                f"http://127.0.0.1:{port}/wechat",
                token="wx-token",
                app_id=APP_ID,
                aes_key=AES_KEY,
                mode="safe",
            ) as client:
                await _until_up(port)
                await client.send_event(CADRE, "subscribe")
                await client.send_text(CADRE, "1001")
                bound = await client.send_text(CADRE, "1234")
                assert "绑定成功" in (bound.content or ""), bound.content
                yield Served(client, app, port)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=15)


async def _until_up(port: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(500):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.02)
    raise AssertionError("the HTTP server did not come up")


async def export(client: WeChatClient) -> str:
    """建议统计 → 本月 → 导出Excel, as a cadre types it; the reply's text."""
    await client.send_text(CADRE, "建议统计")
    await client.send_text(CADRE, "本月")
    reply = await client.send_text(CADRE, "导出Excel")
    assert "建议统计表" in (reply.content or ""), reply.content
    return reply.content or ""


async def test_a_cadres_export_comes_as_a_link_that_downloads_the_workbook(tmp_path: Path) -> None:
    async with served(tmp_path, PUBLIC) as run:
        text = await export(run.client)
        match = LINK.search(text)
        assert match is not None, text
        assert "无法" not in text
        name, url = match["name"], match["url"]
        assert name.startswith("建议统计-")
        assert name.endswith(".xlsx")
        assert url.startswith(f"{PUBLIC}/files/")
        # The public URL's proxy forwards to our server: ask it directly.
        local = url.replace(PUBLIC, f"http://127.0.0.1:{run.port}")
        async with httpx.AsyncClient() as http:
            response = await http.get(local)
            forged = await http.get(local[:-4] + ("AAAA" if not local.endswith("AAAA") else "BBBB"))
            outside = await http.get(f"http://127.0.0.1:{run.port}/files/..%2Fdata.key")
    assert response.status_code == 200
    [saved] = (tmp_path / "data" / "exports").iterdir()
    assert response.content == saved.read_bytes()
    assert response.headers["content-type"] == MIME_TYPE
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name
    workbook = tmp_path / "downloaded.xlsx"
    workbook.write_bytes(response.content)
    assert load_workbook(workbook).sheetnames == ["汇总", "明细", "个人排行"]
    assert (forged.status_code, forged.text) == (404, "not found")
    assert outside.status_code == 404


async def test_without_a_public_url_the_cadre_hears_how_to_get_the_file(tmp_path: Path) -> None:
    async with served(tmp_path, None) as run:
        text = await export(run.client)
        async with httpx.AsyncClient() as http:
            route = await http.get(f"http://127.0.0.1:{run.port}/files/anything")
    assert re.search(r"文件“建议统计-[^”]+\.xlsx”无法在微信里直接发送。请在 Telegram 上导出", text), text
    assert "UNIONBOT_PUBLIC_URL" in text
    assert "http" not in text
    assert route.status_code == 404  # no links, no route


@pytest.fixture(autouse=True)
def _no_stray_exports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Relative paths land in the test's folder, never in the repository's data/."""
    monkeypatch.chdir(tmp_path)
