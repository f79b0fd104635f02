"""A test client that calls a WeChat Official Account webhook the way WeChat's servers do.

Written from the public spec, not from wechatpy, so that tests checking our
webhook against it are not checking wechatpy against itself:

- ``signature`` = sha1 of the sorted concatenation of token, timestamp, nonce
  (query string, every mode, URL verification too).
- Safe/compatible mode adds ``encrypt_type=aes`` and ``msg_signature`` = sha1
  of sorted token, timestamp, nonce, Encrypt.
- AES-256-CBC, key = base64decode(EncodingAESKey + "="), IV = key[:16],
  PKCS#7 padding to 32-byte blocks; plaintext = 16 random bytes + 4-byte
  big-endian length + XML + AppID; base64 on the wire.

The crypto uses the ``cryptography`` package (imported when first needed, so
plain-mode tests run without it)::

    async with WeChatClient(url, token="t", app_id="wx1", aes_key=KEY, mode="safe") as wx:
        reply = await wx.send_text("oMember", "你好")
        assert reply.msg_type == "text"

Only loopback URLs are accepted: tests never talk to the outside world.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from ipaddress import ip_address
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import httpx

__all__ = [
    "Mode",
    "Reply",
    "ReplyError",
    "WeChatClient",
    "aes_decrypt",
    "aes_encrypt",
    "cdata",
    "decode_aes_key",
    "sign",
]

Mode = Literal["plain", "compatible", "safe"]

BLOCK = 32  # WeChat pads to 32-byte blocks, not AES's 16
REPLY_TIMEOUT = 5.0  # WeChat waits 5 s for the answer, then gives up on that attempt


class ReplyError(ValueError):
    """The webhook's answer is one WeChat would reject (bad signature, wrong AppID, bad XML)."""


