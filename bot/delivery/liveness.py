"""Which workers are alive, and making sure only one runs where several cannot.

A worker that dies (kill -9, a lost machine) leaves rows it had claimed. The
others must take those back, but only from a worker that is really gone: each
worker renews a heartbeat key in the EphemeralStore, and rows held by a worker
whose heartbeat expired are recovered (models.outbox.recover).

That only works when every worker sees the same store and database: Redis and
PostgreSQL. Otherwise (the embedded SQLite default, or PostgreSQL without
Redis) one worker at a time is the rule, held by a lock the operating system
or the database drops when the process dies, so a restarted worker can take
back everything at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from models.ephemeral import EphemeralStore, StoreUnreachable, shared_only

log = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "delivery:worker:"
# Any 64-bit number of our own; other users of pg advisory locks pick theirs.
_ADVISORY_KEY = 0x756E696F6E626F74  # "unionbot"


def new_worker_id() -> str:
    """Host, process and a random part: readable in ``outbox status``, never reused."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Heartbeat:
    """This worker's sign of life, and the test of another's."""

    def __init__(self, store: EphemeralStore, worker_id: str, ttl_seconds: int) -> None:
        # Only the store every worker sees can tell who is alive: never this process's stand-in.
        self.store = shared_only(store)
        self.worker_id = worker_id
        self.ttl_seconds = ttl_seconds

    def beat(self) -> None:
        self.store.set(HEARTBEAT_PREFIX + self.worker_id, "1", self.ttl_seconds)

    def alive(self, worker_id: str) -> bool:
        """Whether ``worker_id`` beats; while Redis is away nobody can tell, so every worker counts as alive.

        Taking back the rows of a worker that is in fact sending would send them twice.
        """
        if worker_id == self.worker_id:
            return True
        try:
            return self.store.get(HEARTBEAT_PREFIX + worker_id) is not None
        except StoreUnreachable:
            return True

    def stop(self) -> None:
        self.store.delete(HEARTBEAT_PREFIX + self.worker_id)


class WorkerAlreadyRunning(Exception):
    """Another worker holds the single-worker lock of this database."""


class SingleWorkerLock:
    """Held for a worker's lifetime where only one may run; released by the OS or database on death."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._connection: sa.Connection | None = None

    def acquire(self) -> None:
        """Raises:
        WorkerAlreadyRunning: another worker runs against this database.
        """
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if not database or database == ":memory:":
                return  # an in-memory database lives in this process alone
            path = Path(database).with_name(Path(database).name + ".delivery-lock")
            handle = path.open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise WorkerAlreadyRunning(str(path)) from None
            self._file = handle
            return
        connection = self.engine.connect()
        locked = connection.execute(sa.select(sa.func.pg_try_advisory_lock(_ADVISORY_KEY))).scalar()
        connection.commit()
        if not locked:
            connection.close()
            raise WorkerAlreadyRunning("pg_advisory_lock")
        self._connection = connection

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                # Closing hands the connection back to the pool, session and lock alive: unlock first.
                connection.execute(sa.select(sa.func.pg_advisory_unlock(_ADVISORY_KEY)))
                connection.commit()
            except sa.exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # The server ended the session (restarted, or the connection was killed): the lock
                # went with it, and the connection is not given back to the pool.
                log.warning("the delivery lock's database connection was lost; the lock went with it")
            finally:
                connection.close()
