"""The WeChat webhook, the real Starlette app over ASGI, fed arbitrary and mutated calls.

Query strings, XML bodies and encrypted envelopes are drawn by hypothesis; signatures and
encryption come from the spec's own primitives (tests/e2e/wechat_client.py), not from wechatpy.
Whatever arrives: never a 500 (WeChat retries it, then shows members "该公众号暂时无法提供服务"),
and nothing changes — no account, no dialog, no row, no message to the core — unless the call
carries a valid signature.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlencode

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel

from bot.channels.wechat.webhook import WeChatChannel, WeChatConfig
from bot.core_runner import ThreadCore
from bot.http_server import build_http_app
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming, Reply
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.e2e.wechat_client import aes_encrypt, cdata, decode_aes_key, sign
from tests.reliability.fuzzing import FUZZ, examples
from tests.reliability.matrix_support import NOW, make_bot, seed_union

TOKEN = "wechat-fuzz-token"
APP_ID = "wx0123456789abcdef"
AES_KEY = base64.b64encode(b"f" * 32).decode().rstrip("=")
OPENID = "oFuzzMember_0123456789"
STAMP = int(NOW.timestamp())

T = TypeVar("T")


@dataclass
class CountingCore:
    """The real core, counting what reaches it: a call without a valid signature must not."""

    core: ThreadCore
    seen: list[Incoming] = field(default_factory=list)

    async def answer(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return await self.core.answer(incoming)

    async def close(self) -> None:
        await self.core.close()


@dataclass
class StandInService:
    """WeChat's customer-service API as the channel sees it: records, never calls out."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send_text(self, openid: str, text: str) -> object:
        self.sent.append((openid, text))
        return {}

    async def send_image(self, openid: str, path: Path) -> object:
        self.sent.append((openid, str(path)))
        return {}

    async def download_media(self, media_id: str, path: Path) -> int:
        path.write_bytes(b"\xff\xd8\xff")
        return 3


class Portal:
    """An event loop on a thread of its own, for hypothesis's synchronous examples to call into."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="webhook-loop", daemon=True)
        self._thread.start()

    def call(self, work: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@dataclass
class Client:
    """The webhook's app over ASGI: what WeChat's servers send, as HTTP requests."""

    portal: Portal
    http: httpx.AsyncClient

    def get(self, target: str) -> httpx.Response:
        return self.portal.call(self.http.get(target))

    def post(self, target: str, content: bytes) -> httpx.Response:
        return self.portal.call(self.http.post(target, content=content))


@dataclass
class Webhook:
    client: Client
    core: CountingCore
    service: StandInService
    db: SessionFactory
    safe: bool
    nonces: Iterator[int] = field(default_factory=itertools.count)

    def nonce(self) -> str:
        return f"n{next(self.nonces)}"

    def signed_query(self, *, encrypted_body: str | None = None, **extra: str) -> dict[str, str]:
        nonce = self.nonce()
        query = {"signature": sign(TOKEN, str(STAMP), nonce), "timestamp": str(STAMP), "nonce": nonce}
        if encrypted_body is not None:
            query |= {"encrypt_type": "aes", "msg_signature": sign(TOKEN, str(STAMP), nonce, encrypted_body)}
        return query | extra

    def post(self, query: dict[str, str] | str, body: bytes) -> tuple[int, bytes]:
        text = query if isinstance(query, str) else urlencode(query)
        response = self.client.post(f"/wechat?{text}", content=body)
        return response.status_code, response.content

    def deliver(self, xml: bytes, extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        """``xml`` as WeChat sends it: signed, and in safe mode encrypted in an envelope; ``extra``
        query parameters beside WeChat's (or instead of them)."""
        if not self.safe:
            return self.post(self.signed_query() | (extra or {}), xml)
        encrypt = aes_encrypt(xml, decode_aes_key(AES_KEY), APP_ID)
        to = cdata("gh_0123456789ab")
        envelope = f"<xml><ToUserName>{to}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return self.post(self.signed_query(encrypted_body=encrypt) | (extra or {}), envelope.encode())


