"""The months and quarters a ranking covers, in the union's calendar, and how they are written."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from models.errors import N_, InvalidInput
from models.rankings.tables import DigestKind

MONTH_TITLE = N_("{year}年{number}月")
QUARTER_TITLE = N_("{year}年第{number}季度")

_TYPED = re.compile(
    r"(?P<year>\d{4})\s*[-/.年]?\s*(?:(?P<q>q)\s*(?P<quarter>[1-4])|(?P<month>\d{1,2})\s*月?)"
)


@dataclass(frozen=True, order=True)
class DigestPeriod:
    """A month ("2026-11") or a quarter ("2026-Q4"); ``number`` is the month or the quarter."""

    year: int
    kind: DigestKind
    number: int

    @classmethod
    def month_of(cls, day: date) -> DigestPeriod:
        return cls(day.year, DigestKind.MONTH, day.month)

    @classmethod
    def quarter_of(cls, day: date) -> DigestPeriod:
        return cls(day.year, DigestKind.QUARTER, (day.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        """How outbox keys, the command line and the table name it: 2026-11, 2026-Q4."""
        if self.kind is DigestKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.number if self.kind is DigestKind.MONTH else 3 * self.number - 2, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period (bounds are half-open)."""
        month = self.first_day.month + (1 if self.kind is DigestKind.MONTH else 3)
        return date(self.year + 1, 1, 1) if month > 12 else date(self.year, month, 1)

    def previous(self) -> DigestPeriod:
        day = date.fromordinal(self.first_day.toordinal() - 1)
        return DigestPeriod.month_of(day) if self.kind is DigestKind.MONTH else DigestPeriod.quarter_of(day)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as UTC instants, [start, end): midnights of the union's zone."""

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

        return midnight(self.first_day), midnight(self.end_day)

    @property
    def title(self) -> str:
        """The msgid of its readable name; format it with ``year`` and ``number``."""
        return MONTH_TITLE if self.kind is DigestKind.MONTH else QUARTER_TITLE


def parse_period(text: str) -> DigestPeriod:
    """The period someone typed: 2026-11, 2026年11月, 2026-Q4, 2026q4.

    Raises:
        InvalidInput: ``ranking.period``, naming the two spellings.
    """
    said = unicodedata.normalize("NFKC", text).strip().casefold()
    match = _TYPED.fullmatch(said)
    if match is not None:
        year = int(match["year"])
        if match["quarter"]:
            return DigestPeriod(year, DigestKind.QUARTER, int(match["quarter"]))
        month = int(match["month"])
        if 1 <= month <= 12:
            return DigestPeriod(year, DigestKind.MONTH, month)
    raise InvalidInput("ranking.period", N_("请写月份或季度，例如 2026-11 或 2026-Q4。"), typed=text)


def period_of_key(kind: DigestKind, key: str) -> DigestPeriod:
    """The period a stored digest names (its ``period`` column)."""
    period = parse_period(key)
    assert period.kind is kind, (kind, key)
    return period
