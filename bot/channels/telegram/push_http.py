"""The delivery worker's HTTP client for the Bot API: h11 on asyncio streams, keep-alive.

A push's CPU is mostly the HTTP client's. Under python-telegram-bot's default
HTTPXRequest each request passes through httpx, httpcore's pool, anyio's
streams and h11: about 0.8 ms of a push's 1.4 ms, which kept one worker
below 1,000 pushes a second (bench/RESULTS.md, "Delivery"). The worker's
requests are all alike, small JSON POSTs to one host, so this
:class:`~telegram.request.BaseRequest` (python-telegram-bot's documented
extension point for another HTTP library) speaks HTTP/1.1 with h11, the
parser httpcore itself uses, straight over asyncio streams, and keeps the
connections open. Everything above it, from building the request to
turning Telegram's answer into errors, stays python-telegram-bot's.

Uploads (a photo or file attached to a notice) are rare and large; they go
through an HTTPXRequest of their own, which knows multipart.

What a failure means for the worker is kept exact: a failure before the
request could leave (no connection, no free connection in time) is raised
from :class:`RequestNotSent`, so the pusher may send again; anything after
the first byte went out (a read timeout, a connection lost before the
answer) may have reached Telegram and is raised from another cause.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

_READ_CHUNK = 65_536


class RequestNotSent(Exception):
    """The request never left: no connection could be made or had in time."""


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


class _Connection:
    """One keep-alive connection: its streams and the h11 state machine of its exchanges."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.http = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def reusable(self, now: float, keepalive: float) -> bool:
        """Not closed by the server while idle (a FIN already read shows as EOF), nor idle too long.

        A connection a NAT or proxy dropped without a word looks open; a request sent on it
        would wait out the read timeout and end uncertain. Idle ones are let go early instead.
        """
        return (
            self.http.our_state is h11.IDLE
            and now - self.idle_since <= keepalive
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


def _chosen(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class PushRequest(BaseRequest):
    """Bot API requests for the delivery worker over at most ``connections`` kept-alive connections.

    Args:
        connections: connections kept to the Bot API; a request finding none free waits up to
            ``pool_timeout`` seconds, and is then not sent.
        read_timeout: seconds to wait for an answer once the request is out.
        connect_timeout, write_timeout, pool_timeout: as HTTPXRequest's.
        keepalive: seconds an idle connection is kept for the next request (httpx's default).
        tls: how to check the server's certificate; the system's trusted roots unless given.
    """

    def __init__(
        self,
        *,
        connections: int = 4,
        read_timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
        keepalive: float = 5.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._keepalive = keepalive
        self._free = asyncio.Semaphore(connections)
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._origins: dict[str, tuple[_Origin, str]] = {}
        self._tls = tls
        self._uploads = HTTPXRequest(
            connection_pool_size=1,
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.popleft().close()
        await self._uploads.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        origin, target = self._split(url)
        # The parameters as one JSON object, as the Bot API documents for application/json
        # (RequestData.json_payload would send every value as a JSON-encoded string).
        body = (
            json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":")).encode()
            if request_data is not None
            else b""
        )
        headers = [
            ("Host", origin.host_header),
            ("User-Agent", self.USER_AGENT),
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ]
        try:
            if self._free.locked():  # a timer only when there is something to wait for
                async with asyncio.timeout(_chosen(pool_timeout, self._pool_timeout)):
                    await self._free.acquire()
            else:
                await self._free.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: no free connection to the Bot API; the request was not sent"
            ) from RequestNotSent("pool timeout")
        try:
            connection = await self._checkout(origin, _chosen(connect_timeout, self._connect_timeout))
            done = False
            try:
                answer = await self._exchange(
                    connection,
                    h11.Request(method=method, target=target, headers=headers),
                    body,
                    _chosen(write_timeout, self._write_timeout),
                    _chosen(read_timeout, self._read_timeout),
                )
                done = True
            finally:
                self._checkin(origin, connection, keep=done)
            return answer
        finally:
            self._free.release()

    def _split(self, url: str) -> tuple[_Origin, str]:
        """The origin and request target of a URL; the Bot's URLs repeat, so each is parsed once."""
        known = self._origins.get(url)
        if known is None:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https") or not parts.hostname:
                # Not the URL itself: it carries the bot's token, and errors end up in logs.
                raise NetworkError(f"Cannot send to a {scheme or 'schemeless'} URL") from RequestNotSent(
                    "bad URL"
                )
            port = parts.port or (443 if scheme == "https" else 80)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            known = (_Origin(scheme, parts.hostname, port), target)
            if len(self._origins) < 1024:  # a Bot has a few dozen methods; never grow unbounded
                self._origins[url] = known
        return known

    async def _checkout(self, origin: _Origin, timeout: float | None) -> _Connection:
        idle = self._idle.setdefault(origin, deque())
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now, self._keepalive):
                return connection
            connection.close()
        if origin.scheme == "https" and self._tls is None:
            self._tls = ssl.create_default_context()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    origin.host,
                    origin.port,
                    ssl=self._tls if origin.scheme == "https" else None,
                    limit=_READ_CHUNK,
                )
        except TimeoutError:
            raise TimedOut("Timed out connecting to the Bot API") from RequestNotSent("connect timeout")
        except OSError as error:
            raise NetworkError(f"Cannot connect to the Bot API: {error!r}") from RequestNotSent(str(error))
        return _Connection(reader, writer)

    def _checkin(self, origin: _Origin, connection: _Connection, *, keep: bool) -> None:
        http = connection.http
        if keep and http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
            connection.idle_since = time.monotonic()
            self._idle[origin].append(connection)
        else:  # an error, a cancellation or "Connection: close": never reuse a half-spoken exchange
            connection.close()

    async def _exchange(
        self,
        connection: _Connection,
        request: h11.Request,
        body: bytes,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> tuple[int, bytes]:
        http = connection.http
        try:
            connection.writer.write(
                http.send(request) + http.send(h11.Data(data=body)) + http.send(h11.EndOfMessage())
            )
            if connection.writer.transport.get_write_buffer_size():  # else drain() returns at once
                async with asyncio.timeout(write_timeout):
                    await connection.writer.drain()
        except TimeoutError as error:
            raise TimedOut("Timed out sending to the Bot API") from error
        except (OSError, h11.LocalProtocolError) as error:
            raise NetworkError(f"Connection lost while sending: {error!r}") from error
        status = 0
        chunks: list[bytes] = []
        try:
            async with asyncio.timeout(read_timeout):
                while True:
                    event = http.next_event()
                    if event is h11.NEED_DATA:
                        http.receive_data(await connection.reader.read(_READ_CHUNK))
                    elif isinstance(event, h11.Response):
                        status = event.status_code
                    elif isinstance(event, h11.Data):
                        chunks.append(bytes(event.data))
                    elif isinstance(event, h11.EndOfMessage):
                        return status, b"".join(chunks)
                    elif isinstance(event, h11.ConnectionClosed):
                        raise h11.RemoteProtocolError("the Bot API closed the connection before answering")
        except TimeoutError as error:
            raise TimedOut("No answer from the Bot API in time") from error
        except (OSError, h11.RemoteProtocolError) as error:
            raise NetworkError(f"Connection lost before the answer: {error!r}") from error
