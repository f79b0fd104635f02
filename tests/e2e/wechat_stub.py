"""A stand-in WeChat Official Account API server (``https://api.weixin.qq.com``) for tests.

It speaks WeChat's HTTP and JSON shapes on 127.0.0.1 and records what a bot
sends::

    async with WeChatStub(app_id="wx1", secret="s") as stub:
        # point the bot's API root at stub.url
        ...
        [call] = await stub.wait_for("/cgi-bin/message/custom/send")
        assert call.body["touser"] == "oMember"

Access tokens: ``/cgi-bin/token`` issues a new one and invalidates the
earlier ``/token`` one (so several processes fighting over it get 40001, as
in production); ``/cgi-bin/stable_token`` returns the same token while it is
valid unless ``force_refresh``. Every other call checks ``access_token``:
missing → 41001, unknown → 40001, expired (:meth:`expire_tokens`) → 42001.
Faults: :meth:`fail_next`. Waits are event-based with timeouts.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from tests.e2e.loopback import LoopbackServer

__all__ = ["ERRMSGS", "Call", "WeChatStub"]

JSONDict = dict[str, Any]

TOKEN_LIFETIME = 7200
MAX_UPLOAD = 10 * 1024 * 1024

# WeChat's texts for the codes tests use (errmsg also carries a "rid: …" suffix in production).
ERRMSGS: dict[int, str] = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40007: "invalid media_id",
    40003: "invalid openid",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
}

TOKEN_FREE = frozenset({"/cgi-bin/token", "/cgi-bin/stable_token"})


@dataclass
class Call:
    """One API request: ``body`` is the parsed JSON (or, for uploads, the form fields with
    ``media`` as ``{"filename", "content_type", "size"}``); ``answer`` is the JSON sent back."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float  # time.time() when it arrived
    answer: JSONDict = field(default_factory=dict)

    @property
    def errcode(self) -> int:
        return int(self.answer.get("errcode", 0))


@dataclass
class _Fault:
    errcode: int
    errmsg: str
    times: int


