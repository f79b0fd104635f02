"""The WeChat test client and API stub, checked against wechatpy and against each other.

The client is written from WeChat's public spec; these tests pin it to
wechatpy (signatures and AES both ways) so that a webhook test built on it
proves something. Everything talks HTTP on 127.0.0.1 only.

wechatpy cannot even be imported without a crypto backend (``cryptography``
or ``pycryptodome``): the tests that need it are skipped, with that reason,
when ``cryptography`` is missing.
"""

from __future__ import annotations

import base64
import importlib.util
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.e2e.wechat_client import (
    Reply,
    ReplyError,
    WeChatClient,
    aes_decrypt,
    aes_encrypt,
    decode_aes_key,
    sign,
)
from tests.e2e.wechat_stub import WeChatStub

TOKEN = "union-webhook-token"
APP_ID = "wx0123456789abcdef"
SECRET = "test-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters
MEMBER = "oMember0123456789abcdefghij"

needs_crypto = pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None,
    reason="cryptography is not installed (wechatpy needs it or pycryptodome to import at all)",
)


# -- the client's crypto against wechatpy -----------------------------------------------------------


def test_signature_matches_wechatpy_and_the_spec_example() -> None:
    # sorted(token, timestamp, nonce) joined, sha1: computed independently here.
    import hashlib

    expected = hashlib.sha1(b"".join(sorted([b"tok", b"1700000000", b"abc"]))).hexdigest()
    assert sign("tok", "1700000000", "abc") == expected
    assert sign("t", "2", "3", "E") == hashlib.sha1(b"2" + b"3" + b"E" + b"t").hexdigest()


@needs_crypto
def test_signature_accepted_by_wechatpy() -> None:
    from wechatpy.utils import check_signature

    check_signature(TOKEN, sign(TOKEN, "1700000000", "42"), "1700000000", "42")


def test_aes_key_must_be_43_characters() -> None:
    assert decode_aes_key(AES_KEY) == bytes(range(32))
    with pytest.raises(ValueError, match="43"):
        decode_aes_key(AES_KEY + "A")


@needs_crypto
def test_client_encryption_decrypts_with_wechatpy() -> None:
    from wechatpy.crypto import WeChatCrypto

    xml = "<xml><Content><![CDATA[会费怎么交？]]></Content></xml>".encode()
    encrypted = aes_encrypt(xml, decode_aes_key(AES_KEY), APP_ID)
    envelope = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    signature = sign(TOKEN, "1700000000", "n1", encrypted)
    plain = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(envelope, signature, "1700000000", "n1")
    assert plain.encode() == xml


@needs_crypto
def test_wechatpy_encryption_decrypts_with_client() -> None:
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException

    xml = "<xml><Content><![CDATA[已收到 ✓]]></Content></xml>"
    envelope = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(xml, "n2", "1700000001")
    client = WeChatClient("http://127.0.0.1:1/", token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, mode="safe")
    reply = client._read_reply(httpx.Response(200, content=envelope.encode()))
    assert reply.encrypted
    assert reply.content == "已收到 ✓"
    # And the other way round: wechatpy rejects a tampered msg_signature from us.
    encrypted = aes_encrypt(xml.encode(), decode_aes_key(AES_KEY), APP_ID)
    with pytest.raises(InvalidSignatureException):
        WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
            f"<xml><Encrypt>{encrypted}</Encrypt></xml>", "0" * 40, "1700000000", "n1"
        )


@needs_crypto
def test_client_rejects_wrong_app_id_and_bad_signature() -> None:
    from wechatpy.crypto import WeChatCrypto

    key = decode_aes_key(AES_KEY)
    with pytest.raises(ReplyError, match="AppID"):
        aes_decrypt(aes_encrypt(b"<xml/>", key, "wxOTHER"), key, APP_ID)
    envelope = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message("<xml/>", "n", "1")
    client = WeChatClient("http://127.0.0.1:1/", token="other", app_id=APP_ID, aes_key=AES_KEY, mode="safe")
    with pytest.raises(ReplyError, match="MsgSignature"):
        client._read_reply(httpx.Response(200, content=envelope.encode()))


def test_client_refuses_non_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        WeChatClient("https://example.com/wx", token=TOKEN, app_id=APP_ID, aes_key=None)


# -- a tiny webhook made of wechatpy, answering the client --------------------------------------------


