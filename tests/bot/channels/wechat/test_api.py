"""The WeChat API client against the stand-in server: one shared token, typed errors, the calls.

Real HTTP on 127.0.0.1, memory and Redis stores; time moves with time-machine.
Two clients on one store stand for two processes.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
import time_machine

from bot.channels.wechat import api as api_module
from bot.channels.wechat.api import (
    CUSTOM_SEND_PATH,
    GRANT_PATH,
    MEDIA_UPLOAD_PATH,
    TEMPLATE_SEND_PATH,
    CredentialsRejected,
    NotSubscribed,
    ReplyWindowClosed,
    TransientApiError,
    WeChatApi,
    WeChatApiError,
)
from bot.settings import SettingsError, load_settings
from models.ephemeral import EphemeralStore, MemoryStore
from tests.bot.channels.wechat.conftest import APP_ID, MEMBER, SECRET, MakeApi
from tests.e2e.wechat_stub import TOKEN_LIFETIME, WeChatStub

CHART = Path(__file__).parents[3] / "e2e" / "attachments" / "chart.png"
START = "2026-11-23 09:00 +0800"


def attempts(stub: WeChatStub, path: str) -> list[int]:
    """The errcode of every call to ``path``, in order."""
    return [call.errcode for call in stub.calls if call.path == path]


async def force_refresh_elsewhere(stub: WeChatStub) -> str:
    """Another program forces a new stable token: ours stops working (40001)."""
    async with httpx.AsyncClient() as http:
        body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET, "force_refresh": True}
        answer = (await http.post(f"{stub.url}{GRANT_PATH}", json=body)).json()
    token: str = answer["access_token"]
    return token


# -- the token ----------------------------------------------------------------------------------------


async def test_token_is_fetched_once_from_the_configured_root_and_reused(
    api: WeChatApi, stub: WeChatStub
) -> None:
    await api.send_text(MEMBER, "一")
    await api.send_text(MEMBER, "二")
    [grant] = [call for call in stub.calls if call.path == GRANT_PATH]
    assert grant.method == "POST"
    assert grant.body == {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    assert stub.count("/cgi-bin/token") == 0  # the endpoint that invalidates other processes' tokens
    sends = stub.sent(CUSTOM_SEND_PATH)
    assert [call.body["text"]["content"] for call in sends] == ["一", "二"]
    assert sends[0].query["access_token"] == sends[1].query["access_token"]


async def test_a_second_process_uses_the_stored_token(make_api: MakeApi, stub: WeChatStub) -> None:
    first, second = make_api(), make_api()
    await first.send_text(MEMBER, "一")
    await second.send_text(MEMBER, "二")
    assert stub.count(GRANT_PATH) == 1


async def test_concurrent_callers_fetch_one_token(make_api: MakeApi, stub: WeChatStub) -> None:
    first, second = make_api(), make_api()
    sends = [client.send_text(MEMBER, str(n)) for n in range(4) for client in (first, second)]
    await asyncio.gather(*sends, first.access_token(), second.access_token())
    assert stub.count(GRANT_PATH) == 1
    assert len(stub.sent(CUSTOM_SEND_PATH)) == 8


async def test_refreshed_before_expiry_without_a_failed_call(make_api: MakeApi, stub: WeChatStub) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        first, second = make_api(), make_api()
        await first.send_text(MEMBER, "一")
        traveller.shift(TOKEN_LIFETIME - 600)  # still fresh: nobody asks
        await first.send_text(MEMBER, "二")
        await second.send_text(MEMBER, "二")
        assert stub.count(GRANT_PATH) == 1
        traveller.shift(600 - 200)  # 200 s left: inside WeChat's early-rotation window
        await first.send_text(MEMBER, "三")
        await second.send_text(MEMBER, "三")
        assert stub.count(GRANT_PATH) == 2  # asked again before expiry, by one of the two
        await first.send_text(MEMBER, "四")
        assert stub.count(GRANT_PATH) == 2  # the stub handed out the same token: not asked on every call
    assert all(call.errcode == 0 for call in stub.calls)


async def test_expired_token_42001_is_replaced_once_and_the_call_retried(
    api: WeChatApi, stub: WeChatStub
) -> None:
    await api.send_text(MEMBER, "一")
    stub.expire_tokens()
    await api.send_text(MEMBER, "二")
    assert attempts(stub, CUSTOM_SEND_PATH) == [0, 42001, 0]
    assert stub.count(GRANT_PATH) == 2
    forced = [call for call in stub.calls if call.path == GRANT_PATH and call.body.get("force_refresh")]
    assert forced == []  # WeChat allows 20 forced refreshes a day: not spent on expiry


async def test_superseded_token_40001_is_replaced_and_other_processes_take_the_new_one(
    make_api: MakeApi, stub: WeChatStub
) -> None:
    first, second = make_api(), make_api()
    await first.send_text(MEMBER, "一")
    await second.send_text(MEMBER, "一")
    await force_refresh_elsewhere(stub)
    await first.send_text(MEMBER, "二")
    grants = stub.count(GRANT_PATH)
    await second.send_text(MEMBER, "二")  # refused once, then takes the first one's new token
    assert stub.count(GRANT_PATH) == grants
    assert attempts(stub, CUSTOM_SEND_PATH) == [0, 0, 40001, 0, 40001, 0]


async def test_a_token_wechat_refuses_but_still_hands_out_is_force_refreshed(
    api: WeChatApi, stub: WeChatStub
) -> None:
    await api.send_text(MEMBER, "一")
    stub.fail_next(CUSTOM_SEND_PATH, 40001)
    await api.send_text(MEMBER, "二")
    grants = [call.body for call in stub.calls if call.path == GRANT_PATH]
    assert [bool(body.get("force_refresh")) for body in grants] == [False, False, True]
    assert attempts(stub, CUSTOM_SEND_PATH) == [0, 40001, 0]


async def test_token_refresh_and_retry_happen_only_once(api: WeChatApi, stub: WeChatStub) -> None:
    await api.send_text(MEMBER, "一")
    stub.fail_next(CUSTOM_SEND_PATH, 42001, times=2)
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text(MEMBER, "二")
    assert caught.value.errcode == 42001
    assert attempts(stub, CUSTOM_SEND_PATH) == [0, 42001, 42001]


async def test_while_another_process_refreshes_a_still_valid_token_is_used(
    make_api: MakeApi, stub: WeChatStub, store: EphemeralStore
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        first = make_api()
        await first.send_text(MEMBER, "一")
        traveller.shift(TOKEN_LIFETIME - 100)
        store.set(f"wechat:{APP_ID}:access-token-lock", "another process", 30, only_if_absent=True)
        await make_api().send_text(MEMBER, "二")  # no waiting for the lock holder
    assert stub.count(GRANT_PATH) == 1
    assert attempts(stub, CUSTOM_SEND_PATH) == [0, 0]


async def test_waiting_for_another_process_is_bounded(
    make_api: MakeApi, stub: WeChatStub, store: EphemeralStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_module, "WAIT_SECONDS", 0.2)
    store.set(f"wechat:{APP_ID}:access-token-lock", "a process that died", 30, only_if_absent=True)
    with pytest.raises(TransientApiError, match="another process"):
        await make_api().send_text(MEMBER, "一")
    assert stub.calls == []


async def test_wrong_secret_is_a_credentials_error_that_names_no_secret(
    make_api: MakeApi, stub: WeChatStub
) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        await make_api(secret="wrong-secret-xyz").send_text(MEMBER, "一")
    assert caught.value.errcode == 40125
    assert caught.value.transient  # not the message's fault: deliveries wait for the fix
    assert "wrong-secret-xyz" not in f"{caught.value} {caught.value!r}"
    assert "wrong-secret-xyz" not in repr(make_api(secret="wrong-secret-xyz"))


async def test_neither_secret_nor_token_is_logged(
    api: WeChatApi, stub: WeChatStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await api.send_text(MEMBER, "一")
    stub.expire_tokens()
    await api.send_text(MEMBER, "二")
    stub.fail_next(CUSTOM_SEND_PATH, 40001)
    await api.send_text(MEMBER, "三")
    tokens = {call.query["access_token"] for call in stub.calls if "access_token" in call.query}
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("bot."))
    assert ours  # the refreshes are logged...
    assert all(secret not in ours for secret in {SECRET, *tokens})  # ...without what must stay secret


# -- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "kind", "transient"),
    [
        (45015, ReplyWindowClosed, False),
        (45047, ReplyWindowClosed, False),
        (43004, NotSubscribed, False),
        (-1, TransientApiError, True),
        (45009, TransientApiError, True),
        (40003, WeChatApiError, False),
    ],
)
async def test_errors_are_typed(
    api: WeChatApi, stub: WeChatStub, errcode: int, kind: type[WeChatApiError], transient: bool
) -> None:
    stub.fail_next(CUSTOM_SEND_PATH, errcode)
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text(MEMBER, "一")
    assert type(caught.value) is kind
    assert (caught.value.errcode, caught.value.transient) == (errcode, transient)
    assert caught.value.path == CUSTOM_SEND_PATH
    assert caught.value.errmsg
    assert attempts(stub, CUSTOM_SEND_PATH) == [errcode]  # the client itself never retries these


async def test_unreachable_wechat_is_transient_and_not_delivered() -> None:
    async with WeChatApi(
        app_id=APP_ID, secret=SECRET, store=MemoryStore(), api_url="http://127.0.0.1:9"
    ) as api:
        with pytest.raises(TransientApiError) as caught:
            await api.send_text(MEMBER, "一")
    assert caught.value.errcode is None
    assert not caught.value.maybe_delivered


def _wechat_behind(handler: httpx.MockTransport) -> WeChatApi:
    return WeChatApi(app_id=APP_ID, secret=SECRET, store=MemoryStore(), transport=handler)


def _edge(answer: httpx.Response | Exception, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """WeChat's HTTP edge answering the token request normally and everything else with ``answer``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == GRANT_PATH:
            return httpx.Response(200, json={"access_token": "T", "expires_in": 7200})
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("answer", "maybe_delivered"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), True),
        (httpx.Response(200, text="<html>proxy login</html>"), True),
        (httpx.ReadTimeout("timed out"), True),
        (httpx.ConnectTimeout("timed out"), False),
    ],
)
async def test_no_answer_is_transient_and_says_whether_it_may_have_arrived(
    answer: httpx.Response | Exception, maybe_delivered: bool
) -> None:
    async with _wechat_behind(_edge(answer)) as api:
        with pytest.raises(TransientApiError) as caught:
            await api.send_text(MEMBER, "一")
    assert caught.value.errcode is None
    assert caught.value.maybe_delivered is maybe_delivered