# -- the spec's primitives -------------------------------------------------------------------------


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """sha1 hex of the sorted concatenation: ``signature`` (3 parts) or ``msg_signature`` (+Encrypt)."""
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def decode_aes_key(aes_key: str) -> bytes:
    """The 43-character EncodingAESKey → the 32-byte AES key."""
    if len(aes_key) != 43:
        raise ValueError(f"EncodingAESKey must be 43 characters, got {len(aes_key)}")
    key = base64.b64decode(aes_key + "=")
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def _cipher(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers import (  # type: ignore[import-not-found, unused-ignore]
        Cipher,
        algorithms,
        modes,
    )

    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def aes_encrypt(xml: bytes, key: bytes, app_id: str, *, random_prefix: bytes | None = None) -> str:
    """Encrypt a message body as WeChat does; returns the base64 text that goes in ``<Encrypt>``."""
    prefix = secrets.token_bytes(16) if random_prefix is None else random_prefix
    if len(prefix) != 16:
        raise ValueError("the random prefix is 16 bytes")
    plain = prefix + struct.pack(">I", len(xml)) + xml + app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def aes_decrypt(encrypted: str, key: bytes, app_id: str) -> bytes:
    """Decrypt an ``<Encrypt>`` value; checks padding, length and AppID. Returns the XML bytes."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError as exc:
        raise ReplyError(f"Encrypt is not base64: {exc}") from exc
    if not data or len(data) % 16:
        raise ReplyError(f"ciphertext length {len(data)} is not a multiple of 16")
    decryptor = _cipher(key).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise ReplyError("bad PKCS#7 padding")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise ReplyError("plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    xml, rest = plain[20 : 20 + length], plain[20 + length :]
    if len(xml) != length:
        raise ReplyError("declared XML length exceeds the plaintext")
    if rest != app_id.encode():
        raise ReplyError(f"AppID mismatch: expected {app_id!r}, got {rest!r}")
    return xml


def cdata(text: str) -> str:
    """``<![CDATA[...]]>``, splitting any ``]]>`` inside the text as XML requires."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(fields: dict[str, str | int]) -> bytes:
    body = "".join(
        f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}>{cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{body}</xml>".encode()


def _element_to_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    if all(child.tag == "item" for child in children) and element.tag != "xml":
        return [_element_to_value(child) for child in children]
    return {child.tag: _element_to_value(child) for child in children}


def parse_xml(body: bytes) -> dict[str, Any]:
    """The ``<xml>`` document as a dict: leaves are strings, ``<item>`` lists are lists."""
    try:
        root = ET.fromstring(body)  # our own bot's answers, not untrusted input
    except ET.ParseError as exc:
        raise ReplyError(f"reply is not XML: {exc}; body={body[:200]!r}") from exc
    if root.tag != "xml":
        raise ReplyError(f"reply root is <{root.tag}>, not <xml>")
    value = _element_to_value(root)
    return value if isinstance(value, dict) else {}


# -- the reply ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the webhook answered.

    ``message`` is the reply XML as a dict (decrypted in safe mode), or None
    when the body was empty or ``success`` (WeChat's "no reply").
    ``encrypted`` says whether the answer came in an ``<Encrypt>`` envelope,
    whose MsgSignature and AppID were checked.
    """

    status: int
    body: bytes
    message: dict[str, Any] | None
    encrypted: bool = False

    @property
    def msg_type(self) -> str | None:
        return None if self.message is None else self.message.get("MsgType")

    @property
    def content(self) -> str | None:
        return None if self.message is None else self.message.get("Content")


# -- the client ----------------------------------------------------------------------------------------


class WeChatClient:
    """Plays WeChat's servers against one webhook URL.

    ``account_id`` is the Official Account's original ID (``gh_…``) used as
    ``ToUserName``. Every request gets a fresh nonce; ``timestamp`` defaults
    to now and can be set (as an int of seconds) to send a stale one.
    :attr:`requests` keeps every (params, body) sent, for replay tests.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        app_id: str,
        aes_key: str | None,
        mode: Mode = "plain",
        account_id: str = "gh_0123456789ab",
        timeout: float = REPLY_TIMEOUT,
    ) -> None:
        if mode not in ("plain", "compatible", "safe"):
            raise ValueError(f"unknown mode {mode!r}")
        host = urlsplit(url).hostname or ""
        if host != "localhost" and not _is_loopback(host):
            raise ValueError(f"tests only talk to loopback, not {host!r}")
        if mode != "plain" and aes_key is None:
            raise ValueError(f"{mode} mode needs an EncodingAESKey")
        self.url = url
        self.token = token
        self.app_id = app_id
        self.mode: Mode = mode
        self.account_id = account_id
        self.key = decode_aes_key(aes_key) if aes_key is not None else None
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._msg_ids = itertools.count(24_000_000_000_000_000 + secrets.randbelow(10**9))
        self._http = httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- what WeChat sends

    async def verify_url(self, echostr: str, *, timestamp: int | None = None) -> httpx.Response:
        """The GET WeChat makes when the URL is configured; a good webhook echoes ``echostr``."""
        params = self._signed_params(timestamp, None)
        params["echostr"] = echostr
        return await self._http.get(self.url, params=params)

    async def send_text(
        self, openid: str, text: str, *, msg_id: int | None = None, create_time: int | None = None
    ) -> Reply:
        fields = self._head(openid, "text", create_time)
        fields["Content"] = text
        fields["MsgId"] = self._msg_id(msg_id)
        return await self._send(openid, fields)

    async def send_event(
        self, openid: str, event: str, *, key: str | None = None, create_time: int | None = None
    ) -> Reply:
        """``event`` as WeChat spells it: subscribe, unsubscribe, CLICK, VIEW, SCAN… (no MsgId)."""
        fields = self._head(openid, "event", create_time)
        fields["Event"] = event
        if key is not None:
            fields["EventKey"] = key
        return await self._send(openid, fields)

    async def send_voice(
        self,
        openid: str,
        recognition: str | None,
        *,
        media_id: str = "voice-media-id",
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> Reply:
        """A voice message; ``recognition`` None leaves out the element (recognition turned off)."""
        fields = self._head(openid, "voice", create_time)
        fields["MediaId"] = media_id
        fields["Format"] = "amr"
        if recognition is not None:
            fields["Recognition"] = recognition
        fields["MsgId"] = self._msg_id(msg_id)
        return await self._send(openid, fields)

    async def send_image(
        self,
        openid: str,
        pic_url: str,
        media_id: str,
        *,
        msg_id: int | None = None,
        create_time: int | None = None,
    ) -> Reply:
        fields = self._head(openid, "image", create_time)
        fields["PicUrl"] = pic_url
        fields["MediaId"] = media_id
        fields["MsgId"] = self._msg_id(msg_id)
        return await self._send(openid, fields)

    async def send_raw(
        self,
        body: bytes,
        *,
        sign: bool = True,
        timestamp: int | None = None,
        nonce: str | None = None,
        encrypt: bool = False,
        openid: str = "oAttacker",
    ) -> Reply:
        """POST ``body`` as is, for attacks (XXE, billion laughs, oversized, malformed).

        ``sign=False`` leaves out every signature parameter. ``encrypt=True``
        (safe/compatible mode) wraps the body in a correctly signed
        ``<Encrypt>`` envelope, to reach the parser behind the decryption.
        """
        params, wire = self._envelope(body, openid, timestamp, nonce, encrypt=encrypt, plain_copy=False)
        if not sign:
            for name in ("signature", "msg_signature"):
                params.pop(name, None)
        return await self._post(params, wire)

    async def replay(self, index: int = -1) -> Reply:
        """Send an earlier request again, byte for byte (same query string, same body)."""
        params, wire = self.requests[index]
        return await self._post(dict(params), wire)

    # -- machinery

    def _head(self, openid: str, msg_type: str, create_time: int | None) -> dict[str, str | int]:
        return {
            "ToUserName": self.account_id,
            "FromUserName": openid,
            "CreateTime": int(time.time()) if create_time is None else create_time,
            "MsgType": msg_type,
        }

    def _msg_id(self, msg_id: int | None) -> int:
        return next(self._msg_ids) if msg_id is None else msg_id

    def _signed_params(self, timestamp: int | None, nonce: str | None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}

    def _envelope(
        self,
        xml: bytes,
        openid: str,
        timestamp: int | None,
        nonce: str | None,
        *,
        encrypt: bool,
        plain_copy: bool,
    ) -> tuple[dict[str, str], bytes]:
        params = self._signed_params(timestamp, nonce)
        params["openid"] = openid
        if not encrypt or self.mode == "plain":
            return params, xml
        assert self.key is not None
        encrypted = aes_encrypt(xml, self.key, self.app_id)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sign(self.token, params["timestamp"], params["nonce"], encrypted)
        if plain_copy:
            # Compatible mode: the plaintext fields stay, the Encrypt element is added.
            wire = xml.replace(b"</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>".encode())
        else:
            wire = _xml({"ToUserName": self.account_id, "Encrypt": encrypted})
        return params, wire

    async def _send(self, openid: str, fields: dict[str, str | int]) -> Reply:
        params, wire = self._envelope(
            _xml(fields),
            openid,
            None,
            None,
            encrypt=self.mode != "plain",
            plain_copy=self.mode == "compatible",
        )
        return await self._post(params, wire)

    async def _post(self, params: dict[str, str], wire: bytes) -> Reply:
        self.requests.append((dict(params), wire))
        response = await self._http.post(
            self.url, params=params, content=wire, headers={"Content-Type": "text/xml"}
        )
        return self._read_reply(response)

    def _read_reply(self, response: httpx.Response) -> Reply:
        body = response.content
        stripped = body.strip()
        if response.status_code != 200 or stripped in (b"", b"success"):
            return Reply(response.status_code, body, None)
        message = parse_xml(stripped)
        if "Encrypt" not in message:
            return Reply(response.status_code, body, message)
        if self.key is None:
            raise ReplyError("encrypted reply, but this client has no EncodingAESKey")
        encrypted = message["Encrypt"]
        expected = sign(self.token, str(message.get("TimeStamp", "")), message.get("Nonce", ""), encrypted)
        if not hmac.compare_digest(expected, str(message.get("MsgSignature", ""))):
            raise ReplyError("reply MsgSignature does not match")
        inner = parse_xml(aes_decrypt(encrypted, self.key, self.app_id))
        return Reply(response.status_code, body, inner, encrypted=True)


def _is_loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
