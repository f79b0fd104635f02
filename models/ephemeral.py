"""Short-lived counters and flags: Redis when configured, process memory otherwise.

Binding attempts, inbound de-duplication and rate limits need state that
expires on its own and is shared by every process. With one embedded process
(the default) a dictionary does; with several, Redis must.

Redis going away must not stop the chat: :class:`FallbackStore` carries on in
this process's memory meanwhile (with a warning a minute), tries Redis again
every few seconds, and hands what it kept back to Redis when Redis answers.
During the outage each process remembers only its own traffic; that is the
price, and it ends when Redis returns.

Expiry here is housekeeping only. Where a rule depends on time (a cooldown
ends at 10:15) the deadline is stored as a value and compared with the
caller's ``now``, so tests move time with time-machine on either backend.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

T = TypeVar("T")

StoreUnreachable = redis.exceptions.RedisError
"""What a Redis call raises when Redis cannot answer (refused, timed out, loading, read-only...)."""

RETRY_SECONDS = 5.0
"""While Redis is away, how often one caller tries it again; the others stay in memory meanwhile."""
WARN_SECONDS = 60.0
"""At most one warning in this long about the same outage: a log line per message would bury the rest."""
# A Redis that hangs rather than refuses must not eat WeChat's 5-second budget: each
# call gives up after this, and is tried once more only after a short pause.
_SOCKET_SECONDS = 1.0
_PRUNE_AT_LEAST = 4096


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


class Kept(Enum):
    """How an entry was written, which decides how a stand-in hands it back to Redis."""

    COUNT = "count"  # incr: added to Redis's own count, other processes counted too
    CLAIM = "claim"  # set only_if_absent: a claim Redis already holds stays
    VALUE = "value"  # set: replaces


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    seconds_left: float
    kept: Kept


class MemoryStore:
    """The in-process store: correct for a single process only, and Redis's stand-in in an outage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float, Kept]] = {}
        self._prune_at = _PRUNE_AT_LEAST

    def _keep(self, key: str, value: str, ttl_seconds: float, kept: Kept) -> None:
        """Store (under the lock); expired entries nobody asks for again are swept now and then.

        Most keys are written once and never read again (an update id, a nonce), so
        expiry on read alone would hold a day of traffic in memory.
        """
        now = time.time()
        self._values[key] = (value, now + ttl_seconds, kept)
        if len(self._values) > self._prune_at:
            self._values = {k: entry for k, entry in self._values.items() if entry[1] > now}
            self._prune_at = max(_PRUNE_AT_LEAST, 2 * len(self._values))

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[1] <= time.time():
            del self._values[key]
            return None
        return entry[0]

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self._lock:
            count = int(self._live(key) or 0) + 1
            self._keep(key, str(count), ttl_seconds, Kept.COUNT)
            return count

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool = False) -> bool:
        with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            self._keep(key, value, ttl_seconds, Kept.CLAIM if only_if_absent else Kept.VALUE)
            return True

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def drain(self) -> list[Entry]:
        """Every live entry, and forget them all."""
        with self._lock:
            now = time.time()
            entries = [
                Entry(key, value, expires - now, kept)
                for key, (value, expires, kept) in self._values.items()
                if expires > now
            ]
            self._values.clear()
            return entries

    def put_back(self, entries: list[Entry]) -> None:
        """Keep drained entries again (Redis did not take them after all)."""
        with self._lock:
            for entry in entries:
                self._keep(entry.key, entry.value, entry.seconds_left, entry.kept)


class RedisStore:
    """Shared by every process; keys are namespaced so one Redis can serve several bots."""

    def __init__(self, client: redis.Redis, prefix: str = "unionbot:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "unionbot:") -> RedisStore:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=_SOCKET_SECONDS,
            socket_timeout=_SOCKET_SECONDS,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 1),
        )
        return cls(client, prefix)

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

    def ping(self) -> None:
        """Raises: StoreUnreachable: Redis does not answer."""
        self._client.ping()

    def restore(self, entries: list[Entry], forgotten: Collection[str]) -> None:
        """Take back, in one round trip, what a stand-in kept and forgot while Redis was away."""
        pipe = self._client.pipeline(transaction=False)
        if forgotten:
            pipe.delete(*(self._prefix + key for key in forgotten))
        for entry in entries:
            name = self._prefix + entry.key
            ttl = max(1, math.ceil(entry.seconds_left))
            if entry.kept is Kept.COUNT:
                pipe.incrby(name, int(entry.value))
                pipe.expire(name, ttl)
            else:
                pipe.set(name, entry.value, ex=ttl, nx=entry.kept is Kept.CLAIM)
        pipe.execute()


