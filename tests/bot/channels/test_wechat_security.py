"""Webhook checks: signatures in constant time, fresh timestamps, no replays, no DTDs or entities."""

from __future__ import annotations

import time

import pytest

from bot.channels.wechat.security import (
    MAX_BODY_BYTES,
    REMEMBER_SECONDS,
    CallParams,
    Envelope,
    Refused,
    ReplayGuard,
    check_call,
    parse_xml,
    sign,
)
from models.ephemeral import EphemeralStore
from tests.e2e.wechat_client import aes_decrypt, aes_encrypt, decode_aes_key
from tests.e2e.wechat_client import sign as spec_sign

TOKEN = "token"
APP_ID = "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
NOW = 1_800_000_000.0


def params(timestamp: float = NOW, nonce: str = "12345", **extra: str) -> CallParams:
    stamp = str(int(timestamp))
    return CallParams.of(
        {"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce, **extra}
    )


def test_our_signature_is_the_specs() -> None:
    assert sign(TOKEN, "1", "2", "x") == spec_sign(TOKEN, "1", "2", "x")


def test_a_good_call_passes_and_a_wrong_or_stale_one_is_refused() -> None:
    check_call(TOKEN, params(), NOW)
    check_call(TOKEN, params(NOW - 299), NOW)
    for bad in (params(NOW - 301), params(NOW + 301), params(nonce="a b"), CallParams.of({})):
        with pytest.raises(Refused) as refused:
            check_call(TOKEN, bad, NOW)
        assert refused.value.status == 403
    forged = CallParams.of({"signature": "0" * 40, "timestamp": str(int(NOW)), "nonce": "1"})
    with pytest.raises(Refused, match="wrong signature"):
        check_call(TOKEN, forged, NOW)


HIDDEN_DOCTYPE = (
    b'<?x <![CDATA[ ?><!DOCTYPE xml SYSTEM "file:///etc/passwd"><?y ]]> ?>'
    b"<xml><FromUserName>oAttacker</FromUserName><Content>hi</Content></xml>"
)
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<xml><Content>&lol2;</Content></xml>"
)
EXTERNAL = b'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>'


def test_xml_is_read_as_wechatpy_reads_it() -> None:
    body = (
        b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>1700000000</CreateTime>"
        b"<Content><![CDATA[  <!-- typed, not a comment --> ]]></Content><Empty></Empty>"
        b"<Pics><item><Md5>a</Md5></item><item><Md5>b</Md5></item></Pics></xml>"
    )
    assert parse_xml(body) == {
        "xml": {
            "ToUserName": "gh_1",
            "CreateTime": "1700000000",
            "Content": "<!-- typed, not a comment -->",
            "Empty": None,
            "Pics": {"item": [{"Md5": "a"}, {"Md5": "b"}]},
        }
    }


@pytest.mark.parametrize("body", [HIDDEN_DOCTYPE, LAUGHS, EXTERNAL, b"<xml><unclosed></xml>", b"\xff\xfe"])
def test_dtds_entities_and_malformed_xml_are_refused_by_the_parser(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        parse_xml(body)
    assert refused.value.status == 400


def test_oversized_bodies_never_reach_the_parser() -> None:
    with pytest.raises(Refused) as refused:
        parse_xml(b"<xml>" + b"a" * MAX_BODY_BYTES + b"</xml>")
    assert refused.value.status == 413


def test_a_call_is_remembered_for_longer_than_it_stays_acceptable() -> None:
    """Made when WeChat's clock is as far ahead as we accept, a call passes until it is as far behind."""
    made = NOW
    call = params(made + 300)
    check_call(TOKEN, call, made)
    check_call(TOKEN, call, made + 600)
    with pytest.raises(Refused):
        check_call(TOKEN, call, made + 601)
    assert REMEMBER_SECONDS > 600


def test_a_retry_repeats_its_body_a_replayed_query_string_does_not(store: EphemeralStore) -> None:
    guard = ReplayGuard(store)
    call = params(time.time(), nonce="98765")
    guard.check(call, b"<xml>original</xml>")
    guard.check(call, b"<xml>original</xml>")  # WeChat's own retry
    with pytest.raises(Refused, match="replayed"):
        guard.check(call, b"<xml>forged</xml>")


def test_safe_mode_opens_only_what_was_sealed_for_our_app() -> None:
    envelope = Envelope(token=TOKEN, app_id=APP_ID, aes_key=AES_KEY)
    key = decode_aes_key(AES_KEY)
    inner = b"<xml><Content>hi</Content></xml>"

    def sealed(app_id: str = APP_ID, signature: str | None = None) -> tuple[CallParams, bytes]:
        encrypted = aes_encrypt(inner, key, app_id)
        call = params(
            encrypt_type="aes", msg_signature=signature or spec_sign(TOKEN, str(int(NOW)), "12345", encrypted)
        )
        return (
            call,
            f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode(),
        )

    assert envelope.open(*sealed()) == inner
    for call, body in (sealed(app_id="wxOther"), sealed(signature="0" * 40), (params(), inner)):
        with pytest.raises(Refused) as refused:
            envelope.open(call, body)
        assert refused.value.status == 403
    garbage = "bm90IGEgY2lwaGVydGV4dA=="
    call = params(encrypt_type="aes", msg_signature=spec_sign(TOKEN, str(int(NOW)), "12345", garbage))
    with pytest.raises(Refused, match="does not decrypt"):
        envelope.open(call, f"<xml><Encrypt>{garbage}</Encrypt></xml>".encode())


def test_a_reply_is_sealed_when_the_call_was() -> None:
    envelope = Envelope(token=TOKEN, app_id=APP_ID, aes_key=AES_KEY)
    reply = "<xml><Content><![CDATA[好]]></Content></xml>"
    assert envelope.seal(reply, params(), NOW) == reply
    sealed = envelope.seal(reply, params(encrypt_type="aes"), NOW)
    encrypted = sealed.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert aes_decrypt(encrypted, decode_aes_key(AES_KEY), APP_ID).decode() == reply
