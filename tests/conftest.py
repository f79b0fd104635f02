"""Fixtures shared by the whole suite.

Every database test runs on SQLite, and again on PostgreSQL when
UNIONBOT_TEST_DATABASE_URL is set (``make test`` sets it when the local server
answers). PostgreSQL tests live in a schema of their own, so they never touch
what else the database holds. Likewise the store runs in memory and, with
UNIONBOT_TEST_REDIS_URL, on Redis under a key prefix of its own.
"""

from __future__ import annotations

import os

# python-telegram-bot 22 warns on every int-valued retry_after unless this is
# set; with warnings as errors the warning would replace the RetryAfter itself.
os.environ.setdefault("PTB_TIMEDELTA", "true")
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

import models  # noqa: F401  registers every table
from models import sealed
from models.db import SessionFactory, make_engine, normalise_database_url
from models.ephemeral import EphemeralStore, MemoryStore, RedisStore

# The data key sealed fields use in tests (models.sealed); an App sets its own when it makes its engine.
TEST_DATA_KEY = bytes(range(32))

TEST_DATABASE_URL = os.environ.get("UNIONBOT_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("UNIONBOT_TEST_REDIS_URL")

DATABASES = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]
STORES = ["memory", *(["redis"] if TEST_REDIS_URL else [])]


def _assert_loopback(url: str) -> None:
    host = normalise_database_url(url).host if "://" in url and not url.startswith("redis") else None
    if url.startswith(("redis://", "rediss://")):
        host = redis.connection.parse_url(url).get("host")
    if host and not socket.gethostbyname(host).startswith("127."):
        raise RuntimeError(f"tests only talk to loopback servers, not {host}")


def postgres_engine(url: str, schema: str) -> sa.Engine:
    """An engine whose tables live in ``schema``, created fresh."""
    _assert_loopback(url)
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def drop_postgres_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(autouse=True)
def _sealing_key() -> None:
    """Every test starts with the tests' data key for sealed fields."""
    sealed.use_key(TEST_DATA_KEY)


@pytest.fixture(scope="session", params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A database with the models' schema, for the whole session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        eng = make_engine(f"sqlite:///{path}")
        SQLModel.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    assert TEST_DATABASE_URL
    schema = f"unionbot_test_{os.getpid()}"
    eng = postgres_engine(TEST_DATABASE_URL, schema)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()
    drop_postgres_schema(TEST_DATABASE_URL, schema)


def _empty_tables(eng: sa.Engine) -> None:
    with eng.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[SessionFactory]:
    """A session factory on an empty database; emptied again afterwards."""
    _empty_tables(engine)
    yield SessionFactory(engine)
    _empty_tables(engine)


@pytest.fixture
def session(db: SessionFactory) -> Iterator[Session]:
    """One session, committed at the end of the test."""
    with db() as s:
        yield s


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[EphemeralStore]:
    """The short-lived store, in memory and (when configured) on Redis."""
    if request.param == "memory":
        yield MemoryStore()
        return
    assert TEST_REDIS_URL
    _assert_loopback(TEST_REDIS_URL)
    prefix = f"unionbot-test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    yield RedisStore(client, prefix)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
