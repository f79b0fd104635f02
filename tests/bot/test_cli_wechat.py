"""``python -m bot wechat menu publish|show`` as an admin uses it, against the stand-in WeChat API.

The command runs in a thread (it has its own event loop) while the stand-in
answers on the test's loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.cli import main
from tests.conftest import STORES, TEST_REDIS_URL
from tests.e2e.wechat_stub import WeChatStub

SECRET = "cli-secret"
PUBLISHED = {
    "button": [
        {
            "name": "会员服务",
            "sub_button": [
                {"type": "click", "name": "提建议", "key": "go:suggest"},
                {"type": "click", "name": "我的建议", "key": "go:my_suggestions"},
                {"type": "click", "name": "困难申报", "key": "go:hardship"},
                {"type": "click", "name": "活动报名", "key": "go:activities"},
            ],
        },
        {
            "name": "工会动态",
            "sub_button": [
                {"type": "click", "name": "通知公告", "key": "go:notices"},
                {"type": "click", "name": "排行榜", "key": "go:ranking"},
            ],
        },
        {
            "name": "我的",
            "sub_button": [
                {"type": "click", "name": "我的会费", "key": "go:my_dues"},
                {"type": "click", "name": "我的信息", "key": "go:me"},
                {"type": "click", "name": "使用帮助", "key": "go:help"},
            ],
        },
    ]
}
# The same as the command prints it.
PRINTED = [
    "会员服务",
    "  提建议 [go:suggest]",
    "  我的建议 [go:my_suggestions]",
    "  困难申报 [go:hardship]",
    "  活动报名 [go:activities]",
    "工会动态",
    "  通知公告 [go:notices]",
    "  排行榜 [go:ranking]",
    "我的",
    "  我的会费 [go:my_dues]",
    "  我的信息 [go:me]",
    "  使用帮助 [go:help]",
]

Run = Callable[..., Coroutine[Any, Any, int]]


@pytest.fixture
def app_id() -> str:
    return "wx" + uuid.uuid4().hex[:16]  # its own token keys, even in a shared Redis


@pytest.fixture
async def stub(app_id: str) -> AsyncIterator[WeChatStub]:
    async with WeChatStub(app_id=app_id, secret=SECRET) as server:
        yield server


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stub: WeChatStub, app_id: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_WECHAT_APP_ID", app_id)
    monkeypatch.setenv("UNIONBOT_WECHAT_APP_SECRET", SECRET)
    monkeypatch.setenv("UNIONBOT_WECHAT_API_URL", stub.url)
    for name in ("UNIONBOT_REDIS_URL", "UNIONBOT_DEFAULT_LOCALE", "UNIONBOT_WECHAT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wechat(settings: None) -> Run:
    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, ["wechat", "menu", *argv])

    return run


async def test_publish_sends_only_existing_features(
    wechat: Run, stub: WeChatStub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await wechat("publish") == 0
    assert stub.menu == PUBLISHED
    out = capsys.readouterr().out.splitlines()
    assert out == ["已发布微信自定义菜单：", *PRINTED]
    assert stub.count("/cgi-bin/token") == 0


async def test_show_without_a_menu_says_so(
    wechat: Run, stub: WeChatStub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await wechat("show") == 0
    assert capsys.readouterr().out.strip() == (
        "公众号现在没有自定义菜单。运行 python -m bot wechat menu publish 发布。"
    )


async def test_show_prints_the_live_menu_and_notices_when_it_is_outdated(
    wechat: Run, stub: WeChatStub, capsys: pytest.CaptureFixture[str]
) -> None:
    await wechat("publish")
    capsys.readouterr()
    assert await wechat("show") == 0
    assert capsys.readouterr().out.splitlines() == PRINTED
    stub.menu = {"button": [{"type": "click", "name": "即将上线", "key": "SOON"}]}
    assert await wechat("show") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "即将上线 [SOON]"
    assert "publish" in out[1]


async def test_labels_in_the_default_locale(
    wechat: Run, stub: WeChatStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "en")
    assert await wechat("publish") == 0
    assert stub.menu is not None
    assert [button["name"] for button in stub.menu["button"]] == ["Services", "Union news", "Me"]
    assert [sub["name"] for sub in stub.menu["button"][2]["sub_button"]] == ["My dues", "My profile", "Help"]


@pytest.mark.parametrize("action", ["publish", "show"])
@pytest.mark.parametrize("missing", ["UNIONBOT_WECHAT_APP_ID", "UNIONBOT_WECHAT_APP_SECRET"])
async def test_missing_settings_are_named_in_one_line(
    wechat: Run,
    stub: WeChatStub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    action: str,
    missing: str,
) -> None:
    monkeypatch.delenv(missing)
    assert await wechat(action) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "UNIONBOT_WECHAT_APP_ID" in err
    assert "UNIONBOT_WECHAT_APP_SECRET" in err
    assert stub.calls == []


async def test_wechat_errors_are_one_line_with_the_code(
    wechat: Run, stub: WeChatStub, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.fail_next("/cgi-bin/menu/create", 40018, "invalid button name size rid: 6565-abc")
    assert await wechat("publish") == 1
    assert capsys.readouterr().err.strip() == "微信返回错误 40018：invalid button name size rid: 6565-abc"
    assert stub.menu is None


async def test_wrong_secret_points_at_the_settings_and_whitelist(
    wechat: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_WECHAT_APP_SECRET", "wrong")
    assert await wechat("show") == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "40125" in err
    assert "IP" in err
    assert "wrong" not in err


async def test_unreachable_wechat(
    wechat: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_WECHAT_API_URL", "http://127.0.0.1:9")
    assert await wechat("show") == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("微信接口没有回应")


@pytest.fixture(params=STORES)
def redis_url(
    request: pytest.FixtureRequest, settings: None, app_id: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """The CLI with and without Redis; the token keys (unique per app id) are removed afterwards."""
    if request.param == "memory":
        yield None
        return
    assert TEST_REDIS_URL
    monkeypatch.setenv("UNIONBOT_REDIS_URL", TEST_REDIS_URL)
    yield TEST_REDIS_URL
    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(f"unionbot:wechat:{app_id}:*"))
    if keys:
        client.delete(*keys)
    client.close()


async def test_commands_share_the_running_bots_token_through_redis(
    wechat: Run, stub: WeChatStub, redis_url: str | None
) -> None:
    await wechat("publish")
    await wechat("show")
    # With Redis the second command finds the first one's token; in memory each asks (stable_token
    # hands out the same one, so neither disturbs the other).
    assert stub.count("/cgi-bin/stable_token") == (1 if redis_url else 2)
    tokens = {call.query["access_token"] for call in stub.calls if "access_token" in call.query}
    assert len(tokens) == 1
