"""What every stand-in server shares: an aiohttp app on 127.0.0.1 at a free port.

Tests never reach beyond loopback, and a free port lets several stand-ins and
test runs coexist on one machine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self

from aiohttp import web


class LoopbackServer(ABC):
    """Base of the stand-ins: start/stop, ``async with``, and the root URL."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @abstractmethod
    async def start(self) -> None:
        """Build the app and :meth:`_serve` it."""

    @abstractmethod
    async def stop(self) -> None:
        """Finish whatever runs beside the app, then :meth:`_close`."""

    async def _serve(self, app: web.Application, **runner_options: Any) -> None:
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, **runner_options)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self._url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The root URL, ``http://127.0.0.1:PORT`` (after :meth:`start`)."""
        if self._url is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        return self._url
