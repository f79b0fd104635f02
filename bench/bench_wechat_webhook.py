"""How fast the WeChat webhook answers in safe mode, next to a bare wechatpy echo webhook.

Both webhooks are Starlette routes served by the project's embedded uvicorn
(``bot.http_server.build_http_app`` + ``make_server``), each in a process of
its own. This process plays WeChat's servers: it signs and encrypts every
request as WeChat does (``tests/e2e/wechat_client.py``'s functions, over a
minimal keep-alive HTTP/1.1 client, one connection per sender), decrypts and
checks every answer, and runs the stand-in WeChat API (``tests/e2e/wechat_stub.py``)
that receives customer-service messages, which only a reply later than the
4-second budget produces.

- **full**: :class:`WeChatChannel` in safe mode with the real core on a fresh,
  migrated database (an SQLite file; a throwaway PostgreSQL schema, dropped
  after): signature, replay guard, decryption, de-duplication by MsgId, the
  core in a process of its own (as under python -m bot run), an encrypted passive reply. ``--members``
  members are bound to WeChat openids directly in the database; each first
  opens the language form (/lang, warm-up). The measured requests then
  alternate, per member, between answering it ("1" or "3": the locale is
  written, the form closed, the menu shown) and opening it again ("/lang":
  the dialog state is written), so every request reads and writes the database.
- **bare**: what wechatpy's documentation does, on the same server stack:
  ``check_signature``, ``WeChatCrypto.decrypt_message``, ``parse_message``,
  ``create_reply`` (a TextReply echoing the text), ``encrypt_message``. No
  database, no store.

Measured per bot (every request carries a fresh nonce and a distinct MsgId;
one member never has two requests in flight):

- **closed loop** at each ``--concurrency`` (20, 100, 200 senders; each its own
  member): a sender sends its next request when the answer to the previous
  one has arrived. ``--requests`` requests per level. Throughput = requests
  from the first send to the last answer; latency = send → answer.
- **open loop**: ``--rate`` requests a second (200) for ``--seconds`` (10),
  sent on schedule whatever the answers, each by an idle member (``--members``
  of them take turns). Latency runs from the *scheduled* send time, so any
  queueing (in the server, or for an idle member) shows.

Reported: requests/s, p50/p99 latency (nearest rank), answers that came late
("success", the reply then went as a customer-service message), CPU per
request of the server process and of this process (``getrusage``), full/bare
throughput ratio per concurrency, and where the server's CPU goes (signature,
decryption, parsing, the reply's encryption and the core, timed in the server
process; the rest is uvicorn/h11, Starlette, asyncio, the store and thread hops).

Goals (issue #4): on PostgreSQL, p99 under 100 ms at 200 requests/s (open
loop); and the full webhook at least half the bare one's throughput (each
concurrency, each database). Exit status 1 while a goal is missed.

Run: ``.venv/bin/python bench/bench_wechat_webhook.py [--runs 1] [--database sqlite|postgresql|both]
[--requests 2000] [--concurrency 20,100,200] [--rate 200] [--seconds 10] [--members 400] [--redis]``
(Linux or macOS: it uses ``resource``). The default database is both when PostgreSQL answers
on 127.0.0.1:5432, else SQLite. ``--redis`` uses 127.0.0.1:6379 db 13 as the store (flushed
before and after; nothing else is touched).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import itertools
import json
import logging
import math
import multiprocessing
import resource
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from common import fresh_database, machine, own_cpu, percentile, postgres_answers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

import bot.channels.wechat.webhook as webhook_module
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.webhook import WeChatChannel, WeChatConfig
from bot.core_runner import ProcessCore
from bot.http_server import build_http_app, make_server
from bot.settings import load_settings
from handlers.core.i18n import Catalogues
from models.accounts import Channel, bind_account, touch_account
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.ephemeral import EphemeralStore, MemoryStore, RedisStore
from tests.e2e.wechat_client import (
    ReplyError,
    aes_decrypt,
    aes_encrypt,
    cdata,
    decode_aes_key,
    parse_xml,
    sign,
)
from tests.e2e.wechat_stub import WeChatStub
from tests.factories import make_member

GOAL_RATIO = 0.5
GOAL_P99 = 0.100  # seconds, open loop at --rate on PostgreSQL
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

TOKEN = "bench-wechat-token"
APP_ID = "wx0123456789abcdef"
SECRET = "bench-secret"
ACCOUNT_ID = "gh_0123456789ab"  # the Official Account's original ID: ToUserName
PATH = "/wechat"
REPLY_SECONDS = 4.0  # the channel's default budget, and production's

ANSWERS = ("1", "/lang", "3", "/lang")  # 1 = 简体中文, 3 = English; then open the form again
OPEN_FORM = "/lang"
LANG_PROMPT = "请选择语言 / 請選擇語言 / Choose a language:"
MENU_PROMPT = "请选择要办理的事项："
LOCALE_OF_ANSWER = {"1": "zh_CN", "3": "en"}
WARM_SENDERS = 50

START_TIMEOUT = 60.0  # for a server process to start
STOP_TIMEOUT = 30.0
DRAIN_TIMEOUT = 180.0  # stopping waits for late replies to go out as customer-service messages
CHILD_LIFETIME = 1800.0  # a server process stops by itself after this, whatever happens here
PARTS = ("signature", "replay", "decrypt", "parse", "reply")  # timed on the server's event loop

log = logging.getLogger("bench")


# -- the server processes ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """What a server process needs to start (picklable: it crosses to a spawned process)."""

    kind: str  # "bare" or "full"
    aes_key: str
    api_url: str = ""
    database_url: str | None = None
    schema: str | None = None
    media_dir: str | None = None
    redis_url: str | None = None


@dataclass
class Counters:
    """CPU seconds by part (event-loop thread)."""

    parts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def timed(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function``, adding the CPU time of the calling thread to ``part``."""

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.thread_time() - start
                with self.lock:
                    self.parts[part] += elapsed

        return timed_call

    def snapshot(self) -> dict[str, float]:
        with self.lock:
            return dict(self.parts)


