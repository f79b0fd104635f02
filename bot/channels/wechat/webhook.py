"""The WeChat channel: the 服务号's webhook in front of our core.

Like every adapter it verifies, parses into ``Incoming``, dispatches and
renders; what WeChat adds:

- **Retries.** WeChat resends a message up to three times when it has no
  answer within 5 s, sometimes while the first is still being handled. Each
  message is handled once, keyed by MsgId (events: FromUserName + CreateTime
  + Event), remembered in the ephemeral store (Redis when configured, so any
  process may get the retry) for as long as a captured copy of the call would
  still pass the timestamp check. A retry, or a replay, gets the reply the
  first copy got: a second copy never files a second suggestion. With Redis
  away the store carries on in this process's memory, so WeChat never sees a
  500 for it.
- **The 5-second budget.** The reply normally rides back on the HTTP answer
  (a passive reply). A handler still busy after ``reply_seconds`` gets
  "success" answered for it, and its reply follows as a customer-service
  message.
- **One message per answer.** A passive reply holds a single message; the rest
  of a long reply, and images, follow as customer-service messages once the
  HTTP answer is out.
- **Events.** Following the account opens the welcome and binding (a QR code
  whose scene is an invite code binds at once; any other scene, a poster's or a
  unit's, greets like a plain follow), unfollowing marks the account inactive,
  and the custom menu's CLICK keys are the router's own ``go:<feature>``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.replies import TextReply

from bot.channels.store_calls import call_store
from bot.channels.turns import Turns
from bot.channels.wechat.api import WeChatApiError
from bot.channels.wechat.render import Outgoing, TextOut, cdata_safe, render
from bot.channels.wechat.security import (
    MAX_BODY_BYTES,
    REMEMBER_SECONDS,
    CallParams,
    Envelope,
    Refused,
    ReplayGuard,
    check_call,
    parse_xml,
)
from bot.core_runner import Core
from bot.file_links import FileLinks
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming, Media, MediaKind, merge_replies
from models.accounts import Channel, deactivate_account
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.invites import normalise_code

log = logging.getLogger(__name__)

CHANNEL = Channel.WECHAT.value
SEEN_TTL = REMEMBER_SECONDS
"""WeChat's retries come within 15 s, but a captured call replays for as long as its timestamp
is accepted, which with WeChat's clock ahead of ours is up to ten minutes: remembered longer."""

SUCCESS = "success"
"""What WeChat takes as "answered, nothing to show": no retry, no error shown to the member."""

MENU_KEY_PREFIX = "go:"
SENDS_AT_ONCE = 8
"""Customer-service messages in flight per process."""
SEND_ATTEMPTS = 3
SEND_RETRY_SECONDS = 0.5
_OPENID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_LATE = "\x00late"  # the record of a message whose reply went as customer-service messages
_POLL_SECONDS = 0.05


class CustomerService(Protocol):
    """What the channel needs from the WeChat API: messages outside a passive reply, and media."""

    async def send_text(self, openid: str, text: str) -> object: ...

    async def send_image(self, openid: str, path: Path) -> object: ...

    async def download_media(self, media_id: str, path: Path) -> int: ...


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    app_id: str
    aes_key: str | None = None
    path: str = "/wechat"
    reply_seconds: float = 4.0
    media_dir: Path = Path("data/media")
    export_dir: Path | None = None  # the core's exports (CoreConfig.export_dir): a cadre's files
    file_links: FileLinks | None = None  # set: exports become download links (bot/file_links.py)


@dataclass(frozen=True)
class Received:
    """A parsed message with what every path needs checked: its type, sender and de-duplication key."""

    kind: str
    openid: str
    key: str
    message: Any  # wechatpy's message object, untyped


def _valid_openid(value: object) -> bool:
    return isinstance(value, str) and 6 <= len(value) <= 64 and set(value) <= _OPENID_CHARS