def _state(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, the chat accounts and dialogs included."""
    return {
        table.name: sorted((tuple(row) for row in session.execute(sa.select(table)).all()), key=repr)
        for table in SQLModel.metadata.sorted_tables
    }


@pytest.fixture(params=["plain", "safe"])
def webhook(
    request: pytest.FixtureRequest, db: SessionFactory, store: EphemeralStore, tmp_path: Path
) -> Iterator[Webhook]:
    safe = request.param == "safe"
    with time_machine.travel(NOW, tick=False):
        seed_union(db)
        catalogues = Catalogues()
        core = CountingCore(ThreadCore(make_bot(db, store, catalogues)))
        service = StandInService()
        config = WeChatConfig(
            token=TOKEN, app_id=APP_ID, aes_key=AES_KEY if safe else None, media_dir=tmp_path / "media"
        )
        channel = WeChatChannel(
            core=core,
            sessions=db,
            store=store,
            catalogues=catalogues,
            config=config,
            service=service,
            clock=lambda: float(STAMP),
        )
        portal = Portal()

        async def connect() -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=build_http_app([channel.route()]))
            return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

        http = portal.call(connect())
        try:
            yield Webhook(Client(portal, http), core, service, db, safe)
        finally:
            portal.call(http.aclose())
            portal.call(channel.stop())
            portal.call(core.close())
            portal.close()


# -- what is drawn ---------------------------------------------------------------------------------

_query_value = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", str(STAMP), str(STAMP + 10_000), "-1", "1e9", "aes", "AES", "raw", "0" * 400]),
)
_query_key = st.sampled_from(
    ["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr", "openid", "x"]
)
_fields = st.sampled_from(
    ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
     "MediaId", "Recognition", "Format", "PicUrl", "Encrypt", "xml"]
)  # fmt: skip
_values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="]"), max_size=60).map(cdata),
    st.sampled_from(
        [
            "", "text", "event", "image", "voice", "video", "location", "subscribe", "unsubscribe", "SCAN",
            "CLICK", "VIEW", "go:me", "go:nope", "qrscene_ABCD2345", "qrscene_海报", OPENID, "0", "-1",
            str(STAMP), "99999999999999999999999", "<a/>", "<a>1</a><a>2</a>", "&amp;", "&lt;xml&gt;",
        ]
    ),
)  # fmt: skip


@st.composite
def _messages(draw: st.DrawFn) -> bytes:
    """A WeChat message with its fields shuffled, dropped, repeated and given hostile values."""
    base = {
        "ToUserName": cdata("gh_0123456789ab"),
        "FromUserName": cdata(OPENID),
        "CreateTime": str(STAMP),
        "MsgType": cdata(draw(st.sampled_from(["text", "event", "image", "voice", "video"]))),
        "Content": cdata("你好"),
        "MsgId": str(draw(st.integers(1, 2**63))),
    }
    for _ in range(draw(st.integers(0, 4))):
        base[draw(_fields)] = draw(_values)
    for name in draw(st.lists(_fields, max_size=2)):
        base.pop(name, None)
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in base.items())
    root = draw(st.sampled_from(["xml", "xml", "XML", "root"]))
    return f"<{root}>{inner}</{root}>".encode()


_hostile_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"<xml>",
            b"<?xml version='1.0' encoding='gbk'?><xml><a>\xff\xfe</a></xml>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>",
            b"<?x <![CDATA[ ?><!DOCTYPE x SYSTEM 'file:///etc/passwd'><?y ]]> ?><xml/>",
            b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml>&b;</xml>',
            b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>",
            b"x" * (64 * 1024 + 1),
        ]
    ),
)


# -- the properties --------------------------------------------------------------------------------


def test_no_call_without_a_valid_signature_is_answered_or_changes_anything(webhook: Webhook) -> None:
    with webhook.db() as session:
        before = _state(session)

    @settings(FUZZ, max_examples=examples(50))
    @given(
        query=st.dictionaries(_query_key, _query_value, max_size=6),
        raw=st.one_of(
            st.none(), st.text(max_size=120), st.sampled_from(["signature=%ff%fe&timestamp=1", "%", "&&&=="])
        ),
        body=st.one_of(_messages(), _hostile_bodies),
        method=st.sampled_from(["GET", "POST"]),
    )
    def call(query: dict[str, str], raw: str | None, body: bytes, method: str) -> None:
        if query.get("signature") == sign(TOKEN, query.get("timestamp", ""), query.get("nonce", "")):
            return  # hypothesis guessed the signature: a valid call, not this test's
        # A raw query string keeps its own percent-escapes (%ff%fe: not UTF-8); the rest is escaped.
        target = f"/wechat?{quote(raw, safe='=&%+;') if raw is not None else urlencode(query)}"
        response = (
            webhook.client.get(target) if method == "GET" else webhook.client.post(target, content=body)
        )
        assert response.status_code in (403, 413), (response.status_code, response.text)
        assert response.content in (b"forbidden", b"refused")

    call()
    assert webhook.core.seen == []
    assert webhook.service.sent == []
    with webhook.db() as session:
        assert _state(session) == before


def test_signed_calls_with_malformed_or_mutated_messages_never_get_a_500(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)

    @settings(FUZZ, max_examples=examples(50))
    @given(
        body=st.one_of(_messages(), _hostile_bodies),
        extra=st.one_of(
            st.just({}),
            st.dictionaries(
                st.sampled_from(["encrypt_type", "msg_signature", "echostr", "openid"]), _query_value
            ),
        ),
    )
    def call(body: bytes, extra: dict[str, str]) -> None:
        status, answer = webhook.deliver(body, extra)
        assert status in (200, 400, 403, 413), (status, answer)
        if status == 200:
            assert answer == b"success" or answer.startswith(b"<xml>"), answer
        errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert not errors, errors

    call()
    assert webhook.core.seen, "no mutated message was well-formed enough to reach the core"


def _genuine() -> str:
    """A real message's ``Encrypt``, as WeChat would send it."""
    return aes_encrypt(
        f"<xml><FromUserName>{cdata(OPENID)}</FromUserName><CreateTime>{STAMP}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType><Content>{cdata('我的')}</Content><MsgId>1</MsgId></xml>".encode(),
        decode_aes_key(AES_KEY),
        APP_ID,
    )


def _damaged(genuine: str) -> st.SearchStrategy[str]:
    """Envelopes that are not ``genuine``: random text and base64, cut short, one character changed,
    or encrypted for another AppID; never containing "]]>", which cannot travel in CDATA."""
    return st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
        st.integers(0, len(genuine) - 1).map(lambda cut: genuine[:cut]),
        st.tuples(st.integers(0, len(genuine) - 1), st.sampled_from("A/+=9z")).map(
            lambda flip: genuine[: flip[0]] + flip[1] + genuine[flip[0] + 1 :]
        ),
        st.just(aes_encrypt(b"<xml/>", decode_aes_key(AES_KEY), "wxAnotherAppId00")),
    ).map(lambda text: text.replace("]]>", ""))


