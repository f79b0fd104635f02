"""Short-lived signed download links for files a WeChat chat cannot carry.

WeChat's customer-service messages carry text, images, voice, video and
articles, never a spreadsheet; so a file reply on WeChat becomes a link to our
own HTTP server (``GET /files/{token}``). The token holds everything needed to
serve the file (its place in the exports folder, the name the member sees, its
type and when the link expires) and an HMAC over it, so any process behind the
public URL can check a link without a table, and nobody can forge or widen one.

Only files under the exports folder are ever served: a signed path is still
resolved and checked, since a link outlives the moment it was signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

TOKEN_MAX = 2048
"""Characters in a token we bother to check; ours are a few hundred."""

_LABEL = b"unionbot-file-links-v1"


def link_key(data_key: bytes) -> bytes:
    """The signing key of download links, derived from the data key under a label of its own.

    The data key encrypts sensitive fields; a key serves one purpose only, so
    links are signed with a separate key that reveals nothing about it.
    """
    return hmac.new(data_key, _LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class Download:
    """A checked link: the file to send and how to present it."""

    path: Path
    name: str
    mime_type: str | None
    relative: str


@dataclass(frozen=True)
class FileLinks:
    """Signs links to files in ``folder`` and checks them when they come back.

    ``public_url`` is the root members' phones reach our HTTP server at,
    without a trailing slash; links last ``minutes``.
    """

    key: bytes
    folder: Path
    public_url: str
    minutes: int = 30
    clock: Callable[[], float] = field(default=time.time)

    def url(self, path: str | Path, name: str, mime_type: str | None = None) -> str | None:
        """A download link for the file at ``path``, or None when it lies outside the exports folder."""
        relative = self._relative(Path(path))
        if relative is None:
            return None
        return f"{self.public_url.rstrip('/')}/files/{self.token(relative, name, mime_type)}"

    def token(self, relative: str, name: str, mime_type: str | None = None) -> str:
        """The signed token for a file at ``relative`` (a POSIX path inside the folder)."""
        expires = int(self.clock()) + self.minutes * 60
        payload = json.dumps(
            [relative, name, mime_type or "", expires], ensure_ascii=False, separators=(",", ":")
        )
        body = _encode(payload.encode())
        return f"{body}.{_encode(self._mac(body))}"

    def open(self, token: str) -> Download | None:
        """The file a token names, or None for a token that is forged, expired or names no file here.

        One answer for every refusal, so a caller learns nothing from which it was.
        """
        if len(token) > TOKEN_MAX or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        given = _decode(mac)
        if given is None or not hmac.compare_digest(given, self._mac(body)):
            return None
        fields = _fields(_decode(body))
        if fields is None:
            return None
        relative, name, mime_type, expires = fields
        if expires <= self.clock():
            return None
        path = self._inside(relative)
        if path is None:
            return None
        return Download(path=path, name=name, mime_type=mime_type or None, relative=relative)

    def _mac(self, body: str) -> bytes:
        return hmac.new(self.key, body.encode(), hashlib.sha256).digest()

    def _relative(self, path: Path) -> str | None:
        return relative_file(self.folder, path)

    def _inside(self, relative: str) -> Path | None:
        """The existing regular file ``relative`` names under the folder; None for anything else."""
        pure = PurePosixPath(relative)
        if not relative or pure.is_absolute() or "\\" in relative or ".." in pure.parts or "\x00" in relative:
            return None
        try:
            root = self.folder.resolve(strict=True)
            target = (root / pure).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a loop of symbolic links
            return None
        if not target.is_relative_to(root) or not target.is_file():
            return None
        return target


def relative_file(folder: Path, path: str | Path) -> str | None:
    """The existing file ``path`` relative to ``folder``, links followed; None when it is not in there."""
    try:
        root = folder.resolve(strict=True)
        target = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target.relative_to(root).as_posix()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode(text: str) -> bytes | None:
    if not text or not set(text) <= _BASE64URL:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # One spelling per token: base64 ignores a last character's spare bits, we do not.
    return data if _encode(data) == text else None


_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _fields(data: bytes | None) -> tuple[str, str, str, int] | None:
    """A signed payload's fields; None for a shape we never sign (a key shared with an older format)."""
    if data is None:
        return None
    try:
        value = json.loads(data.decode())
    except ValueError:
        return None
    if not isinstance(value, list) or len(value) != 4:
        return None
    relative, name, mime_type, expires = value
    if not (isinstance(relative, str) and isinstance(name, str) and isinstance(mime_type, str)):
        return None
    if not isinstance(expires, int) or isinstance(expires, bool):
        return None
    return relative, name, mime_type, expires
