"""The migrations build exactly the schema the models declare, on every database.

And ``python -m bot db revision`` writes the next one, numbered, from what the models changed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot import database
from bot.cli import main
from bot.database import MIGRATIONS, next_revision_id, revision, upgrade
from models.base import UTCDateTime
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


# -- python -m bot db revision ---------------------------------------------------------------------


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the migrations folder, for a throwaway migration to be written into."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def changed_models() -> sa.MetaData:
    """The models' schema with a column and a table more, as if someone had just added them."""
    metadata = sa.MetaData(naming_convention=SQLModel.metadata.naming_convention)
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["member"].append_column(sa.Column("nickname", sa.String(40), nullable=True))
    sa.Table(
        "dues_payment",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=False, index=True),
        sa.Column("paid_at", UTCDateTime, nullable=False),
    )
    return metadata


def numbered(migrations: Path) -> list[str]:
    return sorted(path.name for path in (migrations / "versions").glob("[0-9]*.py"))


def read_ids(path: Path) -> tuple[str, str | None]:
    """The revision and down_revision a migration file declares."""
    text = path.read_text(encoding="utf-8")
    revision = re.search(r"^revision: str = '(\w+)'$", text, re.MULTILINE)
    down = re.search(r"^down_revision: str \| None = (?:'(\w+)'|None)$", text, re.MULTILINE)
    assert revision, text
    assert down, text
    return revision.group(1), down.group(1)


def test_a_revision_is_the_next_number_after_the_head(migrations: Path) -> None:
    existing = numbered(migrations)
    head = existing[-1][:4]
    following = f"{int(head) + 1:04d}"
    assert next_revision_id(migrations) == following
    path = revision("dues payments", migrations=migrations, metadata=changed_models())
    assert path.parent == migrations / "versions"
    assert path.name == f"{following}_dues_payments.py"
    assert numbered(migrations) == [*existing, path.name]
    assert read_ids(path) == (following, head)
    assert next_revision_id(migrations) == f"{int(following) + 1:04d}"


def test_a_revision_holds_what_the_models_added_and_upgrading_applies_it(
    migrations: Path, tmp_path: Path
) -> None:
    models = changed_models()
    revision("dues payments", migrations=migrations, metadata=models)
    engine = make_engine(f"sqlite:///{tmp_path / 'upgraded.db'}")
    try:
        upgrade(engine, migrations=migrations)
        inspector = sa.inspect(engine)
        assert "dues_payment" in inspector.get_table_names()
        assert "nickname" in {column["name"] for column in inspector.get_columns("member")}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, models) == []
    finally:
        engine.dispose()


def test_a_revision_without_model_changes_is_empty_and_still_chained(migrations: Path) -> None:
    path = revision("data only", migrations=migrations)
    text = path.read_text(encoding="utf-8")
    upgrade_body = text.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    statements = [line.strip() for line in upgrade_body.splitlines() if line.strip()]
    assert [line for line in statements if not line.startswith("#")] == ["pass"]
    assert read_ids(path)[1] == numbered(migrations)[-2][:4]


def test_the_command_writes_the_migration_and_names_the_file(
    migrations: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(database, "MIGRATIONS", migrations)
    before = numbered(migrations)
    assert main(["db", "revision", "what changed"]) == 0
    [written] = [name for name in numbered(migrations) if name not in before]
    assert written == f"{int(before[-1][:4]) + 1:04d}_what_changed.py"
    assert str(migrations / "versions" / written) in capsys.readouterr().out
    assert main(["db", "revision", "  "]) == 2
    assert numbered(migrations) == [*before, written]