def _envelope(encrypt: str) -> bytes:
    return f"<xml><Encrypt>{cdata(encrypt)}</Encrypt></xml>".encode()


SAFE_MODE = pytest.mark.parametrize("webhook", ["safe"], indirect=True)  # envelopes are safe mode's


@SAFE_MODE
def test_an_envelope_its_signature_does_not_cover_is_refused_and_changes_nothing(webhook: Webhook) -> None:
    """The query signs one ``Encrypt``, the body carries another: a forgery, or a replayed query."""
    with webhook.db() as session:
        before = _state(session)
    genuine = _genuine()

    @settings(FUZZ, max_examples=examples(50))
    @given(encrypt=_damaged(genuine))
    def call(encrypt: str) -> None:
        if encrypt == genuine:
            return
        status, answer = webhook.post(webhook.signed_query(encrypted_body=genuine), _envelope(encrypt))
        assert status in (400, 403), (status, answer)

    call()
    assert webhook.core.seen == []
    with webhook.db() as session:
        assert _state(session) == before


@SAFE_MODE
def test_a_signed_envelope_damaged_inside_never_gets_a_500(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed as WeChat signs (so whoever sent it holds the token), but it does not decrypt, names
    another AppID, or decrypts to something that is no message: answered, never a 500."""
    caplog.set_level(logging.ERROR)

    @settings(FUZZ, max_examples=examples(50))
    @given(encrypt=_damaged(_genuine()))
    def call(encrypt: str) -> None:
        status, answer = webhook.post(webhook.signed_query(encrypted_body=encrypt), _envelope(encrypt))
        assert status in (200, 400, 403), (status, answer)
        assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]

    call()


def test_a_valid_call_still_works_after_the_storm(webhook: Webhook) -> None:
    """The fuzzing above must not be passing because the webhook refuses everything."""
    xml = (
        f"<xml><ToUserName>{cdata('gh_0123456789ab')}</ToUserName><FromUserName>{cdata(OPENID)}</FromUserName>"
        f"<CreateTime>{STAMP}</CreateTime><MsgType>{cdata('text')}</MsgType><Content>{cdata('帮助')}</Content>"
        f"<MsgId>42</MsgId></xml>"
    ).encode()
    status, answer = webhook.deliver(xml)
    assert status == 200
    assert answer.startswith(b"<xml>")
    assert [incoming.text for incoming in webhook.core.seen] == ["帮助"]
