"""The migrations build exactly the schema the models declare, on every database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.database import upgrade
from models.db import make_engine
from tests.conftest import TEST_DATABASE_URL, drop_postgres_schema, postgres_engine


@pytest.fixture(params=["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    assert TEST_DATABASE_URL
    schema = f"unionbot_migrations_{os.getpid()}"
    engine = postgres_engine(TEST_DATABASE_URL, schema)
    yield engine
    engine.dispose()
    drop_postgres_schema(TEST_DATABASE_URL, schema)


def test_migrations_produce_exactly_the_models_schema(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)
    assert "member" in sa.inspect(empty_engine).get_table_names()