class Outage:
    """Whether Redis is away, when to try it again, and when the log last said so.

    Shared by the store and the delivery rates; thread-safe, with an injectable
    clock so tests step through an outage without sleeping.
    """

    def __init__(
        self,
        what: str,
        *,
        retry_seconds: float = RETRY_SECONDS,
        warn_seconds: float = WARN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.retry_seconds = retry_seconds
        self.warn_seconds = warn_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self.down = False
        self._retry_at = -math.inf
        self._warned_at = -math.inf

    def due(self) -> bool:
        """While Redis is away: True for the one caller whose turn it is to try it again."""
        with self._lock:
            now = self._clock()
            if not self.down or now < self._retry_at:
                return False
            self._retry_at = now + self.retry_seconds
            return True

    def failed(self, error: BaseException) -> None:
        """Redis did not answer: say so, at most once in ``warn_seconds``."""
        with self._lock:
            now = self._clock()
            if not self.down:
                self.down = True
                self._retry_at = now + self.retry_seconds
            if now - self._warned_at < self.warn_seconds:
                return
            self._warned_at = now
        log.warning(
            "Redis is unreachable (%s): %s goes on in this process's memory; Redis is tried again "
            "every %.0f s",
            type(error).__name__,
            self.what,
            self.retry_seconds,
        )

    def recovered(self) -> None:
        with self._lock:
            if not self.down:
                return
            self.down = False
            self._warned_at = -math.inf
        log.warning("Redis answers again: %s is back on Redis", self.what)


class FallbackStore:
    """Redis, with this process's memory standing in while Redis cannot be reached.

    What the stand-in kept goes back to Redis before Redis is used again, so a
    message de-duplicated, an attempt counted or a key forgotten during the outage
    stays so afterwards. Only the caller that finds Redis away, or the one whose
    turn it is to try it again, waits for Redis's timeout; the others go straight
    to memory.
    """

    def __init__(
        self,
        redis_store: RedisStore,
        *,
        retry_seconds: float = RETRY_SECONDS,
        warn_seconds: float = WARN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = redis_store
        self.standin = MemoryStore()
        self.outage = Outage(
            "the short-lived store (de-duplication, attempt counts)",
            retry_seconds=retry_seconds,
            warn_seconds=warn_seconds,
            clock=clock,
        )
        # Orders the stand-in's writes against the hand-back: nothing written to memory
        # is left behind once Redis is in use again.
        self._lock = threading.Lock()
        self._forgotten: set[str] = set()

    @classmethod
    def from_url(cls, url: str, prefix: str = "unionbot:") -> FallbackStore:
        return cls(RedisStore.from_url(url, prefix))

    def _run(self, on_redis: Callable[[], T], in_memory: Callable[[], T]) -> T:
        if self.outage.down and self.outage.due():
            self._try_to_return()
        if not self.outage.down:
            try:
                return on_redis()
            except StoreUnreachable as error:
                self.outage.failed(error)
        with self._lock:
            if not self.outage.down:  # handed back while we waited: Redis has it all now
                try:
                    return on_redis()
                except StoreUnreachable as error:
                    self.outage.failed(error)
            return in_memory()

    def _try_to_return(self) -> None:
        """Give Redis what the stand-in kept and use Redis again, if it answers."""
        try:
            self.shared.ping()  # outside the lock: a hanging Redis holds up no one else
        except StoreUnreachable as error:
            self.outage.failed(error)
            return
        with self._lock:
            entries = self.standin.drain()
            try:
                self.shared.restore(entries, self._forgotten)
            except StoreUnreachable as error:
                self.standin.put_back(entries)  # kept for the next try
                self.outage.failed(error)
                return
            self._forgotten.clear()
            self.outage.recovered()

    def incr(self, key: str, ttl_seconds: int) -> int:
        def in_memory() -> int:
            self._forgotten.discard(key)
            return self.standin.incr(key, ttl_seconds)

        return self._run(lambda: self.shared.incr(key, ttl_seconds), in_memory)

    def get(self, key: str) -> str | None:
        return self._run(lambda: self.shared.get(key), lambda: self.standin.get(key))

    def set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool = False) -> bool:
        def in_memory() -> bool:
            stored = self.standin.set(key, value, ttl_seconds, only_if_absent=only_if_absent)
            if stored:
                self._forgotten.discard(key)
            return stored

        return self._run(
            lambda: self.shared.set(key, value, ttl_seconds, only_if_absent=only_if_absent), in_memory
        )

    def delete(self, *keys: str) -> None:
        def in_memory() -> None:
            self.standin.delete(*keys)
            self._forgotten.update(keys)

        self._run(lambda: self.shared.delete(*keys), in_memory)


def shared_only(store: EphemeralStore) -> EphemeralStore:
    """The store every process sees, never this process's stand-in.

    For questions about other processes ("is that worker alive?"), which this
    process's memory cannot answer: while Redis is away they raise
    :data:`StoreUnreachable` instead of answering wrongly.
    """
    return store.shared if isinstance(store, FallbackStore) else store
