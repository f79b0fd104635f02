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

Files (photos of documents) are sealed whole by :func:`seal_bytes`: a header
naming the format and the file's purpose, then the same AES-GCM. Whatever walks
the media folder (key rotation) recognises a sealed file by that header.

The key is set once per process, before the first session (:func:`use_key`;
``bot.app.App`` does it from ``bot.settings.data_key``). Losing the data key
loses every sealed field: it is backed up with the database.

Changing the key (``python -m bot keys rotate``) takes a while on a big union,
and the bot keeps running meanwhile. So a process may hold older keys beside the
current one (``use_key(new, old=[...])``): it seals with the current key only
and opens with whichever key sealed the value, the current one tried first.
:func:`reseal` and :func:`reseal_bytes` say whether a value still needs the
current key and make it so, which lets the rotation skip what is done already.
Lookup hashes are made with the current key only: a field searched by one has
to be re-hashed from its plain value by the rotation too (none is, today).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
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


# A sealed file starts with this line, then the purpose's length (2 bytes) and the purpose.
FILE_MAGIC = b"unionbot-sealed-file-v1\n"


@dataclass(frozen=True)
class _Keys:
    cipher: AESGCM
    lookup: bytes
    # Keys that sealed values before the current one, still opened while a rotation runs.
    older: tuple[AESGCM, ...] = ()
    key_id: str = ""


_keys: _Keys | None = None


def _derive(data_key: bytes, label: bytes) -> bytes:
    # One key, one purpose: the data key itself never encrypts (file links derive theirs too).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(data_key)


def _cipher(data_key: bytes) -> AESGCM:
    if len(data_key) != 32:
        raise ValueError("the data key is 32 bytes")
    return AESGCM(_derive(data_key, b"unionbot sealed fields v1"))


def key_id(data_key: bytes) -> str:
    """A short name for a data key that gives nothing of it away: what a rotation's progress is kept under."""
    return _derive(data_key, b"unionbot key id v1")[:8].hex()


def use_key(data_key: bytes, *, old: Sequence[bytes] = ()) -> None:
    """Seal with this data key (32 bytes) from now on, in this process; open with it or any of ``old``."""
    global _keys
    current = _cipher(data_key)
    older = tuple(_cipher(key) for key in dict.fromkeys(old) if key != data_key)
    _keys = _Keys(
        cipher=current,
        lookup=_derive(data_key, b"unionbot lookup hashes v1"),
        older=older,
        key_id=key_id(data_key),
    )


def current_key_id() -> str:
    """:func:`key_id` of the key values are sealed with now."""
    return _current().key_id


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


def _open(nonce: bytes, sealed: bytes, purpose: str) -> tuple[bytes, bool]:
    """The plain bytes, and whether the current key (not an older one) opened them."""
    keys = _current()
    for index, cipher in enumerate((keys.cipher, *keys.older)):
        try:
            return cipher.decrypt(nonce, sealed, purpose.encode()), index == 0
        except InvalidTag:
            continue
    raise SealBroken(f"a sealed value that does not open with this data key ({purpose})")


def _split(stored: str, purpose: str) -> tuple[bytes, bytes]:
    if not is_sealed(stored):
        raise SealBroken(f"not a sealed value ({purpose})")
    body = stored[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise SealBroken(f"a damaged sealed value ({purpose})") from None
    if raw[:1] != _VERSION or len(raw) < 1 + _NONCE + _TAG:
        raise SealBroken(f"a damaged sealed value ({purpose})")
    return raw[1 : 1 + _NONCE], raw[1 + _NONCE :]


def unseal(stored: str, purpose: str) -> str:
    """The plain value of what :func:`seal` made for ``purpose``, under the current key or an older one.

    Raises:
        SealBroken: not sealed, sealed under another key or for another field, or damaged.
    """
    return _open(*_split(stored, purpose), purpose)[0].decode()


def reseal(stored: str, purpose: str) -> str | None:
    """``stored`` sealed again under the current key, or None when the current key sealed it already.

    Raises:
        SealBroken: as :func:`unseal`.
    """
    plain, current = _open(*_split(stored, purpose), purpose)
    return None if current else seal(plain.decode(), purpose)


# Purposes of values a form seals into its saved answers (a JSON column, no Sealed type to find them by).
_FORM_PURPOSES: set[str] = set()


def sealed_in_forms(purpose: str) -> str:
    """Declare that forms keep answers sealed for ``purpose`` in their saved state; returns ``purpose``.

    Key rotation re-seals such answers in the open forms too (``DRAFT = sealed_in_forms("hardship.draft")``).
    """
    _FORM_PURPOSES.add(purpose)
    return purpose


def form_purposes() -> frozenset[str]:
    return frozenset(_FORM_PURPOSES)


def seal_bytes(data: bytes, purpose: str) -> bytes:
    """A file's content sealed for ``purpose`` ("hardship.document"), to be written to disk as it is."""
    label = purpose.encode()
    nonce = os.urandom(_NONCE)
    body = _current().cipher.encrypt(nonce, data, label)
    return FILE_MAGIC + len(label).to_bytes(2, "big") + label + nonce + body


def sealed_file_purpose(blob: bytes) -> str | None:
    """The purpose a sealed file's content was sealed for, or None when it is not a sealed file."""
    if not blob.startswith(FILE_MAGIC) or len(blob) < len(FILE_MAGIC) + 2:
        return None
    start = len(FILE_MAGIC) + 2
    size = int.from_bytes(blob[len(FILE_MAGIC) : start], "big")
    if len(blob) < start + size + _NONCE + _TAG:
        return None
    try:
        return blob[start : start + size].decode()
    except UnicodeDecodeError:
        return None


def _open_bytes(blob: bytes, purpose: str | None) -> tuple[bytes, bool, str]:
    found = sealed_file_purpose(blob)
    if found is None or (purpose is not None and found != purpose):
        raise SealBroken(f"not a sealed file ({purpose})")
    start = len(FILE_MAGIC) + 2 + len(found.encode())
    plain, current = _open(blob[start : start + _NONCE], blob[start + _NONCE :], found)
    return plain, current, found


def unseal_bytes(blob: bytes, purpose: str) -> bytes:
    """The content of what :func:`seal_bytes` made for ``purpose``.

    Raises:
        SealBroken: not a sealed file, sealed for another purpose or under another key, or damaged.
    """
    return _open_bytes(blob, purpose)[0]


def reseal_bytes(blob: bytes) -> bytes | None:
    """A sealed file's content sealed again under the current key, or None when it is already.

    Raises:
        SealBroken: not a sealed file, or it does not open with any key held.
    """
    plain, current, purpose = _open_bytes(blob, None)
    return None if current else seal_bytes(plain, purpose)


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
