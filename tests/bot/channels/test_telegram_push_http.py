"""PushRequest, the worker's Bot API client (aiohttp), against a socket-level stand-in that misbehaves on cue.

The Bot API stand-in (tests/e2e/telegram_stub.py) answers like Telegram; this
one answers like a network does on a bad day — chunked, closing, silent,
hanging up — so each way a request can end is seen as the worker must see it:
sent, not sent (send again), or uncertain (never blindly resend).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

import h11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram.push import TelegramPusher, push_bot
from bot.channels.telegram.push_http import PushRequest, RequestNotSent
from bot.channels.telegram.render import CallbackCodec
from bot.delivery.results import Outcome
from models.ephemeral import MemoryStore
from tests.bot.channels.test_telegram_push import TARGET, job, no_wait

TOKEN = "123456:TEST-TOKEN"
ANSWER = {"ok": True, "result": {"message_id": 77, "date": 0, "chat": {"id": 4242, "type": "private"}}}
ME = {"ok": True, "result": {"id": 123456, "is_bot": True, "first_name": "工会助手", "username": "UnionBot"}}


@dataclass
class Wire:
    """A Bot API at the socket level. ``script`` says how each next request is answered:
    ``ok`` (Content-Length), ``chunked``, ``close`` (answers, then hangs up), ``drop`` (hangs up
    without answering) or ``hang`` (never answers); ``ok`` when the script is spent."""

    script: list[str] = field(default_factory=list)
    connections: int = 0
    bodies: list[dict[str, object]] = field(default_factory=list)
    server: asyncio.Server | None = None
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        http = h11.Connection(h11.SERVER)
        try:
            while True:
                body = b""
                target = b""
                while True:
                    event = http.next_event()
                    if isinstance(event, h11.Request):
                        target = event.target
                    elif event is h11.NEED_DATA:
                        http.receive_data(await reader.read(65536))
                    elif isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    elif isinstance(event, h11.ConnectionClosed):
                        return
                self.bodies.append(json.loads(body) if body else {})
                how = self.script.pop(0) if self.script else "ok"
                if how == "drop":
                    return
                if how == "hang":
                    await asyncio.Event().wait()
                payload = json.dumps(ME if target.endswith(b"/getMe") else ANSWER).encode()
                headers = [("Content-Type", "application/json")]
                if how == "chunked":
                    headers.append(("Transfer-Encoding", "chunked"))
                    parts = [payload[:10], payload[10:]]
                else:
                    headers.append(("Content-Length", str(len(payload))))
                    parts = [payload]
                if how == "close":
                    headers.append(("Connection", "close"))
                out = http.send(h11.Response(status_code=200, headers=headers))
                for part in parts:
                    out += http.send(h11.Data(data=part))
                writer.write(out + http.send(h11.EndOfMessage()))
                await writer.drain()
                if how == "close":
                    return
                http.start_next_cycle()
        finally:
            writer.close()
            self.handlers.discard(task)

    async def stop(self) -> None:
        """Close the port and hang up on every connection still open (a ``hang`` waits forever)."""
        assert self.server is not None
        self.server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    stand_in = Wire()
    stand_in.server = await asyncio.start_server(stand_in.serve, "127.0.0.1", 0)
    yield stand_in
    await stand_in.stop()


def bot_on(port: int, request: PushRequest, scheme: str = "http") -> Bot:
    return Bot(TOKEN, base_url=f"{scheme}://127.0.0.1:{port}/bot", request=request)


async def send(bot: Bot, chat_id: int = 4242) -> object:
    return await bot.do_api_request(
        "sendmessage",  # as the pusher names it: no warning that Bot.send_message exists
        api_kwargs={"chat_id": chat_id, "text": "通知：明天停水", "reply_markup": {"inline_keyboard": []}},
    )


async def test_requests_share_a_few_kept_alive_connections(wire: Wire) -> None:
    request = PushRequest(connections=2)
    await request.initialize()
    bot = bot_on(wire.port, request)
    answers = await asyncio.gather(*(send(bot, 5000 + n) for n in range(20)))
    await request.shutdown()
    assert all(answer == ANSWER["result"] for answer in answers)
    assert wire.connections <= 2
    # One JSON object, as the Bot API documents: numbers stay numbers, objects stay objects.
    assert sorted(body["chat_id"] for body in wire.bodies) == list(range(5000, 5020))  # type: ignore[type-var]
    assert wire.bodies[0]["reply_markup"] == {"inline_keyboard": []}


async def test_a_chunked_answer_is_read_whole(wire: Wire) -> None:
    wire.script = ["chunked", "ok"]
    async with PushRequest(connections=1) as request:
        bot = bot_on(wire.port, request)
        assert await send(bot) == ANSWER["result"]
        assert await send(bot) == ANSWER["result"]
    assert wire.connections == 1


async def test_a_connection_the_server_closed_is_not_used_again(wire: Wire) -> None:
    wire.script = ["close", "ok"]
    async with PushRequest(connections=1) as request:
        bot = bot_on(wire.port, request)
        assert await send(bot) == ANSWER["result"]
        assert await send(bot) == ANSWER["result"]
    assert wire.connections == 2


async def test_a_connection_idle_past_its_keepalive_is_let_go(wire: Wire) -> None:
    async with PushRequest(connections=1, keepalive=0.0) as request:
        bot = bot_on(wire.port, request)
        assert await send(bot) == ANSWER["result"]
        assert await send(bot) == ANSWER["result"]
    assert wire.connections == 2


async def test_no_answer_in_time_may_have_arrived(wire: Wire) -> None:
    wire.script = ["hang"]
    async with PushRequest(connections=1, read_timeout=0.2) as request:
        with pytest.raises(TimedOut) as raised:
            await send(bot_on(wire.port, request))
    assert not isinstance(raised.value.__cause__, RequestNotSent)
    assert len(wire.bodies) == 1


async def test_a_connection_lost_before_the_answer_may_have_arrived(wire: Wire) -> None:
    wire.script = ["drop"]
    async with PushRequest(connections=1) as request:
        with pytest.raises(NetworkError) as raised:
            await send(bot_on(wire.port, request))
    assert not isinstance(raised.value.__cause__, RequestNotSent)


async def test_the_worker_calls_a_lost_or_unanswered_push_uncertain_and_the_next_goes_out(
    wire: Wire,
) -> None:
    wire.script = ["ok", "hang", "drop", "ok"]  # getMe first, as the worker starts

    async def on_blocked(chat_id: int) -> None:
        raise AssertionError("not blocked")

    bot = bot_on(wire.port, PushRequest(connections=1, read_timeout=0.2))
    telegram = TelegramPusher(bot, codec=CallbackCodec(MemoryStore()), on_blocked=on_blocked, connections=1)
    await telegram.start()
    try:
        outcomes = [(await telegram.send(job(), TARGET, no_wait)).outcome for _ in range(3)]
    finally:
        await telegram.close()
    assert outcomes == [Outcome.UNCERTAIN, Outcome.UNCERTAIN, Outcome.SENT]


async def test_waiting_too_long_for_a_free_connection_sends_nothing(wire: Wire) -> None:
    wire.script = ["hang"]
    async with PushRequest(connections=1, read_timeout=5.0) as request:
        bot = bot_on(wire.port, request)
        first = asyncio.ensure_future(send(bot))
        while not wire.bodies:  # the first request holds the only connection
            await asyncio.sleep(0.01)
        with pytest.raises(TimedOut) as raised:
            await bot.do_api_request("sendmessage", api_kwargs={"chat_id": 1, "text": "x"}, pool_timeout=0.1)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
    assert isinstance(raised.value.__cause__, RequestNotSent)
    assert len(wire.bodies) == 1


async def test_a_refused_connection_sends_nothing_and_the_worker_may_send_again() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with PushRequest(connections=1) as request:
        with pytest.raises(NetworkError) as raised:
            await send(bot_on(port, request))
    assert isinstance(raised.value.__cause__, RequestNotSent)


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, standing in for api.telegram.org's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def test_https_is_checked_against_the_trusted_certificates(tmp_path: Path) -> None:
    cert_file, key_file = certificate(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    stand_in = Wire()
    stand_in.server = await asyncio.start_server(stand_in.serve, "127.0.0.1", 0, ssl=served)
    try:
        trusting = ssl.create_default_context(cafile=str(cert_file))
        async with PushRequest(connections=1, tls=trusting) as request:
            bot = bot_on(stand_in.port, request, scheme="https")
            assert await send(bot) == ANSWER["result"]
            assert await send(bot) == ANSWER["result"]
        assert stand_in.connections == 1
        # The system's roots do not know this certificate: refused before anything is sent.
        async with PushRequest(connections=1) as request:
            with pytest.raises(NetworkError) as raised:
                await send(bot_on(stand_in.port, request, scheme="https"))
        assert isinstance(raised.value.__cause__, RequestNotSent)
        assert len(stand_in.bodies) == 2
    finally:
        await stand_in.stop()


async def test_push_bot_sends_through_push_request() -> None:
    bot = push_bot("http://127.0.0.1:9", TOKEN, connections=3)
    assert isinstance(bot.request, PushRequest)
