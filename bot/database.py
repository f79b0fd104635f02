"""Migrating the database, and writing the next migration.

``python -m bot db upgrade`` (also run by run/console/demo) applies what is
pending; ``python -m bot db revision "what changed"`` writes the next migration
from what the models now declare. tests/models/test_migrations.py then holds the
two together: the migrations must build exactly the models' schema.

Every command migrates first, so Alembic's INFO lines ("Context impl SQLiteImpl.",
"Will assume non-transactional DDL.") would open the output of each one. They are
kept below WARNING while we migrate, and a migration that did change the schema is
logged once, in our own words.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

import models
from models.db import make_engine

MIGRATIONS = Path(models.__file__).resolve().parent / "migrations"

# Migrations are numbered: the revision id is the number, and the file is named by it and the message
# (0006_dues_payments.py), so the folder lists them in the order they apply and a reader sees the
# chain without opening a file. Alembic's random ids would say neither.
REVISION_DIGITS = 4
FILE_TEMPLATE = "%(rev)s_%(slug)s"


def alembic_config(
    connection: sa.Connection | None = None,
    *,
    migrations: Path | None = None,
    metadata: sa.MetaData | None = None,
) -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini.

    Args:
        connection: the connection models/migrations/env.py runs on.
        migrations: the migrations folder (env.py, the template, versions/); ours by default.
        metadata: what autogenerate compares the database with; the models' own by default.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations or MIGRATIONS))
    # Config options go through ConfigParser's interpolation: "%" is written "%%".
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["metadata"] = metadata
    return config


log = logging.getLogger(__name__)


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic's own logging held at WARNING: its errors still show, its chatter does not."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _migrate(engine: sa.Engine, revision: str, migrations: Path | None) -> tuple[str | None, str | None]:
    """Bring the schema to ``revision`` quietly; the revisions before and after."""
    with _alembic_quiet(), engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection, migrations=migrations), revision)
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def upgrade(engine: sa.Engine, revision: str = "head", *, migrations: Path | None = None) -> None:
    """Bring the schema to ``revision``; a no-op (and nothing logged) when it is already there."""
    before, after = _migrate(engine, revision, migrations)
    if before != after:
        log.info("database migrated from %s to %s", before or "an empty schema", after)


def next_revision_id(migrations: Path | None = None) -> str:
    """The number the next migration takes: the head's plus one, "0001" for the first.

    Raises:
        CommandError: the migrations have several heads, or a head that is not a number.
    """
    heads = ScriptDirectory.from_config(alembic_config(migrations=migrations)).get_heads()
    if not heads:
        return f"{1:0{REVISION_DIGITS}d}"
    if len(heads) > 1:
        raise CommandError(f"the migrations have several heads ({', '.join(sorted(heads))}); make them one")
    if not heads[0].isdigit():
        raise CommandError(f"the head revision {heads[0]!r} is not a number")
    return f"{int(heads[0]) + 1:0{REVISION_DIGITS}d}"


def revision(message: str, *, migrations: Path | None = None, metadata: sa.MetaData | None = None) -> Path:
    """Write the next migration: what the models declare beyond what the migrations build.

    The comparison runs against a scratch SQLite database brought to head, not
    the configured one, so the result depends only on the code: not on a
    developer's half-migrated file, and never touching a production database.
    On SQLite, env.py renders changes to existing tables as batch operations,
    which run on PostgreSQL as plain ALTERs, so the migration serves both.
    Read it before committing: autogenerate misses renames (it sees a drop and
    an add) and data to carry over.

    Args:
        message: what changed, in a few words; it becomes the docstring and, as a slug, the file name.
        migrations: the migrations folder; ours by default (tests pass a copy).
        metadata: the schema the migration should reach; the models' own by default.

    Returns:
        The path of the new migration.

    Raises:
        CommandError: see :func:`next_revision_id`.
    """
    if not re.search(r"\w", message):
        raise CommandError("say in words what changed: the message names the migration")
    rev_id = next_revision_id(migrations)
    with tempfile.TemporaryDirectory(prefix="unionbot-revision-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'head.db'}")
        try:
            _migrate(engine, "head", migrations)
            with engine.begin() as connection:
                config = alembic_config(connection, migrations=migrations, metadata=metadata)
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    assert isinstance(script, Script), "one head gives one script"
    return Path(script.path)