async def test_json_goes_out_as_utf8_not_escaped() -> None:
    # WeChat shows \uXXXX escapes literally in messages and menus.
    seen: list[httpx.Request] = []
    async with _wechat_behind(_edge(httpx.Response(200, json={"errcode": 0}), seen)) as api:
        await api.send_text(MEMBER, "会费已到账")
    sent = seen[-1]
    assert "会费已到账".encode() in sent.content
    assert b"\\u" not in sent.content
    assert sent.url.host == "api.weixin.qq.com"  # the default root, for every call
    assert {request.url.host for request in seen} == {"api.weixin.qq.com"}


# -- the calls ----------------------------------------------------------------------------------------


async def test_image_is_uploaded_then_sent(api: WeChatApi, stub: WeChatStub) -> None:
    media_id = await api.send_image(MEMBER, CHART)
    assert stub.uploads[media_id] == CHART.read_bytes()
    [upload] = stub.sent(MEDIA_UPLOAD_PATH)
    assert upload.query["type"] == "image"
    assert upload.body["media"]["filename"] == "chart.png"
    assert upload.body["media"]["content_type"] == "image/png"
    [send] = stub.sent(CUSTOM_SEND_PATH)
    assert send.body == {"touser": MEMBER, "msgtype": "image", "image": {"media_id": media_id}}