class WeChatStub(LoopbackServer):
    """The WeChat API on 127.0.0.1 at a free port. Recording: :attr:`calls`, :meth:`sent`,
    :meth:`wait_for`, :attr:`uploads`, :attr:`menu`. Faults: :meth:`expire_tokens`, :meth:`fail_next`."""

    def __init__(self, *, app_id: str = "wx0123456789abcdef", secret: str = "test-secret") -> None:
        super().__init__()
        self.app_id = app_id
        self.secret = secret
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}  # media_id → data
        self.received_media: dict[str, bytes] = {}  # what members sent: /cgi-bin/media/get serves it
        self.menu: JSONDict | None = None
        self._tokens: dict[str, float] = {}  # valid token → expiry (time.time())
        self._expired: set[str] = set()
        self._token: str | None = None  # the latest /cgi-bin/token one
        self._stable: str | None = None
        self._faults: dict[str, deque[_Fault]] = {}
        self._seq = 0
        self._changed = asyncio.Event()
        self._routes: dict[tuple[str, str], Callable[[Call], JSONDict]] = {
            ("GET", "/cgi-bin/token"): self._token_grant,
            ("POST", "/cgi-bin/stable_token"): self._stable_token,
            ("POST", "/cgi-bin/message/custom/send"): self._custom_send,
            ("POST", "/cgi-bin/message/template/send"): self._template_send,
            ("POST", "/cgi-bin/menu/create"): self._menu_create,
            ("GET", "/cgi-bin/menu/get"): self._menu_get,
            ("GET", "/cgi-bin/get_current_selfmenu_info"): self._selfmenu_info,
            ("POST", "/cgi-bin/media/upload"): self._media_upload,
        }

    # -- lifecycle

    async def start(self) -> None:
        """Serve on 127.0.0.1 at a free port; :attr:`url` replaces ``https://api.weixin.qq.com``."""
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        await self._serve(app)

    async def stop(self) -> None:
        await self._close()

    # -- recording

    def sent(self, path: str) -> list[Call]:
        """The successful (errcode 0) calls to ``path``, in arrival order."""
        return [call for call in self.calls if call.path == path and call.errcode == 0]

    def count(self, path: str) -> int:
        """All calls to ``path``, whatever they were answered (e.g. token grants)."""
        return sum(call.path == path for call in self.calls)

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10) -> list[Call]:
        """Wait until ``count`` successful calls to ``path`` were answered; return them all."""
        if not await self._wait_until(lambda: len(self.sent(path)) >= count, timeout):
            raise TimeoutError(
                f"waited {timeout} s for {count} successful {path}, got {len(self.sent(path))}. "
                f"{self.describe_calls()}"
            )
        return self.sent(path)

    def describe_calls(self, last: int = 15) -> str:
        return "Calls: " + repr([f"{call.method} {call.path}→{call.errcode}" for call in self.calls[-last:]])

    def add_member_media(self, data: bytes) -> str:
        """A photo a member sent: its MediaId for the webhook message, downloadable via media/get."""
        media_id = "MEMBER_MEDIA_" + secrets.token_urlsafe(12)
        self.received_media[media_id] = data
        return media_id

    # -- faults

    def expire_tokens(self) -> None:
        """Every token granted so far is expired: calls using one get 42001 until a new grant."""
        self._expired.update(self._tokens)
        self._tokens.clear()
        self._token = self._stable = None

    def fail_next(self, path: str, errcode: int, errmsg: str | None = None, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` (after the token check) answer ``errcode``."""
        message = errmsg if errmsg is not None else ERRMSGS.get(errcode, "error")
        self._faults.setdefault(path, deque()).append(_Fault(errcode, message, times))

    # -- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        call = Call(request.method, path, dict(request.query), None, time.time())
        self.calls.append(call)
        try:
            call.body = await self._read_body(request)
            if (call.method, path) == ("GET", "/cgi-bin/media/get"):
                return self._media_get(call)
            call.answer = self._answer(call)
        except _Error as error:
            call.answer = error.body
        status = 404 if call.answer.get("errcode") == 404 else 200
        self._notify()
        return web.Response(
            status=status,
            text=json.dumps(call.answer, ensure_ascii=False),
            content_type="application/json",
            charset="utf-8",
        )

    async def _read_body(self, request: web.Request) -> Any:
        if request.method != "POST":
            return None
        if request.content_type.startswith("multipart/"):
            form: JSONDict = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=False)
                if part.filename is not None:
                    form[part.name] = {
                        "filename": part.filename,
                        "content_type": part.headers.get("Content-Type", ""),
                        "size": len(data),
                        "data": bytes(data),
                    }
                else:
                    form[part.name] = bytes(data).decode()
            return form
        raw = await request.read()
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _Error(47001) from exc

    def _answer(self, call: Call) -> JSONDict:
        handler = self._routes.get((call.method, call.path))
        if handler is None:
            raise _Error(404, f"no such API: {call.method} {call.path}")
        if call.path not in TOKEN_FREE:
            self._check_token(call.query.get("access_token"))
        faults = self._faults.get(call.path)
        if faults:
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.popleft()
            raise _Error(fault.errcode, fault.errmsg)
        return handler(call)

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise _Error(41001)
        expiry = self._tokens.get(token)
        if expiry is not None and expiry <= time.time():
            del self._tokens[token]
            self._expired.add(token)
        if token in self._expired:
            raise _Error(42001)
        if token not in self._tokens:
            raise _Error(40001)

    def _grant(self) -> str:
        token = "ACCESS_TOKEN_" + secrets.token_urlsafe(24)
        self._tokens[token] = time.time() + TOKEN_LIFETIME
        return token

    def _check_app(self, app_id: Any, secret: Any) -> None:
        if app_id != self.app_id:
            raise _Error(40013)
        if secret != self.secret:
            raise _Error(40125)

    # -- endpoints

    def _token_grant(self, call: Call) -> JSONDict:
        if call.query.get("grant_type") != "client_credential":
            raise _Error(40002, "invalid grant_type")
        self._check_app(call.query.get("appid"), call.query.get("secret"))
        if self._token is not None:
            self._tokens.pop(self._token, None)  # the older /token grant stops working
        self._token = self._grant()
        return {"access_token": self._token, "expires_in": TOKEN_LIFETIME}

    def _stable_token(self, call: Call) -> JSONDict:
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("grant_type") != "client_credential":
            raise _Error(40002, "invalid grant_type")
        self._check_app(body.get("appid"), body.get("secret"))
        stable = self._stable
        if body.get("force_refresh") or stable is None or stable not in self._tokens:
            if stable is not None:
                self._tokens.pop(stable, None)
            stable = self._stable = self._grant()
        remaining = int(self._tokens[stable] - time.time())
        return {"access_token": stable, "expires_in": remaining}

    def _custom_send(self, call: Call) -> JSONDict:
        body = self._json(call, "touser", "msgtype")
        if body["msgtype"] not in body:
            raise _Error(47001, f"data format error: no {body['msgtype']} object")
        return {"errcode": 0, "errmsg": "ok"}

    def _template_send(self, call: Call) -> JSONDict:
        self._json(call, "touser", "template_id")
        self._seq += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": 2_000_000_000 + self._seq}

    def _menu_create(self, call: Call) -> JSONDict:
        body = self._json(call, "button")
        self.menu = {"button": body["button"]}
        return {"errcode": 0, "errmsg": "ok"}

    def _menu_get(self, call: Call) -> JSONDict:
        if self.menu is None:
            raise _Error(46003)
        return {"menu": self.menu}

    def _selfmenu_info(self, call: Call) -> JSONDict:
        if self.menu is None:
            return {"is_menu_open": 0}
        return {"is_menu_open": 1, "selfmenu_info": self.menu}

    def _media_upload(self, call: Call) -> JSONDict:
        media_type = call.query.get("type")
        if media_type not in ("image", "voice", "video", "thumb"):
            raise _Error(40004, "invalid media type")
        form = call.body if isinstance(call.body, dict) else {}
        media = form.get("media")
        if not isinstance(media, dict):
            raise _Error(41005, "media data missing")
        media_id = "MEDIA_" + secrets.token_urlsafe(16)
        self.uploads[media_id] = media.pop("data")
        return {"type": media_type, "media_id": media_id, "created_at": int(time.time())}

    def _media_get(self, call: Call) -> web.Response:
        """Temporary media: the file itself, or WeChat's JSON error (a download's only JSON answer)."""
        self._check_token(call.query.get("access_token"))
        data = self.received_media.get(call.query.get("media_id", ""))
        if data is None:
            raise _Error(40007, "invalid media_id")
        call.answer = {"errcode": 0, "size": len(data)}
        self._notify()
        return web.Response(
            body=data,
            content_type="image/jpeg",
            headers={"Content-Disposition": 'attachment; filename="image.jpg"'},
        )

    @staticmethod
    def _json(call: Call, *required: str) -> JSONDict:
        body = call.body
        if not isinstance(body, dict) or any(name not in body for name in required):
            raise _Error(47001)
        return body

    # -- waiting

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return predicate()
        return True


class _Error(Exception):
    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        super().__init__(errcode)
        self.body: JSONDict = {"errcode": errcode, "errmsg": errmsg or ERRMSGS.get(errcode, "error")}
