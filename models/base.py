"""Column types and conventions shared by every table, and how long a text is.

SQLite hands back naive datetimes and PostgreSQL aware ones; members see times
in their own zone, so everything is stored as UTC and comes back aware, on both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
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


# ------------------------------------------------------------------ characters as a member counts them

MAX_CLUSTER_CODE_POINTS = 10
"""Most code points one counted character may hold.

The longest standard emoji (a kiss with two skin tones) has 10 code points.
Without a cap, a chain of thousands of ZWJ-joined emoji or stacked combining
marks would count as one character and slip past every length limit.
"""

_ZWJ = "\u200d"
_ZWNJ = "\u200c"


def _is_control(ch: str) -> bool:
    """A line break or control character: a character of its own, whatever follows it."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _extends(ch: str) -> bool:
    """Whether ``ch`` belongs to the character before it."""
    code = ord(ch)
    return (
        unicodedata.category(ch)[0] == "M"  # combining marks, variation selectors (U+FE0F), the keycap
        or ch in (_ZWJ, _ZWNJ)
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin tones
        or 0xE0020 <= code <= 0xE007F  # the tag letters of a subdivision flag (🏴 England)
        or 0x1160 <= code <= 0x11FF  # Hangul medial vowels and final consonants
        or 0xD7B0 <= code <= 0xD7FF
    )


def _pictographic(ch: str) -> bool:
    """Roughly Extended_Pictographic: what a ZWJ joins into one emoji."""
    return ord(ch) >= 0x1F000 or unicodedata.category(ch) == "So"


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _joins(before: str, ch: str, *, open_flag: bool) -> bool:
    """Whether ``ch`` continues the character ``before`` ends (``open_flag``: a flag's first half)."""
    if before == "\r" and ch == "\n":
        return True
    if 0xD800 <= ord(before) <= 0xDBFF and 0xDC00 <= ord(ch) <= 0xDFFF:
        return True  # a surrogate pair a lenient decoder left as two code points
    if _is_control(before) or _is_control(ch):
        return False
    if _extends(ch):
        return True
    if before == _ZWJ:
        return _pictographic(ch)
    if open_flag:
        return _is_regional_indicator(ch)
    return 0x1100 <= ord(before) <= 0x115F and (0x1100 <= ord(ch) <= 0x115F or 0xAC00 <= ord(ch) <= 0xD7A3)


def character_starts(text: str) -> Iterator[int]:
    """Where each character begins in ``text``, as a member sees characters.

    The one rule behind every "at most N characters": the forms check a limit
    with it (handlers.core.parsing.text_length), the models check it again
    (:func:`visible_length`), and the channels cut long messages only where it
    says a character begins (bot/channels/text_parts.py). A family emoji 👨‍👩‍👧 is
    one character to a member and seven code points to Python; if the form
    counted one and the model seven, a cadre's title accepted by the form
    would be refused when it is saved.

    True grapheme clusters (UAX #29) need a library, so this approximates them.
    A code point joins the one before it when it is:

    * a combining mark, variation selector (U+FE0F) or the keycap mark;
    * a zero-width joiner or non-joiner, an emoji skin tone, or a tag letter
      of a subdivision flag;
    * an emoji after a zero-width joiner (👨‍👩‍👧);
    * the second regional indicator of a flag (🇨🇳), or ``\\n`` after ``\\r``;
    * a Hangul vowel or final consonant, or a syllable after a leading consonant;
    * the low half of a surrogate pair left as two code points.

    Nothing joins a control character or a line break. One character never
    holds more than :data:`MAX_CLUSTER_CODE_POINTS` code points, so text may
    hold at most that many times its limit in code points.

    Yields:
        The index of the first code point of each character, in order; nothing for "".
    """
    before = ""
    size = 0
    open_flag = False
    for index, ch in enumerate(text):
        if 0 < size < MAX_CLUSTER_CODE_POINTS and _joins(before, ch, open_flag=open_flag):
            size += 1
            open_flag = False
        else:
            yield index
            size = 1
            open_flag = _is_regional_indicator(ch)
        before = ch


def visible_length(text: str) -> int:
    """How many characters a member counts in ``text`` (:func:`character_starts`); 0 for ""."""
    return sum(1 for _ in character_starts(text))