async def _webhook(request: web.Request) -> web.Response:
    from wechatpy import create_reply, parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    query = request.query
    try:
        check_signature(TOKEN, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    except InvalidSignatureException:
        return web.Response(status=403)
    if request.method == "GET":
        return web.Response(text=query["echostr"])
    body = await request.read()
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    safe = query.get("encrypt_type") == "aes"
    if safe:
        try:
            body = crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
        except InvalidSignatureException:
            return web.Response(status=403)
    message: Any = parse_message(body)
    request.app[SEEN].append(message)
    if message.type == "text":
        reply = create_reply(f"echo: {message.content}", message)
    elif message.type == "voice":
        reply = create_reply(f"heard: {message.recognition}", message)
    else:
        return web.Response(text="success")
    xml = reply.render()
    if safe:
        xml = crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
    return web.Response(text=xml, content_type="application/xml")


SEEN = web.AppKey("seen", list[Any])


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, list[Any]]]:
    app = web.Application()
    app[SEEN] = []
    app.router.add_route("*", "/wx", _webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/wx", app[SEEN]
    finally:
        await runner.cleanup()


@needs_crypto
@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_wechatpy_webhook_answers_client(webhook: tuple[str, list[Any]], mode: Any) -> None:
    url, seen = webhook
    async with WeChatClient(url, token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, mode=mode) as wx:
        check = await wx.verify_url("echo-123")
        assert (check.status_code, check.text) == (200, "echo-123")

        reply: Reply = await wx.send_text(MEMBER, "你好 <b>&amp;", msg_id=777)
        assert reply.status == 200
        assert reply.encrypted == (mode != "plain")
        assert reply.msg_type == "text"
        assert reply.content == "echo: 你好 <b>&amp;"
        assert reply.message is not None
        assert reply.message["ToUserName"] == MEMBER
        assert seen[-1].id == 777
        assert seen[-1].source == MEMBER

        voice = await wx.send_voice(MEMBER, "会费多少")
        assert voice.content == "heard: 会费多少"

        event = await wx.send_event(MEMBER, "CLICK", key="MENU_DUES")
        assert event.message is None
        assert (seen[-1].event, seen[-1].key) == ("click", "MENU_DUES")

        image = await wx.send_image(MEMBER, "http://127.0.0.1/pic.jpg", "media-1")
        assert image.message is None
        assert seen[-1].media_id == "media-1"

        unsigned = await wx.send_raw(b"<xml/>", sign=False)
        assert unsigned.status == 403

        # Known wechatpy bug, pinned: the client escapes "]]>" inside CDATA and wechatpy reads it
        # back, but create_reply() renders it unescaped, so WeChat would get malformed XML.
        with pytest.raises(ReplyError, match="not XML"):
            await wx.send_text(MEMBER, "a]]>b")
        assert seen[-1].content == "a]]>b"


@needs_crypto
async def test_stale_timestamp_and_replay_reach_the_webhook(webhook: tuple[str, list[Any]]) -> None:
    # wechatpy checks neither freshness nor nonces: the client can send both (our code must refuse).
    url, seen = webhook
    async with WeChatClient(url, token=TOKEN, app_id=APP_ID, aes_key=None) as wx:
        stale = await wx.send_text(MEMBER, "old", create_time=int(time.time()) - 86_400)
        assert stale.content == "echo: old"
        again = await wx.replay()
        assert again.content == "echo: old"
        assert len(seen) == 2
        old = await wx.send_raw(b"<xml/>", timestamp=1)
        assert wx.requests[-1][0]["timestamp"] == "1"
        assert old.status in (200, 500)


# -- the API stub -------------------------------------------------------------------------------------


@pytest.fixture
async def stub() -> AsyncIterator[WeChatStub]:
    async with WeChatStub(app_id=APP_ID, secret=SECRET) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def _token(stub: WeChatStub, http: httpx.AsyncClient) -> str:
    answer = (
        await http.get(
            f"{stub.url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET},
        )
    ).json()
    assert answer["expires_in"] == 7200
    token: str = answer["access_token"]
    return token


async def _custom(stub: WeChatStub, http: httpx.AsyncClient, token: str, text: str = "hi") -> Any:
    payload = {"touser": MEMBER, "msgtype": "text", "text": {"content": text}}
    response = await http.post(
        f"{stub.url}/cgi-bin/message/custom/send", params={"access_token": token}, json=payload
    )
    return response.json()


async def test_token_endpoints(stub: WeChatStub, http: httpx.AsyncClient) -> None:
    first = await _token(stub, http)
    second = await _token(stub, http)
    assert first != second
    assert stub.count("/cgi-bin/token") == 2
    assert (await _custom(stub, http, first))["errcode"] == 40001  # superseded by the second grant
    assert (await _custom(stub, http, second)) == {"errcode": 0, "errmsg": "ok"}

    bad = await http.get(
        f"{stub.url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APP_ID, "secret": "x"},
    )
    assert bad.json()["errcode"] == 40125

    body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    stable1 = (await http.post(f"{stub.url}/cgi-bin/stable_token", json=body)).json()
    stable2 = (await http.post(f"{stub.url}/cgi-bin/stable_token", json=body)).json()
    assert stable1["access_token"] == stable2["access_token"]
    assert 0 < stable2["expires_in"] <= 7200
    assert (await _custom(stub, http, second))["errcode"] == 0  # stable tokens leave /token alone
    forced = (
        await http.post(f"{stub.url}/cgi-bin/stable_token", json={**body, "force_refresh": True})
    ).json()
    assert forced["access_token"] != stable1["access_token"]
    assert (await _custom(stub, http, stable1["access_token"]))["errcode"] == 40001


async def test_custom_send_recorded_and_awaited(stub: WeChatStub, http: httpx.AsyncClient) -> None:
    token = await _token(stub, http)
    before = time.time()
    assert (await _custom(stub, http, token, "会费已到账"))["errcode"] == 0
    [call] = await stub.wait_for("/cgi-bin/message/custom/send", timeout=2)
    assert call.body == {"touser": MEMBER, "msgtype": "text", "text": {"content": "会费已到账"}}
    assert before <= call.at <= time.time()
    with pytest.raises(TimeoutError, match="custom/send"):
        await stub.wait_for("/cgi-bin/message/custom/send", count=2, timeout=0.05)

    template = await http.post(
        f"{stub.url}/cgi-bin/message/template/send",
        params={"access_token": token},
        json={"touser": MEMBER, "template_id": "T1", "data": {}, "client_msg_id": "outbox-1"},
    )
    answer = template.json()
    assert (answer["errcode"], answer["errmsg"]) == (0, "ok")
    assert isinstance(answer["msgid"], int)


async def test_missing_and_invalid_token(stub: WeChatStub, http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{stub.url}/cgi-bin/menu/get")).json()["errcode"] == 41001
    assert (await _custom(stub, http, "forged"))["errcode"] == 40001
    assert stub.sent("/cgi-bin/message/custom/send") == []


async def test_expire_tokens_then_regrant(stub: WeChatStub, http: httpx.AsyncClient) -> None:
    token = await _token(stub, http)
    stub.expire_tokens()
    assert (await _custom(stub, http, token)) == {"errcode": 42001, "errmsg": "access_token expired"}
    fresh = await _token(stub, http)
    assert (await _custom(stub, http, fresh))["errcode"] == 0


@pytest.mark.parametrize("errcode", [45015, 43004])
async def test_fail_next(stub: WeChatStub, http: httpx.AsyncClient, errcode: int) -> None:
    token = await _token(stub, http)
    stub.fail_next("/cgi-bin/message/custom/send", errcode, times=2)
    assert (await _custom(stub, http, token))["errcode"] == errcode
    assert (await _custom(stub, http, token))["errcode"] == errcode
    assert (await _custom(stub, http, token))["errcode"] == 0
    assert len(stub.sent("/cgi-bin/message/custom/send")) == 1
    assert [call.errcode for call in stub.calls[1:]] == [errcode, errcode, 0]


async def test_menu_and_upload(stub: WeChatStub, http: httpx.AsyncClient) -> None:
    token = await _token(stub, http)
    auth = {"access_token": token}
    assert (await http.get(f"{stub.url}/cgi-bin/menu/get", params=auth)).json()["errcode"] == 46003
    menu = {"button": [{"type": "click", "name": "会费", "key": "MENU_DUES"}]}
    created = await http.post(f"{stub.url}/cgi-bin/menu/create", params=auth, json=menu)
    assert created.json() == {"errcode": 0, "errmsg": "ok"}
    assert (await http.get(f"{stub.url}/cgi-bin/menu/get", params=auth)).json() == {"menu": menu}
    info = (await http.get(f"{stub.url}/cgi-bin/get_current_selfmenu_info", params=auth)).json()
    assert info["is_menu_open"] == 1

    uploaded = await http.post(
        f"{stub.url}/cgi-bin/media/upload",
        params={**auth, "type": "image"},
        files={"media": ("card.png", b"\x89PNG data", "image/png")},
    )
    answer = uploaded.json()
    assert answer["type"] == "image"
    assert stub.uploads[answer["media_id"]] == b"\x89PNG data"
    [call] = stub.sent("/cgi-bin/media/upload")
    assert call.body["media"]["filename"] == "card.png"
