"""Engines: PostgreSQL connections are checked after a rest, not on every use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from models import db as db_module
from models.db import make_engine
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL")


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    assert TEST_DATABASE_URL
    eng = make_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0)  # one connection, reused
    yield eng
    eng.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_in_use_a_moment_ago_is_not_pinged(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []

    def ping(connection: object) -> bool:
        pings.append(connection)
        return True

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first
    assert pings == []
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) == first
    assert len(pings) == 1


def test_a_rested_connection_the_server_closed_is_replaced(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    assert TEST_DATABASE_URL
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) != first
