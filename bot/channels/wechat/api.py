"""The few WeChat Official Account API calls we make, asynchronously, with one shared token.

Why not wechatpy's client (docs/LIBRARIES.md): it is synchronous, and it fetches
tokens from a hard-coded ``https://api.weixin.qq.com/cgi-bin/token`` — an
endpoint whose every grant invalidates the token the other processes hold, so
N processes behind the webhook knock each other out with 40001.

Here the token comes from ``/cgi-bin/stable_token`` at the configured API
root, which hands every caller the same token while it is valid. It is kept
in the :class:`~models.ephemeral.EphemeralStore` (Redis when configured, so
every process shares it) and in this process's memory, and refreshed a few
minutes before expiry by one caller at a time: a short lock in the store
decides who asks WeChat; the others keep using the old token while it is
still valid, or wait (bounded) for the new one. A call that WeChat answers
with 40001/42001 gets a new token once and is retried once.

Failures are typed (:class:`WeChatApiError` and subclasses) so the delivery
engine can tell "retry later" from "give up" without knowing error codes.
Neither the secret nor a token is ever logged or put into an exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import mimetypes
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from bot.settings import ENV_PREFIX, Settings, SettingsError
from models.ephemeral import EphemeralStore

log = logging.getLogger(__name__)

__all__ = [
    "CredentialsRejected",
    "NotSubscribed",
    "ReplyWindowClosed",
    "TransientApiError",
    "WeChatApi",
    "WeChatApiError",
    "error_for",
]

JSONDict = dict[str, Any]

DEFAULT_API_URL = "https://api.weixin.qq.com"
GRANT_PATH = "/cgi-bin/stable_token"
CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
TEMPLATE_SEND_PATH = "/cgi-bin/message/template/send"
MEDIA_UPLOAD_PATH = "/cgi-bin/media/upload"
MEDIA_GET_PATH = "/cgi-bin/media/get"
MENU_CREATE_PATH = "/cgi-bin/menu/create"
MENU_GET_PATH = "/cgi-bin/menu/get"

# In its normal mode stable_token hands out the next token during the last five
# minutes of the current one (both work meanwhile): asking inside that window
# rotates without a gap, asking earlier only returns the same token again.
REFRESH_BEFORE_SECONDS = 240.0
# When WeChat gives back the same nearly expired token, ask again after this
# long rather than on every call.
REFRESH_RETRY_SECONDS = 30.0
# The refresh lock outlives one refresh (two token requests with their timeouts);
# a crashed holder blocks the others at most this long.
LOCK_SECONDS = 30
# How long a caller with no valid token waits for another process's refresh.
WAIT_SECONDS = 35.0
POLL_SECONDS = 0.05
TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# Temporary media limits for images (WeChat's media/upload documentation).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_SUFFIXES = frozenset({".bmp", ".png", ".jpeg", ".jpg", ".gif"})

# The token was refused: 40001 invalid or superseded, 40014 malformed, 42001 expired.
TOKEN_REFUSED = frozenset({40001, 40014, 42001})
# The same request may work later: -1 system busy, 45009 daily quota, 45011 per-minute quota.
TRANSIENT_CODES = frozenset({-1, 45009, 45011})
# Outside the customer-service window: 45015 no message from the member for 48 h,
# 45047 more than the few replies allowed within the window.
WINDOW_CODES = frozenset({45015, 45047})
UNSUBSCRIBED_CODE = 43004
NO_MENU_CODE = 46003
# A token request refused for the account's own configuration: wrong AppID or
# secret (40013, 40125), server IP not on the console's whitelist (40164), or
# the account is frozen or not allowed the API (40243, 48001).
CREDENTIAL_CODES = frozenset({40013, 40125, 40164, 40243, 48001})

# Transport failures that happen before the request left: WeChat never saw it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class WeChatApiError(Exception):
    """WeChat refused a call, or gave no usable answer.

    Attributes:
        errcode: WeChat's code; None when no JSON answer came (network failure,
            HTTP 5xx, a proxy's error page) or we refused before sending.
        errmsg: WeChat's text (or what went wrong); never holds a token.
        path: the API path, e.g. ``/cgi-bin/message/custom/send``.
        maybe_delivered: no answer came after the request went out, so WeChat may
            have acted on it. Retrying a customer-service message may then send
            it twice; a template message is protected by its ``client_msg_id``.
        transient: a later retry of the same request may succeed.
    """

    transient: ClassVar[bool] = False

    def __init__(self, errcode: int | None, errmsg: str, *, path: str, maybe_delivered: bool = False) -> None:
        super().__init__(f"{path}: {errcode if errcode is not None else 'no answer'} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path
        self.maybe_delivered = maybe_delivered

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.errcode!r}, {self.errmsg!r}, path={self.path!r})"


class TransientApiError(WeChatApiError):
    """System busy (-1), a quota (45009, 45011), HTTP 5xx or the network: retry later."""

    transient = True


class CredentialsRejected(WeChatApiError):
    """No token: the AppID or secret is wrong, or this server's IP is not whitelisted.

    Not the message's fault, so it counts as transient: deliveries wait until an
    admin fixes the settings or the console, instead of being given up.
    """

    transient = True


class ReplyWindowClosed(WeChatApiError):
    """45015/45047: customer-service messages are closed for this member; use a template message."""


class NotSubscribed(WeChatApiError):
    """43004: the member no longer follows the account; stop pushing until they write again."""


def error_for(errcode: int, errmsg: str, *, path: str) -> WeChatApiError:
    """The exception class that fits a WeChat error code."""
    if errcode in TRANSIENT_CODES:
        return TransientApiError(errcode, errmsg, path=path)
    if errcode in WINDOW_CODES:
        return ReplyWindowClosed(errcode, errmsg, path=path)
    if errcode == UNSUBSCRIBED_CODE:
        return NotSubscribed(errcode, errmsg, path=path)
    if path == GRANT_PATH and errcode in CREDENTIAL_CODES:
        return CredentialsRejected(errcode, errmsg, path=path)
    return WeChatApiError(errcode, errmsg, path=path)


@dataclass(frozen=True)
class _Token:
    """A token and when to stop using it (``expires_at``) or start replacing it (``refresh_at``).

    Deadlines are stored as values and compared with ``time.time()``, not left
    to the store's TTL: tests move time with time-machine, Redis keeps its own.
    """

    token: str
    expires_at: float
    refresh_at: float

    def valid(self, now: float) -> bool:
        return now < self.expires_at

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at

    def dumps(self) -> str:
        return json.dumps({"token": self.token, "expires_at": self.expires_at, "refresh_at": self.refresh_at})

    @classmethod
    def loads(cls, raw: str | None) -> _Token | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["token"]), float(data["expires_at"]), float(data["refresh_at"]))
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: treat as absent

    @classmethod
    def granted(cls, token: str, expires_in: float, now: float) -> _Token:
        expires_at = now + expires_in
        refresh_at = max(expires_at - REFRESH_BEFORE_SECONDS, min(now + REFRESH_RETRY_SECONDS, expires_at))
        return cls(token, expires_at, refresh_at)


class WeChatApi:
    """An asynchronous client for the calls the bot makes; every request goes to ``api_url``.

    Use it as ``async with WeChatApi(...) as api:`` or call :meth:`aclose`.
    Several instances (in one process or many) that share a store share one token.
    """

    def __init__(
        self,
        *,
        app_id: str,
        secret: str,
        store: EphemeralStore,
        api_url: str = DEFAULT_API_URL,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.app_id = app_id
        self._secret = secret
        self._store = store
        self.api_url = api_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.api_url, timeout=timeout, transport=transport, follow_redirects=False
        )
        self._token_key = f"wechat:{app_id}:access-token"
        self._lock_key = f"wechat:{app_id}:access-token-lock"
        self._memory: _Token | None = None
        self._local = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, store: EphemeralStore) -> WeChatApi:
        """The client for the configured account and API root.

        Raises:
            SettingsError: UNIONBOT_WECHAT_APP_ID or UNIONBOT_WECHAT_APP_SECRET is not set.
        """
        if not (settings.wechat_app_id and settings.wechat_app_secret):
            raise SettingsError(f"{ENV_PREFIX}WECHAT_APP_ID and {ENV_PREFIX}WECHAT_APP_SECRET must be set")
        return cls(
            app_id=settings.wechat_app_id,
            secret=settings.wechat_app_secret,
            store=store,
            api_url=settings.api_root(settings.wechat_api_url),
        )

    def __repr__(self) -> str:  # never the secret or a token
        return f"WeChatApi(app_id={self.app_id!r}, api_url={self.api_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- messages

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (within 48 h of the member's last message).

        Raises:
            ReplyWindowClosed: outside the window; send a template message instead.
            NotSubscribed: the member unfollowed.
            TransientApiError, WeChatApiError: see the class docs.
        """
        await self._call(
            "POST", CUSTOM_SEND_PATH, body={"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    async def upload_image(self, path: Path) -> str:
        """Upload an image as temporary media (kept by WeChat for 3 days); return its media_id.

        Raises:
            WeChatApiError: not a BMP/PNG/JPEG/GIF file or over 10 MB (errcode None,
                before any request), or WeChat refused it.
        """
        path = Path(path)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise WeChatApiError(None, f"not an image WeChat takes: {path.name}", path=MEDIA_UPLOAD_PATH)
        data = await asyncio.to_thread(path.read_bytes)
        if len(data) > MAX_IMAGE_BYTES:
            raise WeChatApiError(None, f"image over 10 MB: {path.name}", path=MEDIA_UPLOAD_PATH)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        answer = await self._call(
            "POST",
            MEDIA_UPLOAD_PATH,
            params={"type": "image"},
            files={"media": (path.name, data, content_type)},
        )
        return str(answer["media_id"])

    async def send_image(self, openid: str, path: Path) -> str:
        """Upload an image and send it as a customer-service message; return the media_id.

        Raises:
            the errors of :meth:`upload_image` and :meth:`send_text`.
        """
        media_id = await self.upload_image(path)
        await self._call(
            "POST",
            CUSTOM_SEND_PATH,
            body={"touser": openid, "msgtype": "image", "image": {"media_id": media_id}},
        )
        return media_id

    async def download_media(self, media_id: str, path: Path) -> int:
        """Save temporary media a member sent (WeChat keeps it three days) to ``path``; return its size.

        WeChat answers with the file itself, or with JSON when something is wrong.

        Raises:
            WeChatApiError: an unknown or expired media_id, or a file over 10 MB.
            TransientApiError: WeChat unreachable.
        """
        stale: str | None = None
        for _attempt in range(2):
            token = await self.access_token(stale=stale)
            query = {"access_token": token, "media_id": media_id}
            try:
                async with self._http.stream("GET", MEDIA_GET_PATH, params=query) as response:
                    if response.status_code >= 500:
                        raise TransientApiError(None, f"HTTP {response.status_code}", path=MEDIA_GET_PATH)
                    if "json" in response.headers.get("content-type", "") or response.status_code >= 400:
                        answer = json.loads(await response.aread() or b"{}")
                        errcode = _errcode(answer) if isinstance(answer, dict) else -1
                        if errcode in TOKEN_REFUSED and stale is None:
                            stale = token
                            continue
                        message = str(answer.get("errmsg", "")) if isinstance(answer, dict) else ""
                        raise error_for(errcode or -1, message, path=MEDIA_GET_PATH)
                    size = 0
                    with path.open("wb") as out:
                        async for chunk in response.aiter_bytes():
                            size += len(chunk)
                            if size > MAX_IMAGE_BYTES:
                                raise WeChatApiError(None, "media over 10 MB", path=MEDIA_GET_PATH)
                            out.write(chunk)
                    return size
            except httpx.TransportError as exc:
                raise TransientApiError(None, type(exc).__name__, path=MEDIA_GET_PATH) from None
        raise TransientApiError(None, "the access token was refused twice", path=MEDIA_GET_PATH)

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        *,
        client_msg_id: str,
        url: str | None = None,
    ) -> int | None:
        """A template message; returns WeChat's msgid.

        ``client_msg_id`` is required because it makes a retry safe: WeChat sends
        one message per openid and id for 10 minutes (wechatpy cannot pass it).

        Raises:
            NotSubscribed: the member unfollowed.
            TransientApiError, WeChatApiError: see the class docs (43101: the
                member refused this account's template messages).
        """
        body: JSONDict = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "client_msg_id": client_msg_id,
        }
        if url:
            body["url"] = url
        answer = await self._call("POST", TEMPLATE_SEND_PATH, body=body)
        msgid = answer.get("msgid")
        return int(msgid) if msgid is not None else None

    # -- menu

    async def create_menu(self, menu: Mapping[str, Any]) -> None:
        """Publish the custom menu (``{"button": [...]}``), replacing the live one."""
        await self._call("POST", MENU_CREATE_PATH, body=menu)

    async def get_menu(self) -> JSONDict | None:
        """The live custom menu (``{"button": [...]}``), or None when there is none (46003)."""
        try:
            answer = await self._call("GET", MENU_GET_PATH)
        except WeChatApiError as error:
            if error.errcode == NO_MENU_CODE:
                return None
            raise
        menu = answer.get("menu")
        return menu if isinstance(menu, dict) else None

    # -- the token

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid access token: from this process, else the store, else WeChat.

        Args:
            stale: a token WeChat just refused. It is never returned; when the
                store still holds it, WeChat is asked for a new one.

        Raises:
            CredentialsRejected: wrong AppID/secret or IP not whitelisted.
            TransientApiError: WeChat unreachable, or another process's refresh
                took longer than the wait allows.
        """
        memory = self._memory
        if memory is not None and memory.token != stale and memory.fresh(time.time()):
            return memory.token
        # One coroutine per process deals with the store and WeChat; the others
        # then find its result in memory.
        async with self._local:
            memory = self._memory
            if memory is not None and memory.token != stale and memory.fresh(time.time()):
                return memory.token
            return await self._shared_token(stale)

    async def _shared_token(self, stale: str | None) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while True:
            cached = await self._read_token()
            now = time.time()
            if cached is not None and cached.token != stale and cached.valid(now):
                self._memory = cached
                if cached.fresh(now):
                    return cached.token
            else:
                cached = None
            owner = secrets.token_hex(8)
            if await self._lock(owner):
                try:
                    return await self._refresh(stale)
                finally:
                    await self._release(owner)
            if cached is not None:
                return cached.token  # someone else is refreshing; ours still works meanwhile
            if loop.time() >= deadline:
                raise TransientApiError(
                    None, "waited too long for another process to refresh the access token", path=GRANT_PATH
                )
            await asyncio.sleep(POLL_SECONDS)

    async def _refresh(self, stale: str | None) -> str:
        # Another process may have refreshed between our read and our lock.
        cached = await self._read_token()
        if cached is not None and cached.token != stale and cached.fresh(time.time()):
            self._memory = cached
            return cached.token
        token = await self._grant(force=False)
        if stale is not None and token.token == stale:
            # WeChat still hands out the token it refuses. Only a forced refresh
            # replaces it; WeChat allows 20 a day, so it is kept for this case.
            log.warning("WeChat refused its current access token; forcing a new one")
            token = await self._grant(force=True)
        ttl = max(1, math.ceil(token.expires_at - time.time()))
        await asyncio.to_thread(self._store.set, self._token_key, token.dumps(), ttl)
        self._memory = token
        return token.token

    async def _grant(self, *, force: bool) -> _Token:
        body: JSONDict = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        if force:
            body["force_refresh"] = True
        answer = await self._post_json(GRANT_PATH, params={}, body=body)
        errcode = _errcode(answer)
        if errcode:
            raise error_for(errcode, str(answer.get("errmsg", "")), path=GRANT_PATH)
        try:
            token = str(answer["access_token"])
            expires_in = float(answer["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise TransientApiError(None, "token answer without access_token", path=GRANT_PATH) from None
        log.info("WeChat access token granted, valid for %d s", expires_in)
        return _Token.granted(token, expires_in, time.time())

    async def _read_token(self) -> _Token | None:
        return _Token.loads(await asyncio.to_thread(self._store.get, self._token_key))

    async def _lock(self, owner: str) -> bool:
        return await asyncio.to_thread(
            self._store.set, self._lock_key, owner, LOCK_SECONDS, only_if_absent=True
        )

    async def _release(self, owner: str) -> None:
        # The store has no compare-and-delete; between the check and the delete the
        # lock could expire and be taken by another, which then loses it early.
        # The worst case is one extra token request, not a wrong token.
        if await asyncio.to_thread(self._store.get, self._lock_key) == owner:
            await asyncio.to_thread(self._store.delete, self._lock_key)

    # -- HTTP

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> JSONDict:
        """One API call with the token; on 40001/42001 a new token and one retry."""
        token = await self.access_token()
        answer = await self._request(method, path, token, params=params, body=body, files=files)
        errcode = _errcode(answer)
        if errcode in TOKEN_REFUSED:
            log.info("WeChat refused the access token on %s (%s); refreshing it once", path, errcode)
            token = await self.access_token(stale=token)
            answer = await self._request(method, path, token, params=params, body=body, files=files)
            errcode = _errcode(answer)
        if errcode:
            raise error_for(errcode, str(answer.get("errmsg", "")), path=path)
        return answer

    async def _request(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> JSONDict:
        query = {**(params or {}), "access_token": token}
        if body is not None:
            return await self._post_json(path, params=query, body=body)
        return await self._send(path, lambda: self._http.request(method, path, params=query, files=files))

    async def _post_json(self, path: str, *, params: Mapping[str, str], body: Mapping[str, Any]) -> JSONDict:
        # WeChat shows backslash-u escapes literally in menus and messages: send UTF-8 as is.
        content = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return await self._send(
            path, lambda: self._http.post(path, params=params, content=content, headers=headers)
        )

    async def _send(self, path: str, request: Callable[[], Awaitable[httpx.Response]]) -> JSONDict:
        try:
            response = await request()
        except httpx.TransportError as exc:
            # httpx puts the URL (with the token) on exc.request, not in its message.
            raise TransientApiError(
                None,
                f"{type(exc).__name__}: {exc}",
                path=path,
                maybe_delivered=not isinstance(exc, _NOT_SENT),
            ) from None
        if response.status_code >= 500:
            raise TransientApiError(None, f"HTTP {response.status_code}", path=path, maybe_delivered=True)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if response.status_code >= 400:
                raise WeChatApiError(None, f"HTTP {response.status_code}", path=path)
            raise TransientApiError(None, "answer is not JSON", path=path, maybe_delivered=True)
        return answer


def _errcode(answer: Mapping[str, Any]) -> int:
    try:
        return int(answer.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1
