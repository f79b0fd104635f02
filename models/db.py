"""Engines and sessions for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

# A pooled connection that rested this long is pinged before use (see _ping_if_rested).
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "unionbot_idle_since"


def normalise_database_url(url: str | URL) -> URL:
    """Pick our drivers: ``postgresql://`` means psycopg 3 here, not psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions on its own and breaks SAVEPOINT; we take
    # over BEGIN (see _sqlite_begin), as SQLAlchemy's SQLite notes advise.
    dbapi_connection.isolation_level = None
    # Foreign keys are off by default in SQLite; WAL lets the console and a
    # worker read while another writes; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # SQLite's page cache is 2 MB by default, and in WAL mode a connection drops it whenever
    # another one has committed. A union of 100,000 members outgrows that, and every page read
    # again was a system call: the delivery worker spent 1.60 ms a push at 100,000 rows against
    # 1.22 at 30,000. With a 64 MB cache and reads through a memory map, 1.23-1.48 ms at 100,000
    # (bench/RESULTS.md, "Delivery"). Both are ceilings, used only as the database grows.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: two threads that both read then
    # write would otherwise fail on the lock upgrade without waiting.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    parsed = normalise_database_url(url)
    # A statement's parameters hold what members confide before it is sealed (a hardship story):
    # neither SQL echo nor an error message (logged with its incident number) may show them.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        # The connection used last comes back first: its page cache is still valid after its own
        # commits, while a connection idle since another's commit starts cold.
        if parsed.database not in (None, "", ":memory:") and "poolclass" not in kwargs:
            kwargs.setdefault("pool_use_lifo", True)  # a file's QueuePool; :memory: has no queue
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(parsed, **kwargs)
    sa.event.listen(engine, "checkin", _rested_since)
    sa.event.listen(engine, "checkout", _ping_if_rested(engine.dialect))
    return engine


def _rested_since(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_rested(dialect: sa.Dialect) -> Callable[[Any, Any, Any], None]:
    """Check a connection that rested a while before handing it out; replace it if dead.

    Like ``pool_pre_ping``, which pings on every checkout: a round trip that
    cost a good share of the core's CPU per message (bench/RESULTS.md). A
    connection in use a moment ago is taken as alive; if the server went away
    meanwhile, that one message fails as "try again later" and SQLAlchemy
    replaces the pool's connections.
    """

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:  # what a dead connection raises depends on the driver
            raise sa.exc.DisconnectionError(str(error)) from error
        if not alive:
            raise sa.exc.DisconnectionError("ping failed")

    return checkout


class SessionFactory:
    """Opens one session per unit of work; commits on success, rolls back on error."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
