"""Small proxies on 127.0.0.1 for the tests of ``UNIONBOT_TELEGRAM_PROXY``: HTTP and SOCKS5.

Each one relays bytes to where the client asks and remembers every place it
was asked for, so a test can tell that the requests really went through it.
The HTTP proxy takes both forms clients use: ``CONNECT host:port`` (a tunnel,
as for https://) and a request line with the whole URL (``POST http://host/…``,
passed on as it is: the stand-in servers accept it). The SOCKS5 one speaks
RFC 1928's CONNECT, with no authentication or with a user name and password
(RFC 1929). Only loopback targets are relayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import struct
from abc import ABC, abstractmethod
from types import TracebackType
from urllib.parse import urlsplit

_LOOPBACK = ("localhost",)


def _loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class _Proxy(ABC):
    scheme = ""

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.user = user
        self.password = password
        self.targets: list[tuple[str, int]] = []  # every (host, port) asked for, in order
        self.upstream_ports: set[int] = set()  # the local ports of our connections to the targets
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        credentials = f"{self.user}:{self.password}@" if self.user else ""
        return f"{self.scheme}://{credentials}127.0.0.1:{self.port}"

    async def __aenter__(self) -> _Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    @abstractmethod
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the client's request for a target, then relay."""

    async def _connect(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.targets.append((host, port))
        upstream = await asyncio.open_connection(host, port)
        self.upstream_ports.add(upstream[1].get_extra_info("sockname")[1])
        return upstream

    async def _relay(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        target: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        await asyncio.gather(_pipe(client[0], target[1]), _pipe(target[0], client[1]))


class HttpProxy(_Proxy):
    """An HTTP proxy: CONNECT tunnels and absolute-form requests."""

    scheme = "http"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode()
        method, target, _version = request_line.split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            host, port_number = host.strip("[]"), int(port)
        else:
            parts = urlsplit(target)
            host, port_number = parts.hostname or "", parts.port or 80
        if not _loopback(host):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        upstream = await self._connect(host, port_number)
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            upstream[1].write(head)
        await self._relay((reader, writer), upstream)


class Socks5Proxy(_Proxy):
    """A SOCKS5 proxy (CONNECT only); with ``user`` and ``password`` it asks for them."""

    scheme = "socks5"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 2 if self.user else 0
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        writer.write(bytes([5, wanted]))
        if wanted == 2:
            _auth_version, user_length = await reader.readexactly(2)
            user = (await reader.readexactly(user_length)).decode()
            (password_length,) = await reader.readexactly(1)
            password = (await reader.readexactly(password_length)).decode()
            accepted = user == self.user and password == self.password
            writer.write(b"\x01\x00" if accepted else b"\x01\x01")
            if not accepted:
                await writer.drain()
                return
        _version, command, _reserved, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1 or not _loopback(host):
            writer.write(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")  # not allowed
            await writer.drain()
            return
        upstream = await self._connect(host, port)
        writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", port))
        await writer.drain()
        await self._relay((reader, writer), upstream)
