"""Is this webhook call from WeChat, and what does it say? Answered before anything trusts it.

wechatpy signs, encrypts and decrypts, but leaves gaps (docs/LIBRARIES.md) that are
closed here:

- signatures are compared in constant time (wechatpy uses ``!=``);
- a timestamp more than five minutes off is refused (wechatpy takes any);
- in plain mode the signature covers only token, timestamp and nonce, not the
  body, so a captured query string could carry any body: a (timestamp, nonce)
  seen before with a different body is refused. WeChat's own retries repeat
  the body, so they pass, and the channel answers them from its record;
- XML is refused unparsed when it is too large, and parsed by defusedxml with
  DTDs, entities and external references forbidden (XXE and billion-laughs
  payloads, however hidden: a DOCTYPE behind a processing instruction that
  looks like CDATA fooled a text filter). WeChat never sends any of them;
- a captured call stays acceptable for as long as its timestamp does, up to
  ``ACCEPTED_FOR`` seconds after it was made: whatever remembers a call
  (nonces, the channel's de-duplication) remembers it for ``REMEMBER_SECONDS``;
- with an EncodingAESKey configured, unencrypted calls are refused: the
  console is set to safe or compatible mode, so a plain call is not WeChat's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner

from models.ephemeral import EphemeralStore

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""A WeChat message is a few hundred bytes; its longest text is 2,048."""

MAX_CLOCK_SKEW = 300
"""Seconds a call's timestamp may be off from our clock, either way."""

ACCEPTED_FOR = 2 * MAX_CLOCK_SKEW
"""How long after it was made a captured call still passes ``check_call``: its timestamp may run
up to ``MAX_CLOCK_SKEW`` ahead of our clock (WeChat's clock is fast), and is accepted until
``MAX_CLOCK_SKEW`` behind it."""

REMEMBER_SECONDS = ACCEPTED_FOR + 60
"""How long a call is remembered (its nonce, its message): longer than it stays acceptable,
so a replay always meets the record of the original."""

_NONCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Refused(Exception):
    """The call is not from WeChat, or not something we parse; answered with ``status`` and nothing else.

    ``reason`` goes to the log, never to the caller.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CallParams:
    """The query string WeChat adds to every call."""

    signature: str
    timestamp: str
    nonce: str
    encrypted: bool
    msg_signature: str

    @classmethod
    def of(cls, query: Mapping[str, str]) -> CallParams:
        return cls(
            signature=query.get("signature", ""),
            timestamp=query.get("timestamp", ""),
            nonce=query.get("nonce", ""),
            encrypted=query.get("encrypt_type", "raw").lower() == "aes",
            msg_signature=query.get("msg_signature", ""),
        )


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, *extra)
    return str(signer.signature)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def check_call(token: str, params: CallParams, now: float) -> None:
    """The call's signature and timestamp, as every GET and POST carries them.

    Raises:
        Refused: 403 on a wrong signature or a stale or malformed timestamp.
    """
    if not params.timestamp.isdigit() or not _NONCE.match(params.nonce):
        raise Refused(403, "malformed timestamp or nonce")
    if abs(now - int(params.timestamp)) > MAX_CLOCK_SKEW:
        raise Refused(403, f"timestamp {params.timestamp} is more than {MAX_CLOCK_SKEW} s off")
    if not _same(sign(token, params.timestamp, params.nonce), params.signature):
        raise Refused(403, "wrong signature")


def check_size(body: bytes) -> None:
    """Raises: Refused: 413 when the body is larger than any WeChat message."""
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, f"body of {len(body)} bytes")


def parse_xml(body: bytes) -> dict[str, Any]:
    """The document as a dictionary (xmltodict's shape, which wechatpy reads), parsed by defusedxml.

    Raises:
        Refused: 413 when too large; 400 on a DTD, an entity or an external reference
            (the parser refuses them wherever they hide), or on XML that is not well-formed.
    """
    check_size(body)
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise Refused(400, f"XML with a {type(error).__name__}") from None
    except (ParseError, ValueError) as error:  # not well-formed, or bytes expat cannot decode
        raise Refused(400, f"malformed XML: {type(error).__name__}") from None
    return {root.tag: _value(root)}


def _value(element: Element) -> Any:
    """An element as xmltodict gives it: stripped text or None; children by tag, a list when repeated."""
    text = (element.text or "").strip() or None
    children = list(element)
    if not children:
        return text
    value: dict[str, Any] = {"#text": text} if text else {}
    for child in children:
        item = _value(child)
        if child.tag not in value:
            value[child.tag] = item
        elif isinstance(value[child.tag], list):
            value[child.tag].append(item)
        else:
            value[child.tag] = [value[child.tag], item]
    return value


class ReplayGuard:
    """Remembers each (timestamp, nonce) with a digest of its body, for as long as the timestamp is valid."""

    def __init__(self, store: EphemeralStore) -> None:
        self.store = store

    def check(self, params: CallParams, body: bytes) -> None:
        """Raises: Refused: 403 when the same timestamp and nonce came with another body."""
        key = f"wx:nonce:{params.timestamp}:{params.nonce}"
        digest = hashlib.sha256(body).hexdigest()[:32]
        if self.store.set(key, digest, REMEMBER_SECONDS, only_if_absent=True):
            return
        if self.store.get(key) != digest:
            raise Refused(403, "a seen timestamp and nonce with another body (replayed query string)")


class Envelope:
    """Safe and compatible mode: the message travels AES-encrypted inside an outer XML."""

    def __init__(self, *, token: str, app_id: str, aes_key: str | None) -> None:
        self.token = token
        self.app_id = app_id
        self.aes_key = aes_key
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    @property
    def encrypting(self) -> bool:
        return self._crypto is not None

    def open(self, params: CallParams, body: bytes) -> bytes:
        """The message XML inside a checked call's body.

        Raises:
            Refused: 403 when encryption is expected and missing (or the reverse), the
                message signature is wrong, it does not decrypt, or it names another AppID;
                400 when the outer XML is malformed.
        """
        check_size(body)
        if not params.encrypted:
            if self.encrypting:
                raise Refused(403, "an unencrypted call while UNIONBOT_WECHAT_AES_KEY is set")
            return body
        if self._crypto is None or self.aes_key is None:
            raise Refused(403, "an encrypted call but UNIONBOT_WECHAT_AES_KEY is not set")
        encrypt = _outer_encrypt(body)
        if not _same(sign(self.token, params.timestamp, params.nonce, encrypt), params.msg_signature):
            raise Refused(403, "wrong msg_signature")
        key = base64.b64decode(self.aes_key + "=")
        try:
            inner = PrpCrypto(key).decrypt(encrypt, self.app_id)
        except InvalidAppIdException:
            raise Refused(403, "encrypted for another AppID") from None
        except (ValueError, IndexError, struct.error) as error:  # base64, padding, length, UTF-8
            raise Refused(403, f"does not decrypt: {type(error).__name__}") from None
        xml = inner if isinstance(inner, bytes) else str(inner).encode()
        check_size(xml)
        return xml

    def seal(self, xml: str, params: CallParams, now: float) -> str:
        """A passive reply, encrypted and signed when the call was."""
        if not params.encrypted or self._crypto is None:
            return xml
        return str(self._crypto.encrypt_message(xml, params.nonce, str(int(now))))


def _outer_encrypt(body: bytes) -> str:
    outer = parse_xml(body).get("xml")
    encrypt = outer.get("Encrypt") if isinstance(outer, dict) else None
    if not isinstance(encrypt, str) or not encrypt:
        raise Refused(400, "envelope without Encrypt")
    return encrypt
