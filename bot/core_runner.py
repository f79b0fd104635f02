"""Where the conversation core runs: beside the channels' event loop, never on it.

The core is synchronous (one database transaction per message). Run on a
thread of the channels' own process, it fights the event loop for Python's
GIL: measured, a message then costs the core about twice its CPU, and that
alone kept the Telegram channel under half an echo bot's throughput
(bench/RESULTS.md). So ``python -m bot run`` gives the core a process of its
own (:class:`ProcessCore`): the channels' process does HTTP, the core's
process does the database, each on a core of the machine.

:class:`ThreadCore` keeps the core in-process, for tests and tools that want
one process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
import signal
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from bot.settings import Settings
from handlers.core.i18n import Catalogues, negotiate_locale
from handlers.core.messages import Incoming, Reply
from handlers.core.router import Bot
from models.suggestions import similarity

log = logging.getLogger(__name__)


class Core(Protocol):
    """What a channel needs: an answer to each message, without blocking its event loop."""

    async def answer(self, incoming: Incoming) -> list[Reply]: ...

    async def close(self) -> None: ...


class ThreadCore:
    """The core on threads of this process (one for SQLite, which takes one writer at a time)."""

    def __init__(self, bot: Bot, threads: int = 1) -> None:
        self.bot = bot
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="core")
        # Segmenting Chinese for suggestion hints needs jieba's dictionary (about a second to load):
        # load it before the first member types a title rather than while they wait.
        self._pool.submit(similarity.warm_up)

    async def answer(self, incoming: Incoming) -> list[Reply]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.bot.handle, incoming)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)


# -- the core's process ----------------------------------------------------------------------------

_bot: Bot | None = None


def _start(settings: Settings) -> None:
    """Build the core in the child process, from the same settings as the parent."""
    # The child needs the wiring; the parent has it already.
    from bot.app import App, configure_calendar, configure_logging

    global _bot
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(settings)
    configure_calendar(settings)
    _bot = App(settings).bot
    similarity.warm_up()  # before the first title a member types, not while they wait


def _answer(incoming: Incoming) -> list[Reply]:
    assert _bot is not None, "the core process was not started"
    return _bot.handle(incoming)


def _ready() -> bool:
    return _bot is not None


class ProcessCore:
    """The core in child processes (``Settings.core_process_count``), answering messages in turn.

    The child is started with ``spawn`` (a forked copy of an event loop with
    threads is not safe). Ephemeral state the core keeps (binding cooldowns)
    lives in that one process, or in Redis when configured. Should the child
    die, the message in hand gets the usual apology and a new child takes the
    next one.
    """

    def __init__(self, settings: Settings, catalogues: Catalogues) -> None:
        self.settings = settings
        self.catalogues = catalogues
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.settings.core_process_count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings,),
        )

    async def start(self) -> None:
        """Start the children now, so the first members do not wait for them."""
        loop = asyncio.get_running_loop()
        count = self.settings.core_process_count
        await asyncio.gather(*(loop.run_in_executor(self._pool, _ready) for _ in range(count)))

    async def answer(self, incoming: Incoming) -> list[Reply]:
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _answer, incoming)
        except BrokenProcessPool:
            incident = f"core-{secrets.token_hex(4)}"
            log.error("incident %s: the core process died; starting a new one", incident)
            if self._pool is pool:
                self._pool = self._new_pool()
                pool.shutdown(wait=False)
            _ = self.catalogues.get(negotiate_locale(incoming.locale, self.settings.default_locale))
            text = _("抱歉，出了点问题（编号 {incident}）。请稍后再试，或联系本单位工会。")
            return [Reply(text.format(incident=incident), locale=_.locale)]

    def cpu_seconds(self) -> float:
        """CPU the core's processes have used so far, read from /proc (Linux): for bench/ figures."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in list(self._pool._processes or {}):  # the executor keeps no public list of its children
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime and stime
        return total

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
