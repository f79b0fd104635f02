"""Short-lived counters and flags: Redis when configured, process memory otherwise.

Binding attempts, inbound de-duplication and rate limits need state that
expires on its own and is shared by every process. With one embedded process
(the default) a dictionary does; with several, Redis must.

Expiry here is housekeeping only. Where a rule depends on time (a cooldown
ends at 10:15) the deadline is stored as a value and compared with the
caller's ``now``, so tests move time with time-machine on either backend.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class EphemeralStore(Protocol):
    """What the domain needs from a short-lived key-value store."""

    def incr(self, key: str, ttl_seconds: int) -> int:
        """Add one to a counter, (re)setting its expiry; return the new value."""

    def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    def set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool = False) -> bool:
        """Store a value; with ``only_if_absent``, False when the key already exists."""

    def delete(self, *keys: str) -> None:
        """Forget the keys."""


class MemoryStore:
    """The in-process stand-in: correct for a single process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires <= time.time():
            del self._values[key]
            return None
        return value

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self._lock:
            count = int(self._live(key) or 0) + 1
            self._values[key] = (str(count), time.time() + ttl_seconds)
            return count

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool = False) -> bool:
        with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            self._values[key] = (value, time.time() + ttl_seconds)
            return True

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)


class RedisStore:
    """Shared by every process; keys are namespaced so one Redis can serve several bots."""

    def __init__(self, client: redis.Redis, prefix: str = "unionbot:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "unionbot:") -> RedisStore:
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix)

    def incr(self, key: str, ttl_seconds: int) -> int:
        name = self._prefix + key
        pipe = self._client.pipeline()
        pipe.incr(name)
        pipe.expire(name, ttl_seconds)
        count, _ = pipe.execute()
        return int(count)

    def get(self, key: str) -> str | None:
        value = self._client.get(self._prefix + key)
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool = False) -> bool:
        return bool(self._client.set(self._prefix + key, value, ex=ttl_seconds, nx=only_if_absent))

    def delete(self, *keys: str) -> None:
        if keys:
            self._client.delete(*(self._prefix + key for key in keys))
