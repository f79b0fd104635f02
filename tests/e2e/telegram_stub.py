"""A stand-in Telegram Bot API server for end-to-end tests and benchmarks.

Why a server and not a mocked ``Bot``: the parts of the Telegram channel that
break in production are the ones a mock skips — how python-telegram-bot
encodes parameters (form fields whose nested values are JSON strings,
multipart uploads), long polling, webhook secrets, HTTP status codes that PTB
turns into ``RetryAfter``/``Forbidden``/``Conflict``, file downloads through
``base_file_url``. So this stub speaks the real HTTP protocol on 127.0.0.1
and PTB's ``Application`` (polling or webhook) and ``telegram.Bot`` run
against it unchanged::

    async with TelegramStub() as stub:
        bot = telegram.Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url)
        stub.push_message(user_id=42, text="/start")
        ...
        [reply] = await stub.wait_for("sendMessage", chat_id=42)

Ground rules it keeps:

- Nothing leaves 127.0.0.1: the server binds loopback only, ``setWebhook``
  refuses any host that is not a loopback address, and URLs given to
  ``sendPhoto``/``sendDocument`` are recorded, never fetched.
- No guessed sleeps: every wait (long polling, ``wait_for``, the webhook
  worker) wakes on a state change, with a timeout. The only deliberate delay
  is the pause before a webhook redelivery, which Telegram has too.
- Handlers are cheap and never block one another, so a benchmark can push
  thousands of messages while the bot long-polls and sends concurrently.
- Errors carry Telegram's texts where we know them, because PTB turns the
  HTTP status into the exception type and the description into its message
  (with ``str.capitalize()`` applied: match case-insensitively).

Everything runs on the event loop that called :meth:`TelegramStub.start`;
call ``push_*`` from that loop's thread.
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.e2e.loopback import LoopbackServer

__all__ = ["Call", "TelegramStub", "UploadedFile"]

JSONDict = dict[str, Any]

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Telegram's own limits that our code has to respect, so the stub enforces them.
MAX_TEXT = 4096  # UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files for bots
MAX_UPLOAD = 50 * 1024 * 1024

# PTB sends strings raw and everything else JSON-encoded (RequestParameter.json_value), so a
# form value "42" may be the int 42 or the text "42". Telegram knows each parameter's type; we
# know the string-typed ones below and JSON-decode the rest when they parse.
STRING_PARAMS = frozenset(
    {
        "action",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "certificate",
        "description",
        "document",
        "emoji",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query_id",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
    }
)

_WELL_FORMED_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Call:
    """One Bot API request as it arrived.

    ``status`` is the HTTP status answered: 0 while a long poll is still
    open, and for good when its client hung up first (PTB cancels its poll
    on stop). ``result`` is what was returned under ``"result"`` on success.
    """

    method: str
    params: dict[str, Any]
    at: float  # time.perf_counter() when the request arrived
    status: int = 0
    result: Any = None
    peer: tuple[str, int] | None = None  # the client's address and port, to tell a proxy's from ours


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part, as it appears in :attr:`Call.params` (e.g. ``params["photo"]``)."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    times: int


@dataclass
class _Delay:
    chat_id: int
    seconds: float
    times: int


class _ApiError(Exception):
    """An error answer: HTTP status = error_code, as Telegram does."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            # PTB raises RetryAfter for *any* status whose body carries retry_after.
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _utf16_len(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _default_description(status: int, retry_after: int | None) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _as_int(value: Any, name: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise _ApiError(400, f"Bad Request: {name} is empty")
        return default
    if isinstance(value, bool):
        raise _ApiError(400, f"Bad Request: invalid {name} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {name} specified") from None


def _as_float(value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _inline_markup(value: Any) -> JSONDict | None:
    """The reply_markup a sent Message echoes: only inline keyboards come back, as in Telegram."""
    if not isinstance(value, dict) or "inline_keyboard" not in value:
        return None
    rows = value["inline_keyboard"]
    if not isinstance(rows, list):
        raise _ApiError(
            400, 'Bad Request: can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
        )
    for row in rows:
        for button in row if isinstance(row, list) else []:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if isinstance(data, str) and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return copy.deepcopy(value)


class TelegramStub(LoopbackServer):
    """A Telegram Bot API server on 127.0.0.1 for the real python-telegram-bot.

    Driving: :meth:`push_message` / :meth:`push_callback` play members writing
    to the bot; the update goes to ``getUpdates`` or, while a webhook is set,
    is POSTed to it. Recording: :attr:`calls` (every request, arrival order),
    :meth:`sent`, :meth:`wait_for`, :attr:`deliveries`. Faults:
    :meth:`fail_next`, :meth:`answer_late`, :meth:`block_user`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        username: str = "UnionTestBot",
        first_name: str = "工会助手",
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
    ) -> None:
        """Prepare (not start) a stub.

        ``webhook_attempts`` counts the first delivery too: with 3, an update
        whose webhook answers non-2xx is redelivered twice, then dropped (as
        Telegram eventually gives up). ``webhook_retry_delay`` is the pause
        before each redelivery.
        """
        super().__init__()
        if not _WELL_FORMED_TOKEN.fullmatch(token):
            raise ValueError(f"not a Telegram-shaped token: {token!r}")
        self.token = token
        self.username = username
        self.webhook_attempts = max(1, webhook_attempts)
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # -- recording
        self.calls: list[Call] = []
        self._finished: list[Call] = []  # the same calls, in the order they were answered
        self.deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status; 0 = no answer)
        self.downloads: list[str] = []  # file_path of each file served

        # -- state
        self._pending: deque[JSONDict] = deque()
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._webhook_url: str | None = None
        self._webhook_secret: str | None = None
        self._webhook_info: JSONDict = {}
        self._webhook_error: JSONDict = {}
        self._commands: dict[tuple[str, str | None], list[JSONDict]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._blocked: set[int | str] = set()
        self._chats: dict[int | str, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._callback_seq = 0
        self._open_callbacks: set[str] = set()
        self._poll_generation = 0
        self._polling = 0
        # -- flood control (off until limit_flood): the next free time overall, and per chat
        self._flood: tuple[float, float, float] | None = None  # (per_second, chat_interval, tolerance)
        self._flood_next = 0.0
        self._flood_chats: dict[int | str, float] = {}
        self.floods = 0  # requests answered 429 by the flood limit (faults from fail_next not counted)

        # -- machinery
        self._changed = asyncio.Event()
        self._closing = False
        self._session: ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": lambda _params: True,
            "logOut": lambda _params: True,
        }
        self._handlers = handlers
        # Telegram matches method names case-insensitively; we record the canonical spelling.
        self._canonical = {name.lower(): name for name in [*handlers, "getUpdates"]}

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 at a free port and start the webhook worker."""
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # handler_cancellation: a long poll whose client hung up stops at once; the short
        # shutdown_timeout keeps stop() fast, as every open poll is woken by then anyway.
        await self._serve(app, handler_cancellation=True)
        self._session = ClientSession(timeout=ClientTimeout(total=self.webhook_timeout))
        self._worker = asyncio.get_running_loop().create_task(
            self._deliver_forever(), name="telegram-stub-webhook"
        )

    async def stop(self) -> None:
        """Answer every open long poll, stop delivering, close the server."""
        self._closing = True
        self._notify()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._close()

    @property
    def base_url(self) -> str:
        """What to pass as PTB's ``base_url`` (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as PTB's ``base_file_url``."""
        return f"{self.url}/file/bot"

    # -- driving -----------------------------------------------------------------------------------

    def push_message(
        self,
        *,
        user_id: int,
        text: str | None = None,
        photo: bytes | None = None,
        document: tuple[str, bytes, str] | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "zh-hans",
        first_name: str = "会员",
    ) -> JSONDict:
        """A member writes to the bot; returns the update (a copy) as queued.

        With ``photo`` or ``document``, ``text`` becomes the caption. A text
        starting with ``/command`` gets its ``bot_command`` entity, which PTB's
        CommandHandler needs. Group chats (``chat_type`` "group" or
        "supergroup") need a negative ``chat_id``; it defaults to ``-user_id``.
        """
        if text is None and photo is None and document is None:
            raise ValueError("push_message needs text, photo or document")
        if photo is not None and document is not None:
            raise ValueError("a Telegram message carries a photo or a document, not both")
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        chat = self._chat_for_push(user_id, chat_id, chat_type, first_name)
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if photo is not None:
            stored = self._store_file(photo, "photos", ".jpg", mime_type="image/jpeg")
            message["photo"] = self._photo_sizes(stored)
        elif document is not None:
            name, data, mime = document
            stored = self._store_file(data, "documents", _suffix(name), file_name=name, mime_type=mime)
            message["document"] = self._document(stored)
        if text is not None:
            key = "text" if photo is None and document is None else "caption"
            message[key] = text
            if (match := _COMMAND.match(text)) is not None:
                message["entities" if key == "text" else "caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}
                ]
        self._messages[(chat["id"], message["message_id"])] = message
        return self._enqueue({"message": message})

    def push_callback(
        self, *, user_id: int, message_id: int, data: str, chat_id: int | None = None, late: bool = False
    ) -> JSONDict:
        """A member presses an inline button under message ``message_id``; returns the update.

        The query carries the message as the bot last left it (text and
        keyboard after any edits). A message the stub never saw is stood in
        for by an empty text message; editing it then answers "message to
        edit not found", as for a message Telegram no longer has.

        ``late``: the bot gets the press after Telegram's answer window (it was
        down or backlogged), so ``answerCallbackQuery`` is refused with
        :data:`QUERY_INVALID`, as Telegram refuses it.
        """
        chat_id = user_id if chat_id is None else chat_id
        user = self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": "会员",
            "language_code": "zh-hans",
        }
        stored = self._messages.get((chat_id, message_id))
        message = (
            copy.deepcopy(stored)
            if stored is not None
            else {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                "text": "",
            }
        )
        self._callback_seq += 1
        query_id = f"{4_000_000_000_000_000_000 + self._callback_seq}"
        if not late:
            self._open_callbacks.add(query_id)
        return self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": str(-7_000_000_000_000 - abs(chat_id)),
                    "data": data,
                }
            }
        )

    # -- recording ---------------------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[JSONDict]:
        """Parameters of the successful ``method`` calls (to ``chat_id``, if given), in arrival order."""
        method = self._canonical.get(method.lower(), method)
        return [
            call.params
            for call in self.calls
            if call.status == HTTPStatus.OK
            and call.method == method
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self, method: str = "sendMessage", *, count: int = 1, chat_id: int | None = None, timeout: float = 10
    ) -> list[JSONDict]:
        """Wait until at least ``count`` successful ``method`` calls match; return all that match.

        Raises TimeoutError naming what did arrive, so a failing test says
        what the bot did instead.
        """
        what = f"{count} successful {method}" + (f" to chat {chat_id}" if chat_id is not None else "")
        method = self._canonical.get(method.lower(), method)
        seen = matched = 0

        def enough() -> bool:
            # Incremental over the answered calls: a benchmark waiting for 1,000 sends stays linear.
            nonlocal seen, matched
            finished = self._finished
            for index in range(seen, len(finished)):
                call = finished[index]
                if (
                    call.status == HTTPStatus.OK
                    and call.method == method
                    and (chat_id is None or call.params.get("chat_id") == chat_id)
                ):
                    matched += 1
            seen = len(finished)
            return matched >= count

        if not await self._wait_until(enough, timeout):
            got = len(self.sent(method, chat_id))
            raise TimeoutError(f"waited {timeout} s for {what}, got {got}. {self.describe_calls()}")
        return self.sent(method, chat_id)

    async def wait_for_deliveries(self, count: int, *, timeout: float = 10) -> list[tuple[int, int]]:
        """Wait until ``count`` webhook delivery attempts (any status) were made."""
        if not await self._wait_until(lambda: len(self.deliveries) >= count, timeout):
            raise TimeoutError(f"waited {timeout} s for {count} webhook deliveries, got {self.deliveries}")
        return list(self.deliveries)

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 10, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every change the stub sees
        (a request answered, an update pushed or confirmed, a delivery made)."""
        if not await self._wait_until(predicate, timeout):
            raise TimeoutError(f"waited {timeout} s for {what}. {self.describe_calls()}")

    def describe_calls(self, last: int = 15) -> str:
        """A one-line summary for failure messages: counts per method/status, then the latest calls."""
        counts = Counter(f"{call.method}→{call.status}" for call in self.calls)
        recent = [call for call in self.calls if call.method != "getUpdates"][-last:]
        lines = []
        for call in recent:
            detail = f" chat={call.params['chat_id']}" if "chat_id" in call.params else ""
            text = call.params.get("text") or call.params.get("caption")
            if isinstance(text, str):
                detail += f" {text[:40]!r}"
            lines.append(f"{call.method}→{call.status}{detail}")
        return f"Calls: {dict(counts)}; latest: {lines}"

    # -- faults ------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status``.

        ``retry_after`` is sent (as ``parameters.retry_after``) only with 429:
        Telegram sends it only for flood control, and PTB raises RetryAfter for
        any response that carries it, whatever the status. Faults queue up in
        the order given.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        method = self._canonical.get(method.lower(), method)
        retry = retry_after if status == HTTPStatus.TOO_MANY_REQUESTS else None
        text = description or _default_description(status, retry)
        self._faults.setdefault(method, deque()).append(_Fault(status, text, retry, times))

    def answer_late(self, method: str, *, chat_id: int, seconds: float, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``method`` to ``chat_id``, then hold each answer ``seconds``.

        The call succeeds and is recorded (:meth:`sent` lists it) before the wait, so a client whose
        read timeout is shorter gives up on a message that did arrive: Telegram answering slowly,
        the case nobody can settle (docs/LIBRARIES.md, ``TimedOut``). A client that hangs up ends the wait
        at once (the server cancels its handler).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        method = self._canonical.get(method.lower(), method)
        self._delays.setdefault(method, []).append(_Delay(chat_id, seconds, times))

    def limit_flood(
        self, per_second: float, per_chat_interval: float = 1.0, *, tolerance: float = 0.05
    ) -> None:
        """Answer 429 (retry_after 1) to send*/edit* calls beyond ``per_second`` overall or closer
        than ``per_chat_interval`` to the chat's previous one, as Telegram's flood control does.

        ``tolerance`` seconds of earliness are forgiven (Telegram tolerates short bursts; a
        request's arrival jitters by the network). :attr:`floods` counts the refusals.
        """
        self._flood = (per_second, per_chat_interval, tolerance)
        self._flood_next = 0.0
        self._flood_chats.clear()

    def _check_flood(self, method: str, params: JSONDict, at: float) -> None:
        if self._flood is None or not method.startswith(("send", "edit")) or method == "sendChatAction":
            return
        per_second, chat_interval, tolerance = self._flood
        chat = params.get("chat_id")
        chat_key = chat if isinstance(chat, int | str) and not isinstance(chat, bool) else None
        chat_free = self._flood_chats.get(chat_key, 0.0) if chat_key is not None else 0.0
        if self._flood_next - at > tolerance or chat_free - at > tolerance:
            self.floods += 1
            raise _ApiError(429, _default_description(429, 1), 1)
        self._flood_next = max(self._flood_next, at) + 1 / per_second
        if chat_key is not None:
            self._flood_chats[chat_key] = max(chat_free, at) + chat_interval

    def block_user(self, chat_id: int) -> None:
        """The member blocked the bot (for a group: the bot was kicked).

        ``send*`` and ``edit*`` calls to that chat answer 403 from now on.
        """
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """The member unblocked the bot."""
        self._blocked.discard(chat_id)

    # -- introspection -----------------------------------------------------------------------------

    @property
    def webhook_url(self) -> str | None:
        """The webhook set by the bot, or None while it polls."""
        return self._webhook_url

    @property
    def webhook_secret(self) -> str | None:
        """The secret_token given with setWebhook, if any."""
        return self._webhook_secret

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last allowed_updates given to getUpdates/setWebhook (None: Telegram's default)."""
        return None if self._allowed_updates is None else list(self._allowed_updates)

    @property
    def commands(self) -> dict[str | None, list[JSONDict]]:
        """The command lists of the default scope by language_code (None = all languages)."""
        return {
            lang: copy.deepcopy(cmds) for (scope, lang), cmds in self._commands.items() if scope == "default"
        }

    def commands_for(self, scope: JSONDict | None = None, language_code: str | None = None) -> list[JSONDict]:
        """The command list set for ``scope`` (e.g. ``{"type": "all_private_chats"}``) and language."""
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code or None), []))

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates (polling) or delivered (webhook)."""
        return len(self._pending)

    @property
    def polling(self) -> int:
        """How many getUpdates calls are long-polling right now (a test can wait for 1)."""
        return self._polling

    # -- HTTP --------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            self._record(Call(request.match_info["method"], {}, at, error.status))
            return web.json_response(error.body(), status=error.status)
        method = self._canonical.get(request.match_info["method"].lower(), request.match_info["method"])
        call = Call(
            method,
            params,
            at,
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        )
        self.calls.append(call)
        try:
            token = request.match_info["token"]
            if token != self.token:
                # Telegram: 404 for a malformed token, 401 for a well-formed one it does not know.
                if _WELL_FORMED_TOKEN.fullmatch(token):
                    raise _ApiError(401, "Unauthorized")
                raise _ApiError(404, "Not Found")
            if method != "getUpdates" and method not in self._handlers:
                raise _ApiError(404, "Not Found: method not found")
            self._take_fault(method)
            self._check_flood(method, params, at)
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = self._handlers[method](params)
        except _ApiError as error:
            call.status = error.status
            self._finish(call)
            return web.json_response(error.body(), status=error.status)
        call.status = HTTPStatus.OK
        call.result = result
        self._finish(call)
        if delay := self._take_delay(method, params):
            await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        self.downloads.append(stored.file_path)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _read_params(self, request: web.Request) -> JSONDict:
        """Query string, then the body: JSON, form-urlencoded or multipart (what PTB sends)."""
        params: JSONDict = {key: _decode(key, value) for key, value in request.query.items()}
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            elif isinstance(value, str):
                params[key] = _decode(key, value)
            else:
                params[key] = _decode(key, bytes(value).decode("utf-8", "replace"))
        # sendMediaGroup-style "attach://name" references point at a file part.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = params.get(value.removeprefix("attach://"))
                if isinstance(attached, UploadedFile):
                    params[key] = attached
        return params

    # -- methods -----------------------------------------------------------------------------------

    def _get_me(self, params: JSONDict) -> JSONDict:
        return dict(self.bot_user)

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url is not None:
            raise _ApiError(409, WEBHOOK_CONFLICT)
        offset = _as_int(params.get("offset"), "offset", 0)
        limit = min(max(_as_int(params.get("limit"), "limit", 100), 1), 100)
        timeout = max(_as_float(params.get("timeout"), 0.0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None
        if offset:
            self._confirm(offset)
        # A newer getUpdates ends an older one still waiting, as in Telegram: two pollers
        # (two bot instances) show up as 409s instead of silently sharing the updates.
        self._poll_generation += 1
        generation = self._poll_generation
        if not self._pending and timeout > 0:
            self._polling += 1
            self._notify()  # a test may be waiting for the poll to be open
            try:
                await self._wait_until(
                    lambda: (
                        bool(self._pending)
                        or self._closing
                        or self._poll_generation != generation
                        or self._webhook_url is not None
                    ),
                    timeout,
                )
            finally:
                self._polling -= 1
            if self._poll_generation != generation:
                raise _ApiError(409, POLL_CONFLICT)
            if self._webhook_url is not None:
                raise _ApiError(409, WEBHOOK_CONFLICT)
        return [self._pending[index] for index in range(min(limit, len(self._pending)))]

    def _confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        if offset > 0:
            while self._pending and self._pending[0]["update_id"] < offset:
                self._pending.popleft()
        else:
            while len(self._pending) > -offset:
                self._pending.popleft()

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https"):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if not _is_loopback(parts.hostname):
            # Real Telegram wants HTTPS on a public host; the stub never leaves the machine.
            raise _ApiError(
                400, "Bad Request: bad webhook: the test stub delivers to loopback addresses only"
            )
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None
        self._webhook_url = str(url)
        self._webhook_secret = str(secret) if secret is not None else None
        self._webhook_info = {
            key: params[key] for key in ("max_connections", "ip_address") if params.get(key) is not None
        }
        self._poll_generation += 1  # ends a waiting getUpdates with 409
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        self._webhook_url = None
        self._webhook_secret = None
        self._webhook_info = {}
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_url is not None:
            info.update(self._webhook_info)
            info.setdefault("max_connections", 40)
            if self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self._webhook_error:
                    info[key] = self._webhook_error[key]
        return info

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        # With a parse_mode Telegram counts the text after markup is stripped; we only check plain text.
        if params.get("parse_mode") is None and _utf16_len(text) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        message = self._bot_message(chat_id, params)
        message["text"] = text
        return self._keep(message)

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        stored = self._file_param(params.get("photo"), "photos", "image/jpeg")
        message = self._bot_message(chat_id, params)
        message["photo"] = self._photo_sizes(stored)
        self._caption(message, params)
        return self._keep(message)

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        stored = self._file_param(params.get("document"), "documents", None)
        message = self._bot_message(chat_id, params)
        message["document"] = self._document(stored)
        self._caption(message, params)
        return self._keep(message)

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        if not params.get("action"):
            raise _ApiError(400, "Bad Request: action is empty")
        return True

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = _inline_markup(params.get("reply_markup"))
        if message["text"] == text and message.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        message["text"] = text
        return self._edited(message, markup)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        markup = _inline_markup(params.get("reply_markup"))
        if message.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        return self._edited(message, markup)

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._open_callbacks:
            raise _ApiError(400, QUERY_INVALID)
        self._open_callbacks.discard(query_id)
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise _ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not (
                isinstance(command, dict)
                and isinstance(command.get("command"), str)
                and _BOT_COMMAND_NAME.fullmatch(command["command"])
                and isinstance(command.get("description"), str)
                and 1 <= len(command["description"]) <= 256
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = self._commands_key(params)
        if commands:
            self._commands[key] = copy.deepcopy(commands)
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    # -- helpers -----------------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            changed = self._changed
            if deadline is None:
                await changed.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                return predicate()
        return True

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._finish(call)

    def _finish(self, call: Call) -> None:
        """The call got its answer: keep it in answer order for wait_for, wake the waiters."""
        self._finished.append(call)
        self._notify()

    def _take_fault(self, method: str) -> None:
        faults = self._faults.get(method)
        if not faults:
            return
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.popleft()
        raise _ApiError(fault.status, fault.description, fault.retry_after)

    def _take_delay(self, method: str, params: JSONDict) -> float:
        """Seconds to hold this successful call's answer (:meth:`answer_late`); 0: answer now."""
        delays = self._delays.get(method, [])
        for delay in delays:
            if delay.chat_id == params.get("chat_id"):
                delay.times -= 1
                if delay.times <= 0:
                    delays.remove(delay)
                return delay.seconds
        return 0.0

    def _enqueue(self, payload: JSONDict) -> JSONDict:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        kind = next(iter(payload))
        # Telegram stores only the update types the bot asked for (getUpdates/setWebhook allowed_updates).
        if self._allowed_updates is None or kind in self._allowed_updates:
            self._pending.append(update)
            self._notify()
        return copy.deepcopy(update)

    def _chat_for_push(self, user_id: int, chat_id: int | None, chat_type: str, first_name: str) -> JSONDict:
        if chat_type == "private":
            if chat_id is not None and chat_id != user_id:
                raise ValueError("a private chat's id is the member's user_id")
            chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        elif chat_type in ("group", "supergroup"):
            chat_id = -abs(user_id) if chat_id is None else chat_id
            if chat_id >= 0:
                raise ValueError("group chat ids are negative")
            chat = {"id": chat_id, "type": chat_type, "title": f"测试群 {abs(chat_id)}"}
        else:
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        self._chats[chat["id"]] = chat
        return dict(chat)

    def _chat(self, chat_id: int | str) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if isinstance(chat_id, str):
            return {
                "id": -1_001_000_000_000 - len(self._chats),
                "type": "channel",
                "username": chat_id.lstrip("@"),
            }
        if chat_id > 0:
            return {"id": chat_id, "type": "private"}
        return {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group"}

    def _next_message_id(self, chat_id: int | str) -> int:
        # One counter per chat, shared by both sides, as in Telegram's private chats and groups.
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _chat_id(self, params: JSONDict) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int | str):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _target_chat(self, params: JSONDict) -> int | str:
        """The chat of a send*/edit* call, refused with 403 when the member blocked the bot."""
        chat_id = self._chat_id(params)
        if chat_id in self._blocked:
            if isinstance(chat_id, int) and chat_id < 0:
                raise _ApiError(403, "Forbidden: bot was kicked from the group chat")
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _bot_message(self, chat_id: int | str, params: JSONDict) -> JSONDict:
        chat = self._chat(chat_id)
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _keep(self, message: JSONDict) -> JSONDict:
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _editable(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _edited(self, message: JSONDict, markup: JSONDict | None) -> JSONDict:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _caption(self, message: JSONDict, params: JSONDict) -> None:
        caption = params.get("caption")
        if isinstance(caption, str) and caption:
            if params.get("parse_mode") is None and _utf16_len(caption) > 1024:
                raise _ApiError(400, "Bad Request: message caption is too long")
            message["caption"] = caption

    def _store_file(
        self,
        data: bytes,
        folder: str,
        suffix: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> _StoredFile:
        self._file_seq += 1
        number = self._file_seq
        stored = _StoredFile(
            file_id=f"stub-{folder}-{number}",
            file_unique_id=f"u{number}",
            file_path=f"{folder}/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _file_param(self, value: Any, folder: str, mime_type: str | None) -> _StoredFile:
        """An uploaded file, a known file_id, or a URL (recorded, never fetched: no network)."""
        if isinstance(value, UploadedFile):
            name = value.filename
            suffix = _suffix(name) if name else ".jpg" if folder == "photos" else ""
            mime = mime_type or value.content_type or mimetypes.guess_type(name or "")[0]
            return self._store_file(value.data, folder, suffix, file_name=name, mime_type=mime)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = urlsplit(value).path.rsplit("/", 1)[-1] or None
            return self._store_file(b"", folder, _suffix(name or ""), file_name=name, mime_type=mime_type)
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _photo_sizes(self, stored: _StoredFile) -> list[JSONDict]:
        """Two sizes, largest last. The stub does not resize: both serve the same bytes."""
        size = len(stored.data)
        thumb = {"file_id": f"{stored.file_id}-s", "file_unique_id": f"{stored.file_unique_id}s"}
        if thumb["file_id"] not in self._files:
            small = _StoredFile(
                file_id=thumb["file_id"],
                file_unique_id=thumb["file_unique_id"],
                file_path=stored.file_path.replace("/file_", "/thumb_"),
                data=stored.data,
                mime_type=stored.mime_type,
            )
            self._files[small.file_id] = small
            self._files_by_path[small.file_path] = small
        return [
            {**thumb, "width": 90, "height": 90, "file_size": size},
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]

    def _document(self, stored: _StoredFile) -> JSONDict:
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _commands_key(self, params: JSONDict) -> tuple[str, str | None]:
        language = params.get("language_code") or None
        if language is not None and not (isinstance(language, str) and _LANGUAGE_CODE.fullmatch(language)):
            # Telegram takes ISO 639-1 two-letter codes only ("zh", not "zh_CN" or "zh-hans").
            raise _ApiError(400, "Bad Request: invalid language code specified")
        scope = params.get("scope")
        return _scope_key(scope if isinstance(scope, dict) else None), language

    # -- webhook delivery --------------------------------------------------------------------------

    async def _deliver_forever(self) -> None:
        """Deliver pending updates to the webhook one at a time, in order, redelivering failures."""
        attempts: dict[int, int] = {}
        while True:
            await self._wait_until(lambda: self._webhook_url is not None and bool(self._pending), None)
            update = self._pending[0]
            url, secret = self._webhook_url, self._webhook_secret
            assert url is not None
            update_id = update["update_id"]
            status, error = await self._post_update(url, secret, update)
            self.deliveries.append((update_id, status))
            if HTTPStatus.OK <= status < 300:
                attempts.pop(update_id, None)
                if self._pending and self._pending[0] is update:
                    self._pending.popleft()
                self._notify()
                continue
            self._webhook_error = {"last_error_date": int(time.time()), "last_error_message": error}
            attempts[update_id] = attempts.get(update_id, 0) + 1
            if attempts[update_id] >= self.webhook_attempts:
                attempts.pop(update_id)
                if self._pending and self._pending[0] is update:
                    self._pending.popleft()  # Telegram gives up in the end, too
            self._notify()
            if update_id in attempts:
                # The one deliberate delay: Telegram waits before redelivering.
                await self._wait_until(lambda: self._closing, self.webhook_retry_delay)

    async def _post_update(self, url: str, secret: str | None, update: JSONDict) -> tuple[int, str]:
        assert self._session is not None
        # PTB's webhook handler insists on exactly "application/json" (no charset).
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                return (
                    response.status,
                    f"Wrong response from the webhook: {response.status} {response.reason}",
                )
        except (ClientError, TimeoutError, OSError) as exc:
            return 0, f"Connection failed: {exc.__class__.__name__}"


def _decode(key: str, raw: str) -> Any:
    if key in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 and len(name) - dot <= 8 else ""


def _scope_key(scope: JSONDict | None) -> str:
    if not scope or scope.get("type") == "default":
        return "default"
    return json.dumps(scope, sort_keys=True)
