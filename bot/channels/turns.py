"""One person's messages one at a time, different people's at once.

A member who taps twice or types quickly sends messages that arrive together;
answering them in parallel would let the second overtake the first. Each
channel keeps one lock per chat, dropped as soon as nobody holds or awaits it,
so a busy bot does not keep a lock for everyone it ever met.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable


class Turns:
    """Per-key asyncio locks that exist only while in use."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: defaultdict[Hashable, int] = defaultdict(int)

    def __len__(self) -> int:
        """How many keys have a lock now (held or awaited)."""
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        self._users[key] += 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]
