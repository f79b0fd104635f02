"""Which of several processes computes the scheduled jobs: the holder of a lease.

Every worker process runs the scheduler, so a job still runs when one of them
is gone; but APScheduler keeps its jobs per process, and two processes would
each compute the month's collection call. So before each run a process asks
its :class:`Lease`; the holder computes, the others skip. The holder renews
the lease every :data:`RENEW_EVERY`; one that stops renewing (killed, its
machine lost) loses it after :data:`LEASE_TTL`, and the next process to ask
takes it over — within a minute — and catches up on what the dead one may
have missed (scheduler.runner). Correctness does not rest on the lease: every
push's outbox key names its period, so two runs still send nothing twice; the
lease only spares the second computation.

Three kinds, by what the processes share:

* Redis configured: :class:`RedisLease`, a key holding the holder and the
  time it runs until, taken or renewed by one atomic script. Times come from
  the caller's clock, so a test expires a lease by moving its clock.
* PostgreSQL without Redis: :class:`AdvisoryLease`, ``pg_try_advisory_lock``
  on a connection kept open. The server drops the lock with the connection,
  and the connection's TCP keepalives (set here) make it notice a lost
  machine within half a minute.
* The embedded SQLite: one process (the delivery worker insists on it), so
  :class:`LocalLease`, always held.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta
from typing import Protocol

import redis
import sqlalchemy as sa

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=45)
RENEW_EVERY = timedelta(seconds=15)
LEASE_KEY = "unionbot:scheduler:lease"
# A 64-bit number of our own for pg_advisory_lock, apart from the delivery worker's.
ADVISORY_KEY = 0x756E696F6E6A6F62  # "unionjob"
# Seconds before the server probes an idle connection, between probes, and probes lost before it gives up.
_KEEPALIVES = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def new_holder_id() -> str:
    """Host, process and a random part: readable in ``jobs list``, never reused."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease(Protocol):
    """The right to compute the jobs now, held by at most one process at a time."""

    holder: str

    def hold(self, now: datetime) -> bool:
        """Take the lease, or renew it when this process holds it; whether it holds it now."""

    def release(self) -> None:
        """Give it up (stopping), so another process takes over at once instead of after the TTL."""


class LocalLease:
    """One process alone: always held."""

    def __init__(self, holder: str | None = None) -> None:
        self.holder = holder or new_holder_id()

    def hold(self, now: datetime) -> bool:
        return True

    def release(self) -> None:
        return None


# KEYS[1]: the lease; ARGV: holder, now (ms), held until (ms), Redis's own expiry (ms, housekeeping).
_TAKE = """
local value = redis.call('GET', KEYS[1])
if value then
  local bar = string.find(value, '|', 1, true)
  local owner = string.sub(value, 1, bar - 1)
  local until_ms = tonumber(string.sub(value, bar + 1))
  if owner ~= ARGV[1] and until_ms > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[3], 'PX', ARGV[4])
return 1
"""
_GIVE_UP = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisLease:
    """A lease in Redis: ``holder|until`` under one key, taken when free or expired by the caller's clock."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        holder: str | None = None,
        key: str = LEASE_KEY,
        ttl: timedelta = LEASE_TTL,
    ) -> None:
        self.client = client
        self.holder = holder or new_holder_id()
        self.key = key
        self.ttl = ttl
        self._take = client.register_script(_TAKE)
        self._give_up = client.register_script(_GIVE_UP)

    @classmethod
    def from_url(cls, url: str, **options: object) -> RedisLease:
        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, **options)  # type: ignore[arg-type]

    def hold(self, now: datetime) -> bool:
        until = now + self.ttl
        try:
            taken = self._take(
                keys=[self.key],
                args=[self.holder, _ms(now), _ms(until), int(self.ttl.total_seconds() * 2000)],
            )
        except redis.exceptions.RedisError as error:
            # Nobody can tell who holds it: skip, and catch up once Redis answers again.
            log.warning("scheduler lease: Redis is unreachable (%s); not running jobs meanwhile", error)
            return False
        return bool(taken)

    def release(self) -> None:
        try:
            self._give_up(keys=[self.key], args=[self.holder])
        except redis.exceptions.RedisError:
            log.warning("scheduler lease: could not give it up in Redis; it expires by itself")


class AdvisoryLease:
    """A PostgreSQL advisory lock on a connection of its own, held while the connection lives."""

    def __init__(self, engine: sa.Engine, *, holder: str | None = None, key: int = ADVISORY_KEY) -> None:
        self.engine = engine
        self.holder = holder or new_holder_id()
        self.key = key
        self._connection: sa.Connection | None = None
        # The renewal and a job's run may ask at once, from two threads, and a connection is not shared.
        self._lock = threading.Lock()

    def hold(self, now: datetime) -> bool:
        with self._lock:
            return self._hold()

    def _hold(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(sa.text("SELECT 1"))
                self._connection.commit()
                return True
            except sa.exc.DBAPIError as error:
                log.warning("scheduler lease: the connection holding it broke (%s); asking again", error)
                self._drop()
        try:
            connection = self.engine.connect()
        except sa.exc.DBAPIError as error:
            log.warning("scheduler lease: the database is unreachable (%s)", error)
            return False
        try:
            for name, value in _KEEPALIVES.items():
                connection.execute(sa.text(f"SET {name} = {int(value)}"))
            taken = bool(connection.execute(sa.select(sa.func.pg_try_advisory_lock(self.key))).scalar())
            connection.commit()
        except sa.exc.DBAPIError as error:
            log.warning("scheduler lease: could not ask the database (%s)", error)
            connection.invalidate()
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()  # the lock dies with it on the server; never back into the pool
            connection.close()

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # Closing hands the connection back to the pool, session and lock alive: unlock first.
            connection.execute(sa.select(sa.func.pg_advisory_unlock(self.key)))
            connection.commit()
            connection.close()
        except sa.exc.DBAPIError:
            connection.invalidate()
            connection.close()


def lease_for(engine: sa.Engine, redis_url: str | None) -> Lease:
    """The lease the processes of this configuration share (see the module)."""
    if redis_url:
        return RedisLease.from_url(redis_url)
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine)
    return LocalLease()
