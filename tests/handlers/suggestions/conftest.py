"""What the suggestion conversations share: tracking numbers that start at one, as in a fresh union."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models.db import SessionFactory


@pytest.fixture
def numbered_from_one(db: SessionFactory) -> None:
    """The next suggestion gets id 1, so a transcript can type ``5`` exactly as a cadre would.

    SQLite numbers an emptied table from one again; PostgreSQL's sequence goes on counting
    across the tests, so it is set back.
    """
    with db() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT setval(pg_get_serial_sequence('suggestion', 'id'), 1, false)"))