class WeChatChannel:
    """Serves ``/wechat`` and answers through the core."""

    def __init__(
        self,
        *,
        core: Core,
        sessions: SessionFactory,
        store: EphemeralStore,
        catalogues: Catalogues,
        config: WeChatConfig,
        service: CustomerService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core
        self.sessions = sessions
        self.store = store
        self.catalogues = catalogues
        self.config = config
        self.service = service
        self.clock = clock
        self.envelope = Envelope(token=config.token, app_id=config.app_id, aes_key=config.aes_key)
        self.replays = ReplayGuard(store)
        self.turns = Turns()
        self._answers: dict[str, asyncio.Future[str]] = {}
        self._late: set[asyncio.Task[None]] = set()
        self._sending = asyncio.Semaphore(SENDS_AT_ONCE)

    def route(self) -> Route:
        return Route(self.config.path, self._endpoint, methods=["GET", "POST"])

    async def stop(self) -> None:
        """Let replies that are still on their way go out."""
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)

    # -- HTTP ------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Every call answered with what WeChat expects: never a 500, which WeChat retries
        and then shows the member as "该公众号暂时无法提供服务"."""
        try:
            return await self._call(request)
        except Exception:
            incident = f"wx-{secrets.token_hex(4)}"
            log.exception("incident %s in the WeChat webhook", incident)
            return _success()

    async def _call(self, request: Request) -> Response:
        started = time.monotonic()  # WeChat's 5 seconds run from here, reading and decrypting included
        params = CallParams.of(request.query_params)
        try:
            check_call(self.config.token, params, self.clock())
            if request.method == "GET":
                # URL verification in the WeChat console: echo the challenge back.
                return PlainTextResponse(request.query_params.get("echostr", ""))
            body = await _read_capped(request)
            await call_store(self.store, lambda: self.replays.check(params, body))
            xml = self.envelope.open(params, body)
        except Refused as refused:
            log.warning("WeChat webhook call refused (%s) from %s", refused.reason, request.client)
            return PlainTextResponse("forbidden" if refused.status == 403 else "refused", refused.status)
        return await self._receive(xml, params, started)

    async def _receive(self, xml: bytes, params: CallParams, started: float) -> Response:
        received = _parse(xml)
        if received is None:
            return _success()
        key = received.key
        seen = f"wx:seen:{key}"
        first_copy = await call_store(
            self.store, lambda: self.store.set(seen, "1", SEEN_TTL, only_if_absent=True)
        )
        if not first_copy:
            answer = await self._answer_of(key, started)
            return self._passive(received, answer, params)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._answers[key] = future
        try:
            work = asyncio.create_task(self._serve(received))
            remaining = max(self.config.reply_seconds - (time.monotonic() - started), 0.0)
            try:
                outgoing = await asyncio.wait_for(asyncio.shield(work), remaining)
            except TimeoutError:
                log.info("WeChat reply to %s is late (%.1f s): it goes as customer service", key, remaining)
                await self._record(key, future, _LATE)
                self._send_late(received.openid, work)
                return _success()
            first = outgoing[0].text if outgoing and isinstance(outgoing[0], TextOut) else ""
            await self._record(key, future, first)
            response = self._passive(received, first, params)
            rest = outgoing[1:] if first else outgoing
            if rest:
                response.background = BackgroundTask(self._send_all, received.openid, rest)
            return response
        finally:
            self._answers.pop(key, None)

    def _passive(self, received: Received, text: str, params: CallParams) -> Response:
        if not text or text == _LATE:
            return _success()
        reply = TextReply(message=received.message, content=cdata_safe(text), time=int(self.clock()))
        xml = self.envelope.seal(reply.render(), params, self.clock())
        return Response(xml, media_type="application/xml")

    # -- handled once ----------------------------------------------------------------------------

    async def _record(self, key: str, future: asyncio.Future[str], answer: str) -> None:
        """Remember what the first copy answered, for retries here and in other processes."""
        await call_store(self.store, lambda: self.store.set(f"wx:answer:{key}", answer, SEEN_TTL))
        if not future.done():
            future.set_result(answer)

    async def _answer_of(self, key: str, started: float) -> str:
        """What the first copy of a retried message answered, once it has (or nothing, past the budget)."""
        deadline = started + self.config.reply_seconds
        future = self._answers.get(key)
        if future is not None:  # the first copy is being handled in this process
            try:
                return await asyncio.wait_for(asyncio.shield(future), max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                return ""
        while True:  # handled, or being handled, by another process: its record appears in the store
            answer = await call_store(self.store, lambda: self.store.get(f"wx:answer:{key}"))
            if answer is not None or time.monotonic() >= deadline:
                return answer or ""
            await asyncio.sleep(_POLL_SECONDS)

    # -- the core --------------------------------------------------------------------------------

    async def _serve(self, received: Received) -> list[Outgoing]:
        """Everything one message asks of us, as the WeChat messages to send back.

        Never raises: the member always hears something, and WeChat never sees a 500
        (it would retry, and then show "该公众号暂时无法提供服务").
        """
        try:
            return await self._answer(received)
        except Exception:
            incident = f"wx-{secrets.token_hex(4)}"
            log.exception("incident %s handling WeChat message %s", incident, received.key)
            _ = self.catalogues.get(None)
            text = _("抱歉，出了点问题（编号 {incident}）。请稍后再试，或联系本单位工会。")
            return [TextOut(text.format(incident=incident))]

    async def _answer(self, received: Received) -> list[Outgoing]:
        openid = received.openid
        async with self.turns.turn(openid):
            message = received.message
            if received.kind == "event" and _text(message.event) == "unsubscribe":
                await asyncio.to_thread(self._deactivate, openid)
                return []
            incoming = await self._incoming(received)
            if incoming is None:
                return []
            replies = await self.core.answer(incoming)
        outgoing: list[Outgoing] = []
        for reply in merge_replies(replies):
            outgoing.extend(
                render(
                    reply,
                    self.catalogues.get(reply.locale),
                    self.config.file_links,
                    self.config.export_dir,
                )
            )
        return outgoing

    async def _incoming(self, received: Received) -> Incoming | None:
        openid, message = received.openid, received.message
        kind = received.kind
        if kind == "text":
            return Incoming(CHANNEL, openid, text=_text(message.content))
        if kind == "voice":
            # WeChat's speech recognition, when the account has it switched on.
            # It closes every sentence with a full stop, which no form field wants ("1001。").
            heard = _text(message.recognition).strip().rstrip("。.！!？? ")
            if heard:
                return Incoming(CHANNEL, openid, text=heard, spoken=True)
            voice = Media(MediaKind.VOICE, _text(message.media_id), f"audio/{_text(message.format) or 'amr'}")
            return Incoming(CHANNEL, openid, media=voice)
        if kind == "image" and _text(message.media_id):
            try:
                photo = await self._photo(_text(message.media_id))
            except WeChatApiError:
                # WeChat keeps a member's media three days, and a download can fail: the core
                # says the photo did not arrive and asks its open question again.
                log.warning("could not fetch a photo from WeChat for %s", received.key, exc_info=True)
                photo = Media(MediaKind.PHOTO, "", "image/jpeg")
            return Incoming(CHANNEL, openid, media=photo)
        if kind == "event":
            return self._event(message, openid)
        # Video, location, links: nothing the core reads; it answers with its "please type" help.
        return Incoming(CHANNEL, openid, media=Media(MediaKind.DOCUMENT, f"wechat:{kind}"))

    def _event(self, message: Any, openid: str) -> Incoming | None:
        event = _text(message.event)
        if event in ("subscribe", "subscribe_scan", "scan"):
            scene = _text(getattr(message, "scene_id", "")).strip() if event != "subscribe" else ""
            return Incoming(CHANNEL, openid, text=_start_through(scene))
        if event == "click":
            key = _text(message.key)
            if key.startswith(MENU_KEY_PREFIX):
                return Incoming(CHANNEL, openid, button=key)
            log.warning("WeChat menu key %r is not ours: republish the menu", key[:64])
            return None
        return None  # VIEW (a link in the menu), LOCATION, template-send reports: nothing to answer

    async def _photo(self, media_id: str) -> Media:
        """Keep a member's photo in the media folder, as on Telegram: WeChat keeps it three days only."""
        folder = self.config.media_dir / CHANNEL
        path = folder / f"{_safe_name(media_id)}.jpg"
        size = path.stat().st_size if path.exists() else None
        if size is None:
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".jpg.part")
            size = await self.service.download_media(media_id, partial)
            partial.replace(path)
        return Media(MediaKind.PHOTO, str(path), "image/jpeg", size)

    def _deactivate(self, openid: str) -> None:
        with self.sessions() as session:
            deactivate_account(session, channel=CHANNEL, external_id=openid)

    # -- customer-service messages ---------------------------------------------------------------

    def _send_late(self, openid: str, work: asyncio.Task[list[Outgoing]]) -> None:
        async def send_when_ready() -> None:
            await self._send_all(openid, await work)

        task = asyncio.create_task(send_when_ready())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def _send_all(self, openid: str, messages: list[Outgoing]) -> None:
        """Send in order; stop at the first failure, since later parts would read out of context.

        A burst of late replies (a slow database) waits its turn here rather than
        opening hundreds of requests to WeChat at once.
        """
        async with self._sending:
            for item in messages:
                if not await self._send_one(openid, item):
                    return

    async def _send_one(self, openid: str, item: Outgoing) -> bool:
        """One customer-service message, retried when WeChat surely did not get it."""
        for attempt in range(SEND_ATTEMPTS):
            try:
                if isinstance(item, TextOut):
                    await self.service.send_text(openid, item.text)
                else:
                    await self.service.send_image(openid, Path(item.path))
                return True
            except WeChatApiError as error:
                # A message that may have arrived is not sent again: a member reads it twice.
                if not error.transient or error.maybe_delivered or attempt == SEND_ATTEMPTS - 1:
                    log.warning("customer-service message to a WeChat member failed: %r", error)
                    return False
                await asyncio.sleep(SEND_RETRY_SECONDS * 2**attempt)
            except Exception:
                log.exception("could not send a customer-service message to a WeChat member")
                return False
        return False


