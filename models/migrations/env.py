"""Alembic environment: runs on the connection the caller hands over.

``bot.database`` opens the connection and passes it in
``config.attributes["connection"]``, so the same code migrates SQLite files,
PostgreSQL databases and the tests' throwaway schemas. Autogenerate
(``python -m bot db revision``) compares with the models' metadata, or with
``config.attributes["metadata"]`` when the caller gives one (the tests do).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  registers every table on the metadata

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes.get("metadata")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata if metadata is None else metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