async def test_upload_retries_with_a_new_token_too(api: WeChatApi, stub: WeChatStub) -> None:
    await api.access_token()
    stub.expire_tokens()
    media_id = await api.upload_image(CHART)
    assert stub.uploads[media_id] == CHART.read_bytes()
    assert attempts(stub, MEDIA_UPLOAD_PATH) == [42001, 0]


async def test_upload_refuses_what_wechat_would(api: WeChatApi, stub: WeChatStub, tmp_path: Path) -> None:
    text = tmp_path / "dues.txt"
    text.write_text("not an image")
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(api_module.MAX_IMAGE_BYTES + 1)
    for path in (text, huge):
        with pytest.raises(WeChatApiError) as caught:
            await api.upload_image(path)
        assert caught.value.errcode is None
        assert not caught.value.transient
    assert stub.calls == []


async def test_template_message_carries_client_msg_id_and_link(api: WeChatApi, stub: WeChatStub) -> None:
    msgid = await api.send_template(
        MEMBER,
        "TPL-notice",
        {"thing1": "会费调整", "time2": "2026-11-23 09:00"},
        url="https://union.example/n/1",
        client_msg_id="abc123",
    )
    [call] = stub.sent(TEMPLATE_SEND_PATH)
    assert call.body == {
        "touser": MEMBER,
        "template_id": "TPL-notice",
        "data": {"thing1": {"value": "会费调整"}, "time2": {"value": "2026-11-23 09:00"}},
        "client_msg_id": "abc123",
        "url": "https://union.example/n/1",
    }
    assert msgid == call.answer["msgid"]