async def _read_capped(request: Request) -> bytes:
    """The body, refused past the limit without reading it all (a declared or an actual length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"declared body of {declared} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, f"body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _start_through(scene: str) -> str:
    """What following or scanning through a QR code says to the core.

    A scene shaped like an invite code is one (``/start CODE`` binds, or says the code is
    no longer valid); any other scene, a poster in the canteen or a unit's code, greets like
    a plain follow and is noted in the log, without the member, as where they came from.
    """
    if not scene:
        return "/start"
    if normalise_code(scene) is not None:
        return f"/start {scene}"
    log.info("a WeChat follow or scan through QR scene %r, which is not an invite code", scene[:64])
    return "/start"


def _message_of(fields: dict[str, Any]) -> Any:
    """wechatpy's message or event object for the parsed fields (wechatpy's ``parse_message``,
    which parses with xmltodict itself, minus the parsing)."""
    message_type = fields["MsgType"].lower()
    if message_type != "event" and not message_type.startswith("device_"):
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(fields)
    event_type = fields["Event"].lower() if "Event" in fields else None
    if event_type is None and message_type.startswith("device_"):
        event_type = message_type
    elif message_type.startswith("device_"):
        event_type = f"device_{event_type}"
    event_key = fields.get("EventKey")
    if event_type == "subscribe" and isinstance(event_key, str) and event_key:
        if event_key.startswith(("scanbarcode|", "scanimage|")):
            event_type = fields["Event"] = "subscribe_scan_product"
        elif event_key.startswith("qrscene_"):
            event_type = fields["Event"] = "subscribe_scan"
            fields["EventKey"] = event_key.removeprefix("qrscene_")
    return EVENT_TYPES.get(event_type, UnknownMessage)(fields)


def _parse(xml: bytes) -> Received | None:
    """The message, or None (logged) for XML that is hostile, malformed, of an unknown type or incomplete."""
    try:
        fields = parse_xml(xml).get("xml")
        if not isinstance(fields, dict):
            raise TypeError("no <xml> root with fields")
        message = _message_of(fields)
        kind, openid, created, msg_id = message.type, message.source, message.time, message.id
    except Refused as refused:
        log.warning("WeChat message refused: %s", refused.reason)
        return None
    except Exception as error:  # a missing root or type, a field that is not text, a number that is not one
        log.warning("malformed WeChat message: %s", type(error).__name__)
        return None
    if kind == "unknown" or not isinstance(created, int) or not created:
        log.warning("WeChat message of an unknown type or without CreateTime: %s", kind)
        return None
    if not _valid_openid(openid):
        log.warning("WeChat message without a usable FromUserName (type %s)", kind)
        return None
    if kind == "event":
        # WeChat's advice is sender + time; two menu taps within a second differ only in their key.
        event_key = _text(message._data.get("EventKey"))[:128]
        key = f"event:{openid}:{created}:{_text(message.event)}:{event_key}"
    elif isinstance(msg_id, int) and msg_id > 0:
        key = f"msg:{msg_id}"
    else:
        log.warning("WeChat %s message without MsgId", kind)
        return None
    return Received(kind=str(kind), openid=str(openid), key=key, message=message)


def _text(value: object) -> str:
    """A field's text; an element where text belongs (``<Content><a/></Content>``) counts as none."""
    return value if isinstance(value, str) else ""


def _safe_name(media_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in media_id)[:128]


def _success() -> Response:
    return PlainTextResponse(SUCCESS)
