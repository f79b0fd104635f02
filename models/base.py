"""Column types and conventions shared by every table.

SQLite hands back naive datetimes and PostgreSQL aware ones; members see times
in their own zone, so everything is stored as UTC and comes back aware, on both.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

# Stable constraint names, so Alembic migrations can drop and alter them on
# every dialect (SQLite batch mode needs names to find constraints).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware and in UTC (time-machine moves it in tests)."""
    return datetime.now(UTC)


def string_enum(enum_cls: type[Any], length: int = 24) -> sa.Enum:
    """A StrEnum column stored as VARCHAR.

    Native PostgreSQL ENUMs cannot be extended by Alembic autogenerate, and new
    statuses and roles will come; a plain string keeps migrations simple.
    """
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def visible_length(text: str) -> int:
    """Characters as a member counts them, near enough: marks, joiners and modifiers join the one before.

    The forms count exactly (handlers.parsing.text_length); this rule only keeps
    what reaches the database within bounds, so it may count an emoji sequence
    as more, never a plain text as more.
    """
    return sum(
        1
        for ch in text
        if ch != "\u200d"
        and not unicodedata.category(ch).startswith("M")
        and not 0x1F3FB <= ord(ch) <= 0x1F3FF
        and not 0xE0020 <= ord(ch) <= 0xE007F
    )