def bare_route(spec: ServerSpec, counters: Counters) -> Route:
    """wechatpy's documented safe-mode echo webhook, as an async Starlette endpoint."""
    crypto = WeChatCrypto(TOKEN, spec.aes_key, APP_ID)
    check = counters.timed("signature", check_signature)
    decrypt = counters.timed("decrypt", crypto.decrypt_message)
    parse = counters.timed("parse", parse_message)

    def reply_of(message: Any, nonce: str, timestamp: str) -> str:
        if message.type == "text":
            reply = create_reply(message.content, message)
        else:
            reply = create_reply("Sorry, can not handle this for now", message)
        return str(crypto.encrypt_message(reply.render(), nonce, timestamp))

    seal = counters.timed("reply", reply_of)

    async def endpoint(request: Request) -> Response:
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        try:
            check(TOKEN, query.get("signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            return PlainTextResponse("forbidden", 403)
        body = await request.body()
        try:
            xml = decrypt(body, query.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException):
            return PlainTextResponse("forbidden", 403)
        return Response(seal(parse(xml), nonce, timestamp), media_type="application/xml")

    return Route(PATH, endpoint, methods=["POST"])


class CountingHandler(logging.Handler):
    """Counts the server's warnings and errors and keeps the first few (printed by the benchmark).

    Under overload each late reply that cannot be sent logs a traceback; a thousand of them
    would bury the figures.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts = {"warnings": 0, "errors": 0}
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts["errors" if record.levelno >= logging.ERROR else "warnings"] += 1
        if len(self.first) < 3:
            cause = f" ({record.exc_info[1]!r})" if record.exc_info and record.exc_info[1] else ""
            self.first.append(f"{record.levelname} {record.name}: {record.getMessage()}{cause}"[:300])


def server_process(spec: ServerSpec, conn: Connection) -> None:
    """Entry point of a server process: serve until told to stop (or CHILD_LIFETIME passes)."""
    handler = CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    asyncio.run(_serve(spec, conn, handler))


async def _serve(spec: ServerSpec, conn: Connection, logged: CountingHandler) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[str] = asyncio.Queue()

    def receive() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the benchmark went away: stop
            loop.remove_reader(conn.fileno())
            inbox.put_nowait("stop")

    counters = Counters()
    core: ProcessCore | None = None
    engine: sa.Engine | None = None
    channel: WeChatChannel | None = None
    api: WeChatApi | None = None
    if spec.kind == "full":
        assert spec.database_url is not None
        assert spec.media_dir is not None
        url = spec.database_url
        if spec.schema:
            url += f"?options=-csearch_path%3D{spec.schema}"
        engine = make_engine(url)
        sessions = SessionFactory(engine)
        store: EphemeralStore = RedisStore.from_url(spec.redis_url) if spec.redis_url else MemoryStore()
        catalogues = Catalogues()
        # As python -m bot run does it: the core in a process of its own.
        settings = load_settings(
            database_url=url, data_dir=Path(spec.media_dir).parent, redis_url=spec.redis_url
        )
        core = ProcessCore(settings, catalogues)
        await core.start()
        api = WeChatApi(app_id=APP_ID, secret=SECRET, store=store, api_url=spec.api_url)
        config = WeChatConfig(
            token=TOKEN,
            app_id=APP_ID,
            aes_key=spec.aes_key,
            path=PATH,
            reply_seconds=REPLY_SECONDS,
            media_dir=Path(spec.media_dir),
        )
        channel = WeChatChannel(
            core=core, sessions=sessions, store=store, catalogues=catalogues, config=config, service=api
        )
        # Timers around the parts that run on the event loop (this process only; no code changes).
        # _endpoint and _receive look check_call and _parse up in the module at each call.
        setattr(webhook_module, "check_call", counters.timed("signature", webhook_module.check_call))  # noqa: B010
        setattr(webhook_module, "_parse", counters.timed("parse", webhook_module._parse))  # noqa: B010
        setattr(channel.replays, "check", counters.timed("replay", channel.replays.check))  # noqa: B010
        setattr(channel.envelope, "open", counters.timed("decrypt", channel.envelope.open))  # noqa: B010
        setattr(channel, "_passive", counters.timed("reply", channel._passive))  # noqa: B010
        route = channel.route()
    else:
        route = bare_route(spec, counters)

    # IPPROTO_TCP, not the default 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
    # proto says TCP, and accepted sockets inherit it. With 0 every keep-alive answer waited ~40 ms
    # for a delayed ACK (`python -m bot run` lets uvicorn bind, which gets this right).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = make_server(build_http_app([route]), "127.0.0.1", port)
    server_task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started and not server_task.done():
        await asyncio.sleep(0.01)
    if server_task.done():
        server_task.result()

    loop.add_reader(conn.fileno(), receive)
    conn.send(("ready", {"port": port}))
    try:
        while True:
            try:
                command = await asyncio.wait_for(inbox.get(), CHILD_LIFETIME)
            except TimeoutError:
                break
            if command == "stop":
                break
            if command == "mark":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                core_cpu = core.cpu_seconds() if core is not None else 0.0
                # The server's CPU is both its processes'.
                cpu = usage.ru_utime + usage.ru_stime + core_cpu
                conn.send(("mark", {"cpu": cpu, "parts": counters.snapshot(), "core": core_cpu}))
    finally:
        loop.remove_reader(conn.fileno())
        server.should_exit = True
        await server_task
        if channel is not None:
            await channel.stop()
        if core is not None:
            await core.close()
        if api is not None:
            await api.aclose()
        if engine is not None:
            engine.dispose()
        listener.close()
    conn.send(("stopped", {**logged.counts, "first": logged.first}))


class ServerProcess:
    """A server process started by the benchmark, with its end of the pipe."""

    def __init__(self, spec: ServerSpec) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with a running loop
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=server_process, args=(spec, child_end), name=f"bench-{spec.kind}"
        )
        self.process.start()
        child_end.close()

    async def receive(self, expected: str, timeout: float) -> dict[str, Any]:
        ready = await asyncio.to_thread(self.conn.poll, timeout)
        if not ready:
            raise TimeoutError(f"the server process said nothing for {timeout} s (waiting for {expected!r})")
        try:
            kind, payload = self.conn.recv()
        except EOFError:
            await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            raise RuntimeError(
                f"the server process ended (exit code {self.process.exitcode}) "
                f"while we waited for {expected!r}"
            ) from None
        if kind != expected:
            raise RuntimeError(f"the server process said {kind!r}, expected {expected!r}")
        return dict(payload)

    async def mark(self) -> dict[str, Any]:
        self.conn.send("mark")
        return await self.receive("mark", STOP_TIMEOUT)

    async def stop(self) -> dict[str, Any]:
        """Stop it once its late replies are out; what it logged (counts, the first few)."""
        try:
            if self.process.is_alive():
                self.conn.send("stop")
                return await self.receive("stopped", DRAIN_TIMEOUT)
        except (OSError, EOFError, TimeoutError, RuntimeError) as error:
            log.warning("server process did not stop cleanly: %s", error)
        finally:
            await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            if self.process.is_alive():
                self.process.terminate()
                await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            self.conn.close()
        return {}


# -- WeChat's side: requests, answers, checks ----------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to the server; cheaper than a general client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, target: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (
                int(value)
                for name, _, value in (line.partition(b":") for line in lines[1:])
                if name.strip().lower() == b"content-length"
            ),
            None,
        )
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {lines[0]!r}")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with suppress(OSError):
            await self.writer.wait_closed()


@dataclass
class Member:
    """One member's dialog: first the form is opened (warm-up), then ANSWERS in turn."""

    openid: str
    warmed: bool = False
    step: int = 0

    def text(self) -> str:
        return ANSWERS[self.step % len(ANSWERS)] if self.warmed else OPEN_FORM

    def advance(self) -> None:
        if self.warmed:
            self.step += 1
        self.warmed = True


Check = Callable[[str, str], str | None]  # (text sent, reply content) → complaint or None


class Late(Exception):
    """The webhook answered "success": its reply went (or goes) as a customer-service message."""


class WeChatSide:
    """Signs and encrypts requests as WeChat does; opens and checks the answers."""

    def __init__(self, aes_key: str, check: Check) -> None:
        self.key = decode_aes_key(aes_key)
        self.check = check
        prefix = secrets.token_hex(4)
        self._nonces = (f"{prefix}{n}" for n in itertools.count())
        self._msg_ids = itertools.count(24_000_000_000_000_000 + secrets.randbelow(10**12))

    def request(self, openid: str, text: str) -> tuple[str, bytes]:
        """The query string and body of a text message in safe mode: fresh nonce, new MsgId."""
        timestamp, nonce = str(int(time.time())), next(self._nonces)
        inner = (
            f"<xml><ToUserName>{cdata(ACCOUNT_ID)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(text)}</Content><MsgId>{next(self._msg_ids)}</MsgId></xml>"
        ).encode()
        encrypted = aes_encrypt(inner, self.key, APP_ID)
        query = {
            "signature": sign(TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
            "encrypt_type": "aes",
            "msg_signature": sign(TOKEN, timestamp, nonce, encrypted),
        }
        body = f"<xml><ToUserName>{cdata(ACCOUNT_ID)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        return f"{PATH}?{urlencode(query)}", body.encode()

    def answer(self, openid: str, text: str, status: int, body: bytes) -> str | None:
        """A complaint about the answer, or None when it is right. Raises Late for "success"."""
        if status != 200:
            return f"HTTP {status}: {body[:200]!r}"
        if body.strip() == b"success":
            raise Late
        try:
            outer = parse_xml(body)
            encrypted = str(outer.get("Encrypt", ""))
            expected = sign(TOKEN, str(outer.get("TimeStamp", "")), str(outer.get("Nonce", "")), encrypted)
            if not hmac.compare_digest(expected, str(outer.get("MsgSignature", ""))):
                return "the reply's MsgSignature does not match"
            reply = parse_xml(aes_decrypt(encrypted, self.key, APP_ID))
        except ReplyError as error:
            return str(error)
        if reply.get("ToUserName") != openid or reply.get("FromUserName") != ACCOUNT_ID:
            return f"a reply addressed to {reply.get('ToUserName')!r} from {reply.get('FromUserName')!r}"
        if reply.get("MsgType") != "text":
            return f"a {reply.get('MsgType')!r} reply"
        return self.check(text, str(reply.get("Content", "")))


def full_check(catalogues: Catalogues) -> Check:
    lang_prompts = {catalogues.get(locale)(LANG_PROMPT) for locale in ("zh_CN", "zh_TW", "en")}
    menus = {answer: catalogues.get(locale)(MENU_PROMPT) for answer, locale in LOCALE_OF_ANSWER.items()}

    def check(text: str, got: str) -> str | None:
        if text == OPEN_FORM:
            if any(got.startswith(prompt) for prompt in lang_prompts):
                return None
            return f"{text!r} answered {got[:120]!r}, not the language form"
        if menus[text] in got:  # the confirmation and the menu travel as one message
            return None
        return f"{text!r} answered {got[:120]!r}, not the menu in its language"

    return check


def echo_check(text: str, got: str) -> str | None:
    return None if got == text else f"{text!r} echoed as {got!r}"


@dataclass
class Phase:
    """One measured load: its requests, when they went and came back."""

    name: str
    requests: int
    started: float  # first send (closed loop) or first scheduled send (open loop)
    finished: float  # last answer
    latencies: list[float]  # seconds: send → answer (closed), scheduled send → answer (open)
    late: int  # answered "success": the reply went as a customer-service message
    lags: list[float] = field(default_factory=list)  # open loop: scheduled → actually sent

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


class Exchanges:
    """Sends requests for members and records the answers; fails the run on a wrong one."""

    def __init__(self, side: WeChatSide, timeout: float) -> None:
        self.side = side
        self.timeout = timeout
        self.late = 0
        self.problems: list[str] = []

    async def exchange(self, connection: HttpConnection, member: Member) -> float:
        """One request for ``member``; returns when its answer arrived (perf_counter)."""
        text = member.text()
        target, body = self.side.request(member.openid, text)
        try:
            status, answer = await asyncio.wait_for(connection.post(target, body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
            raise RuntimeError(
                f"{member.openid} {text!r}: no answer ({type(error).__name__}: {error})"
            ) from None
        done = time.perf_counter()
        try:
            complaint = self.side.answer(member.openid, text, status, answer)
        except Late:
            self.late += 1
        else:
            if complaint is not None:
                self.problems.append(f"{member.openid}: {complaint}")
                raise RuntimeError(f"a wrong answer: {self.problems[0]}")
        member.advance()
        return done


async def closed_loop(port: int, exchanges: Exchanges, plan: Sequence[Sequence[Member]], name: str) -> Phase:
    """Each sender works through its members' requests one at a time, on its own connection."""
    latencies: list[float] = []
    starts: list[float] = []
    ends: list[float] = []
    late_before = exchanges.late

    async def sender(members: Sequence[Member]) -> None:
        connection = await HttpConnection.open(port)
        try:
            for member in members:
                sent = time.perf_counter()
                done = await exchanges.exchange(connection, member)
                starts.append(sent)
                ends.append(done)
                latencies.append(done - sent)
        finally:
            await connection.close()

    await asyncio.gather(*(sender(members) for members in plan))
    return Phase(name, len(latencies), min(starts), max(ends), latencies, exchanges.late - late_before)


async def open_loop(
    port: int, exchanges: Exchanges, members: Sequence[Member], rate: float, seconds: float
) -> Phase:
    """``rate`` requests a second on schedule; each by the member idle longest; connections as needed."""
    count = max(1, round(rate * seconds))
    idle: asyncio.Queue[Member] = asyncio.Queue()
    for member in members:
        idle.put_nowait(member)
    connections: deque[HttpConnection] = deque()
    opened: list[HttpConnection] = []
    for _ in range(min(64, len(members))):
        opened.append(await HttpConnection.open(port))
    connections.extend(opened)
    latencies: list[float] = []
    lags: list[float] = []
    ends: list[float] = []
    late_before = exchanges.late

    async def send(due: float, member: Member) -> None:
        if connections:
            connection = connections.popleft()
        else:
            connection = await HttpConnection.open(port)
            opened.append(connection)
        lags.append(time.perf_counter() - due)
        done = await exchanges.exchange(connection, member)
        connections.append(connection)
        idle.put_nowait(member)
        ends.append(done)
        latencies.append(done - due)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    try:
        for number in range(count):
            due = start + number / rate
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            failed = next((task for task in tasks if task.done() and task.exception()), None)
            if failed is not None:
                failed.result()  # raises what went wrong
            # Waits only when every member has a request in flight.
            member = await asyncio.wait_for(idle.get(), exchanges.timeout)
            tasks.append(asyncio.create_task(send(due, member)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for connection in opened:
            await connection.close()
    return Phase(f"open {rate:g}/s", count, start, max(ends), latencies, exchanges.late - late_before, lags)


# -- databases -----------------------------------------------------------------------------------


def openid_of(number: int) -> str:
    return f"oBench_{number:06d}_member"


def seed(sessions: SessionFactory, members: int) -> None:
    now = utcnow()
    with sessions() as session:
        for n in range(members):
            member = make_member(
                session, employee_no=f"{300_000 + n}", name=f"会员{n:03d}", phone=f"137{n:08d}"
            )
            account = touch_account(session, channel=Channel.WECHAT.value, external_id=openid_of(n), now=now)
            bind_account(session, account=account, member=member, now=now)


def flush_redis(url: str) -> None:
    """Empty the benchmark's own Redis database (db 13), nothing else."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# -- one bot -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What the server process spent during a phase."""

    cpu: float  # CPU seconds of the server, its core's process included
    parts: dict[str, float]  # CPU seconds of the timed parts on the event loop
    core_cpu: float  # CPU seconds of the core's process (0 for the bare webhook)

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> Usage:
        parts = {part: after["parts"][part] - before["parts"][part] for part in PARTS}
        return cls(after["cpu"] - before["cpu"], parts, after["core"] - before["core"])


@dataclass
class Result:
    phase: Phase
    usage: Usage
    load_cpu: float  # CPU seconds of this process (WeChat's side) meanwhile


def warm_plan(members: Sequence[Member]) -> list[list[Member]]:
    return [list(members[n::WARM_SENDERS]) for n in range(min(WARM_SENDERS, len(members)))]


async def measure_bot(
    spec: ServerSpec, label: str, args: argparse.Namespace, check: Check, stub: WeChatStub
) -> dict[str, Result]:
    """Start the bot, warm it up, run every closed-loop level and the open loop; stop it."""
    members = [Member(openid_of(n)) for n in range(args.members)]
    exchanges = Exchanges(WeChatSide(spec.aes_key, check), args.timeout)
    late_sends = len(stub.sent("/cgi-bin/message/custom/send"))
    results: dict[str, Result] = {}
    server = ServerProcess(spec)
    try:
        port = int((await server.receive("ready", START_TIMEOUT))["port"])
        await closed_loop(port, exchanges, warm_plan(members), "warm-up")  # every member opens the form

        async def measured(load: Coroutine[Any, Any, Phase]) -> Result:
            await asyncio.sleep(0.2)
            before, load_before = await server.mark(), own_cpu()
            phase = await load
            after, load_after = await server.mark(), own_cpu()
            return Result(phase, Usage.between(before, after), load_after - load_before)

        for senders in args.concurrency:
            each = math.ceil(args.requests / senders)
            plan = [[members[n]] * each for n in range(senders)]
            name = f"closed {senders}"
            print(f"  {label}: {name} ({each * senders} requests)…", flush=True)
            results[name] = await measured(closed_loop(port, exchanges, plan, name))
        print(f"  {label}: open loop, {args.rate:g}/s for {args.seconds:g} s…", flush=True)
        result = await measured(open_loop(port, exchanges, members, args.rate, args.seconds))
        results[result.phase.name] = result
    finally:
        logged = await server.stop()  # once the late replies went out as customer-service messages
    delivered = len(stub.sent("/cgi-bin/message/custom/send")) - late_sends
    if exchanges.late or logged.get("warnings") or logged.get("errors"):
        print(
            f"  {label}: {exchanges.late} replies late (answered 'success'), {delivered} customer-service "
            f"messages delivered; the server logged {logged.get('errors', 0)} errors and "
            f"{logged.get('warnings', 0)} warnings"
            + "".join(f"\n    {line}" for line in logged.get("first", []))
        )
    return results


async def run(
    args: argparse.Namespace, databases: list[str], workdir: Path
) -> dict[str, list[dict[str, Result]]]:
    catalogues = Catalogues()
    results: dict[str, list[dict[str, Result]]] = {}
    async with WeChatStub(app_id=APP_ID, secret=SECRET) as stub:
        for number in range(args.runs):
            print(f"run {number + 1} of {args.runs}…", flush=True)
            aes_key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            bare = ServerSpec("bare", aes_key)
            results.setdefault("bare", []).append(await measure_bot(bare, "bare", args, echo_check, stub))
            for kind in databases:
                with fresh_database(
                    kind,
                    workdir,
                    args.postgres_url,
                    seed=lambda sessions: seed(sessions, args.members),
                    schema_prefix="unionbot_bench_wx",
                ) as db:
                    spec = ServerSpec(
                        "full",
                        aes_key,
                        api_url=stub.url,
                        database_url=db.url,
                        schema=db.schema,
                        media_dir=str(workdir / "media"),
                        redis_url=REDIS_URL if args.redis else None,
                    )
                    if args.redis:
                        flush_redis(REDIS_URL)
                    label = f"full, {kind}"
                    try:
                        results.setdefault(label, []).append(
                            await measure_bot(spec, label, args, full_check(catalogues), stub)
                        )
                    finally:
                        if args.redis:
                            flush_redis(REDIS_URL)
    return results


# -- report --------------------------------------------------------------------------------------


def median(values: Iterator[float] | Sequence[float]) -> float:
    return statistics.median(list(values))


def closed_per_request(runs_of: Sequence[dict[str, Result]], value: Callable[[Result], float]) -> float:
    """Milliseconds of ``value`` per request over the closed-loop levels of each run; median of runs."""
    per_run = []
    for run_results in runs_of:
        closed = [result for name, result in run_results.items() if name.startswith("closed")]
        per_run.append(sum(value(r) for r in closed) / sum(r.phase.requests for r in closed))
    return median(per_run) * 1000


def part_of(part: str) -> Callable[[Result], float]:
    return lambda result: result.usage.parts[part]


def report(results: dict[str, list[dict[str, Result]]], args: argparse.Namespace) -> bool:
    """Print the tables (medians over the runs) and say whether the goals were met."""
    runs = args.runs
    print(
        "\nclosed loop: requests from the first send to the last answer, latency send → answer; "
        "open loop: latency from the scheduled send"
        + (f"; medians of {runs} runs, req/s min–max in brackets" if runs > 1 else "")
    )
    header = (
        f"{'bot':<16} {'load':<12} {'reqs':>5} {'req/s':>15} {'p50 ms':>7} {'p99 ms':>7} {'late':>5} "
        f"{'server CPU ms/req':>17} {'WeChat side ms/req':>18} {'vs bare':>7}"
    )
    print(header)
    print("-" * len(header))
    bare_rates = {phase: median(r[phase].phase.rate for r in results["bare"]) for phase in results["bare"][0]}
    ratios_ok = True
    p99_goal: bool | None = None
    for label, runs_of in results.items():
        for phase in runs_of[0]:
            rows = [r[phase] for r in runs_of]
            rates = [row.phase.rate for row in rows]
            rate = median(rates)
            p99 = median(percentile(row.phase.latencies, 0.99) for row in rows)
            closed = phase.startswith("closed")
            ratio = f"{rate / bare_rates[phase]:7.2f}" if closed else f"{'':7}"
            spread = f"{rate:.0f} ({min(rates):.0f}–{max(rates):.0f})" if runs > 1 else f"{rate:.0f}"
            print(
                f"{label:<16} {phase:<12} {rows[0].phase.requests:>5} {spread:>15} "
                f"{median(percentile(row.phase.latencies, 0.50) for row in rows) * 1000:>7.0f} "
                f"{p99 * 1000:>7.0f} {median(row.phase.late for row in rows):>5.0f} "
                f"{median(row.usage.cpu / row.phase.requests for row in rows) * 1000:>17.2f} "
                f"{median(row.load_cpu / row.phase.requests for row in rows) * 1000:>18.2f} {ratio}"
            )
            if label != "bare" and closed:
                ratios_ok = ratios_ok and rate / bare_rates[phase] >= GOAL_RATIO
            if label == "full, postgresql" and not closed:
                p99_goal = p99 < GOAL_P99 and median(row.phase.late for row in rows) == 0
            if not closed:
                lag = median(percentile(row.phase.lags, 0.99) for row in rows) * 1000
                print(
                    f"{'':<16} {'':<12} (p99 of scheduled → sent, waiting for an idle member included: "
                    f"{lag:.0f} ms)"
                )

    print("\nserver CPU per request (closed-loop levels together), ms:")
    print(
        f"{'bot':<16} {'total':>6} " + " ".join(f"{part:>9}" for part in PARTS) + f" {'core':>6} {'rest':>6}"
    )
    for label, runs_of in results.items():
        total = closed_per_request(runs_of, lambda r: r.usage.cpu)
        parts = {part: closed_per_request(runs_of, part_of(part)) for part in PARTS}
        core = closed_per_request(runs_of, lambda r: r.usage.core_cpu)
        rest = total - sum(parts.values()) - core
        print(
            f"{label:<16} {total:>6.2f} "
            + " ".join(f"{parts[part]:>9.2f}" for part in PARTS)
            + f" {core:>6.2f} {rest:>6.2f}"
        )
    print("(core: the core's process, where the full bot runs Bot.handle as under python -m bot run)")

    print(
        f"\ngoal: full at least {GOAL_RATIO:.0%} of the bare webhook's throughput at every concurrency: "
        f"{'met' if ratios_ok else 'MISSED'}"
    )
    if p99_goal is None:
        print(f"goal: p99 under {GOAL_P99 * 1000:.0f} ms at {args.rate:g}/s on PostgreSQL: not measured")
    else:
        print(
            f"goal: p99 under {GOAL_P99 * 1000:.0f} ms at {args.rate:g}/s on PostgreSQL (no late replies): "
            f"{'met' if p99_goal else 'MISSED'}"
        )
    return ratios_ok and p99_goal is not False


def figures(results: dict[str, list[dict[str, Result]]]) -> dict[str, dict[str, float]]:
    """Medians by bot, for a script (``--json``), the closed-loop levels together and the open loop apart."""
    bare = results["bare"]
    bare_cpu = closed_per_request(bare, lambda r: r.usage.cpu)
    closed_names = [name for name in bare[0] if name.startswith("closed")]
    found: dict[str, dict[str, float]] = {}
    for label, runs_of in results.items():
        cpu = closed_per_request(runs_of, lambda r: r.usage.cpu)
        entry = {
            "cpu_ms_per_request": cpu,
            "core_cpu_ms_per_request": closed_per_request(runs_of, lambda r: r.usage.core_cpu),
            "cpu_bare_over_bot": bare_cpu / cpu,
            # The throughput against the bare webhook's, the closed-loop levels' geometric mean.
            "rate_vs_bare": math.prod(
                median(r[name].phase.rate for r in runs_of) / median(r[name].phase.rate for r in bare)
                for name in closed_names
            )
            ** (1 / len(closed_names)),
        }
        opened = [name for name in runs_of[0] if not name.startswith("closed")]
        if opened:
            rows = [r[opened[0]] for r in runs_of]
            entry["open_p99_ms"] = median(percentile(row.phase.latencies, 0.99) for row in rows) * 1000
            entry["open_late"] = median(row.phase.late for row in rows)
        found[label] = entry
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="requests per closed-loop level (2000)")
    parser.add_argument(
        "--concurrency",
        type=lambda value: [int(part) for part in value.split(",")],
        default=[20, 100, 200],
        help="closed-loop senders, comma-separated (20,100,200)",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: requests a second (200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: how long (10)")
    parser.add_argument("--members", type=int, default=400, help="members bound in the database (400)")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        help="default: both when PostgreSQL answers on 127.0.0.1:5432, else sqlite",
    )
    parser.add_argument("--redis", action="store_true", help=f"the store in Redis ({REDIS_URL}, flushed)")
    parser.add_argument("--runs", type=int, default=1, help="repeat everything; the table shows medians")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per request")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="write the medians to this file as well (bench/check.py)")
    args = parser.parse_args(argv[1:])
    if args.runs < 1 or args.rate <= 0 or args.seconds <= 0 or min(args.concurrency) < 1:
        parser.error("need --runs ≥ 1, --rate > 0, --seconds > 0 and every --concurrency ≥ 1")
    if args.members < max(args.concurrency):
        parser.error("need --members ≥ the largest --concurrency (one member per sender)")
    if args.requests < max(args.concurrency):
        parser.error("need --requests ≥ the largest --concurrency")
    if sa.engine.make_url(args.postgres_url).host not in LOOPBACK:
        parser.error("the benchmark only talks to a PostgreSQL on 127.0.0.1")

    logging.basicConfig(level=logging.WARNING)
    postgres = postgres_answers(args.postgres_url)
    choice = args.database or ("both" if postgres else "sqlite")
    databases = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in databases and not postgres:
        parser.error(f"nothing answers at {args.postgres_url}")
    libraries = ("uvicorn", "h11", "starlette", "wechatpy", "cryptography")
    store = "store: Redis 127.0.0.1 db 13" if args.redis else "store: in process"
    print(f"machine: {machine(databases, args.postgres_url, libraries)}, {store}")
    print(
        f"safe mode; closed loop at {', '.join(map(str, args.concurrency))} senders, "
        f"{args.requests} requests each level; open loop at {args.rate:g}/s for {args.seconds:g} s "
        f"over {args.members} members; "
        f"databases: {', '.join(databases)}"
    )
    with tempfile.TemporaryDirectory(prefix="unionbot-bench-") as folder:
        results = asyncio.run(run(args, databases, Path(folder)))
    met = report(results, args)
    if args.json is not None:
        args.json.write_text(json.dumps(figures(results), indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