async def test_menu_none_then_created(api: WeChatApi, stub: WeChatStub) -> None:
    assert await api.get_menu() is None  # 46003 is "no menu", not an error
    menu = {"button": [{"type": "click", "name": "我的信息", "key": "go:me"}]}
    await api.create_menu(menu)
    assert await api.get_menu() == menu
    stub.fail_next("/cgi-bin/menu/get", 45009)
    with pytest.raises(TransientApiError):
        await api.get_menu()


async def test_from_settings_uses_the_configured_root_and_needs_both_credentials() -> None:
    settings = load_settings(
        wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_url="http://127.0.0.1:8123/"
    )
    async with WeChatApi.from_settings(settings, MemoryStore()) as api:
        assert api.api_url == "http://127.0.0.1:8123"
        assert SECRET not in repr(api)
    with pytest.raises(SettingsError, match="UNIONBOT_WECHAT_APP_SECRET"):
        WeChatApi.from_settings(load_settings(wechat_app_id=APP_ID, wechat_app_secret=None), MemoryStore())


async def test_a_members_photo_is_downloaded_and_an_expired_token_replaced_once(
    api: WeChatApi, stub: WeChatStub, tmp_path: Path
) -> None:
    picture = b"\xff\xd8\xff" + bytes(range(256)) * 40
    media_id = stub.add_member_media(picture)
    await api.access_token()
    stub.expire_tokens()
    size = await api.download_media(media_id, tmp_path / "photo.jpg")
    assert size == len(picture)
    assert (tmp_path / "photo.jpg").read_bytes() == picture


async def test_an_unknown_or_expired_media_id_is_an_error_with_its_code(
    api: WeChatApi, tmp_path: Path
) -> None:
    with pytest.raises(WeChatApiError) as raised:
        await api.download_media("MEDIA_gone", tmp_path / "photo.jpg")
    assert raised.value.errcode == 40007
