"""The delivery worker's HTTP client for the Bot API: aiohttp, through the proxy when one is set.

python-telegram-bot's default HTTPXRequest spends most of a push's CPU in
httpx's layers (httpcore's pool, anyio's streams), which kept one worker far
below a thousand pushes a second. The worker's requests are all alike, small
JSON POSTs to one host, so this :class:`~telegram.request.BaseRequest`
(python-telegram-bot's documented extension point for another HTTP library)
sends them with aiohttp: one session, a few kept-alive connections. It costs
about what the hand-written HTTP/1.1 client it replaced did (bench/RESULTS.md,
"Delivery: the worker's client"), and brings what that one lacked, proxies:
HTTP and SOCKS5 through aiohttp-socks, the proxy resolving Telegram's name
(api.telegram.org may not resolve where a proxy is needed). Everything above
it, from building the request to turning Telegram's answer into errors, stays
python-telegram-bot's.

Uploads (a photo or file attached to a notice) are rare and large; they go
through an HTTPXRequest of their own, which knows multipart, through the same
proxy.

What a failure means for the worker is kept exact: a failure before the
request could leave (no connection, no free connection in time, the proxy
refusing) is raised from :class:`RequestNotSent`, so the pusher may send
again; anything after the request went out (a read timeout, a connection lost
before the answer) may have reached Telegram and is raised from another cause.
"""

from __future__ import annotations

import asyncio
import json
import ssl

import aiohttp
from aiohttp_socks import ProxyConnectionError, ProxyConnector, ProxyError, ProxyTimeoutError
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# Failures while getting a connection (the proxy's included): the request never left.
_NOT_SENT = (aiohttp.ClientConnectorError, ProxyConnectionError, ProxyError)
_NOT_SENT_IN_TIME = (aiohttp.ConnectionTimeoutError, ProxyTimeoutError)


class RequestNotSent(Exception):
    """The request never left: no connection could be made or had in time."""


def _chosen(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    # The wait for a free connection is ours (PushRequest._free), so aiohttp's never waits.
    return aiohttp.ClientTimeout(connect=connect, sock_connect=connect, sock_read=read)


class PushRequest(BaseRequest):
    """Bot API requests for the delivery worker over at most ``connections`` kept-alive connections.

    Args:
        connections: connections kept to the Bot API; a request finding none free waits up to
            ``pool_timeout`` seconds, and is then not sent.
        read_timeout: seconds to wait for an answer once the request is out.
        connect_timeout, write_timeout, pool_timeout: as HTTPXRequest's.
        keepalive: seconds an idle connection is kept for the next request.
        tls: how to check the server's certificate; the system's trusted roots unless given.
        proxy: ``http://``, ``socks5://`` or ``socks5h://`` (``user:password@`` allowed), or None.
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
        proxy: str | None = None,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._keepalive = keepalive
        self._tls = tls
        self._proxy = proxy
        self._timeout = _timeout(connect_timeout, read_timeout)
        # Requests beyond the connections wait here, with the pool timeout: aiohttp's own wait for a
        # free connection counts against its connect timeout, which would blur "not sent in time".
        self._free = asyncio.Semaphore(connections)
        self._headers = {"Content-Type": "application/json", "User-Agent": self.USER_AGENT}
        self._session: aiohttp.ClientSession | None = None
        self._uploads = HTTPXRequest(
            connection_pool_size=1,
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
            proxy=proxy,
        )

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    def _connector(self) -> aiohttp.BaseConnector:
        # keepalive 0: aiohttp's own way to say "never keep one" is force_close.
        options: dict[str, object] = {
            "limit": self._connections,
            "ssl": self._tls if self._tls is not None else True,
        }
        if self._keepalive > 0:
            options["keepalive_timeout"] = self._keepalive
        else:
            options["force_close"] = True
        if self._proxy is None:
            return aiohttp.TCPConnector(**options)  # type: ignore[arg-type]
        # python-socks reads socks5:// only; either way the proxy resolves the name (rdns).
        url = self._proxy.replace("socks5h://", "socks5://", 1)
        return ProxyConnector.from_url(url, rdns=True, **options)

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=self._connector(), timeout=self._timeout, auto_decompress=False
            )
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
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
        if self._session is None:
            raise NetworkError("the push client is not initialised") from RequestNotSent("not initialised")
        # The parameters as one JSON object, as the Bot API documents for application/json
        # (RequestData.json_payload would send every value as a JSON-encoded string).
        body = (
            json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":")).encode()
            if request_data is not None
            else b""
        )
        timeout = (
            self._timeout
            if isinstance(read_timeout, DefaultValue) and isinstance(connect_timeout, DefaultValue)
            else _timeout(
                _chosen(connect_timeout, self._connect_timeout), _chosen(read_timeout, self._read_timeout)
            )
        )
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
            async with self._session.request(
                method, url, data=body, headers=self._headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except _NOT_SENT_IN_TIME as error:
            raise TimedOut(
                "No connection to the Bot API in time; the request was not sent"
            ) from RequestNotSent(str(error))
        except _NOT_SENT as error:
            # Not the URL itself: it carries the bot's token, and errors end up in logs.
            raise NetworkError(f"Cannot connect to the Bot API: {type(error).__name__}") from RequestNotSent(
                str(error)
            )
        except TimeoutError as error:
            raise TimedOut("No answer from the Bot API in time") from error
        except (aiohttp.ClientError, OSError) as error:
            raise NetworkError(f"Connection lost before the answer: {type(error).__name__}") from error
        finally:
            self._free.release()
