"""Sensitive fields encrypted at rest with the data key (``UNIONBOT_DATA_KEY``).

A copy of the database (a backup, a stolen laptop, a dump handed to support)
must not give away what binds an account to a member, nor what a member
confides to the union. Such a field is *sealed*: AES-256-GCM under a key
derived from the data key, with the field's purpose as associated data (a
sealed phone pasted into another column does not open), a fresh random nonce
each time. Stored as text, ``s1:`` and URL-safe base64 of a version byte,
the nonce and the ciphertext with its tag.

The column type :class:`Sealed` does this on the way in and out, so the rest
of the code reads and writes plain values (``member.phone``) and bulk
statements seal too. What it cannot do is compare in SQL: the same value seals
differently every time. A field that must be found by its value keeps a
:func:`lookup_hash` beside it (an HMAC under another key derived from the data
key) and is searched by that. The phone needs none: binding finds the member by
工号 and compares that one member's phone.

This is the mechanism for every sensitive field, the hardship files (困难职工
档案) to come included: a ``Sealed`` column for what is read back, a
``lookup_hash`` column for what is searched by.

The key is set once per process, before the first session (:func:`use_key`;
``bot.app.App`` does it from ``bot.settings.data_key``). Losing the data key
loses every sealed field: it is backed up with the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "s1:"
_VERSION = b"\x01"
_NONCE = 12
_TAG = 16


class NoDataKey(RuntimeError):
    """A sealed field was read or written before the process set its data key."""


class SealBroken(ValueError):
    """A sealed value does not open: another data key, another field, or damaged."""


@dataclass(frozen=True)
class _Keys:
    cipher: AESGCM
    lookup: bytes


_keys: _Keys | None = None


def _derive(data_key: bytes, label: bytes) -> bytes:
    # One key, one purpose: the data key itself never encrypts (file links derive theirs too).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(data_key)


def use_key(data_key: bytes) -> None:
    """Seal and open with this data key (32 bytes) from now on, in this process."""
    global _keys
    if len(data_key) != 32:
        raise ValueError("the data key is 32 bytes")
    _keys = _Keys(
        cipher=AESGCM(_derive(data_key, b"unionbot sealed fields v1")),
        lookup=_derive(data_key, b"unionbot lookup hashes v1"),
    )


def _current() -> _Keys:
    if _keys is None:
        raise NoDataKey("no data key set for sealed fields: models.sealed.use_key() first")
    return _keys


def sealed_length(plain_bytes: int) -> int:
    """The stored length of a sealed value of at most ``plain_bytes`` bytes of UTF-8."""
    raw = len(_VERSION) + _NONCE + plain_bytes + _TAG
    return len(PREFIX) + -(-raw * 4 // 3)


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(plain: str, purpose: str) -> str:
    """``plain`` encrypted for the field ``purpose`` (e.g. "member.phone")."""
    nonce = os.urandom(_NONCE)
    sealed = _current().cipher.encrypt(nonce, plain.encode(), purpose.encode())
    return PREFIX + base64.urlsafe_b64encode(_VERSION + nonce + sealed).rstrip(b"=").decode()


def unseal(stored: str, purpose: str) -> str:
    """The plain value of what :func:`seal` made for ``purpose``.

    Raises:
        SealBroken: not sealed, sealed under another key or for another field, or damaged.
    """
    if not is_sealed(stored):
        raise SealBroken(f"not a sealed value ({purpose})")
    body = stored[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise SealBroken(f"a damaged sealed value ({purpose})") from None
    if raw[:1] != _VERSION or len(raw) < 1 + _NONCE + _TAG:
        raise SealBroken(f"a damaged sealed value ({purpose})")
    try:
        plain = _current().cipher.decrypt(raw[1 : 1 + _NONCE], raw[1 + _NONCE :], purpose.encode())
    except InvalidTag:
        raise SealBroken(f"a sealed value that does not open with this data key ({purpose})") from None
    return plain.decode()


def lookup_hash(value: str, purpose: str) -> str:
    """A keyed hash of ``value`` to find a sealed field by (equal values, equal hashes; 64 hex digits).

    Without the data key nobody can tell which value a hash stands for, even for
    values as few as phone numbers; normalise ``value`` the same way before
    hashing and before searching.
    """
    message = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(_current().lookup, message, hashlib.sha256).hexdigest()


class Sealed(sa.types.TypeDecorator[str]):
    """A text column stored sealed (see the module); ``plain_bytes`` is the longest plain value in UTF-8.

    Equality in SQL cannot work on it (every seal differs): search by a :func:`lookup_hash` column.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, purpose: str, plain_bytes: int) -> None:
        super().__init__(length=sealed_length(plain_bytes))
        self.purpose = purpose
        self.plain_bytes = plain_bytes

    def __repr__(self) -> str:
        # What a generated migration writes for the column (alembic renders the type by its repr).
        return f"{type(self).__name__}({self.purpose!r}, {self.plain_bytes})"

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else seal(value, self.purpose)

    def process_result_value(self, value: Any | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else unseal(str(value), self.purpose)
