"""The dues ledger's tables, the kinds of entry, and the union's dues policy.

* :class:`DuesRate` — a member's monthly amount from a month on (the rate
  history). Without any, the roster's 月会费 (``Member.monthly_dues_fen``) is
  what a member owes.
* :class:`DuesMonth` — one member's charge for one month: what was due, what
  has been paid against it, and the unit the member belonged to then, so a
  member who moves (流动会籍) leaves that month's figures with the old unit.
  It is the ledger's running sum, kept in the transaction of every entry so the
  monthly reminders and the statistics read one narrow indexed table instead of
  adding up millions of entries.
* :class:`DuesEntry` — what was recorded, by whom and when: a payment, or the
  reversal of one. Entries are never edited or deleted: a correction is a
  reversal and, where the amount was wrong, a new payment.
* :class:`DuesPeriod` — the months whose charges were posted to every member on
  the roll, so the monthly job opens each month once and catches up on months
  it missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, string_enum, utcnow
from models.dues.months import Month, local_month
from models.errors import N_

NOTE_MAX = 200
IMPORT_KEY_MAX = 160


class EntryKind(StrEnum):
    PAYMENT = "payment"  # 缴纳
    REVERSAL = "reversal"  # 冲销: cancels one payment, in full


class EntrySource(StrEnum):
    """Where an entry came from, for the record and the office's questions."""

    CHAT = "chat"  # 会费登记, one member
    UNIT = "unit"  # 会费登记, a whole unit marked paid
    IMPORT = "import"  # a payroll deduction file (python -m bot dues import)
    CORRECTION = "correction"  # a reversal, or the payment that replaces one


SOURCE_LABELS: dict[EntrySource, str] = {
    EntrySource.CHAT: N_("登记"),
    EntrySource.UNIT: N_("按单位登记"),
    EntrySource.IMPORT: N_("工资代扣导入"),
    EntrySource.CORRECTION: N_("更正"),
}


class DuesRate(SQLModel, table=True):
    """A member's monthly dues from ``from_month`` on, until a later row says otherwise."""

    __tablename__ = "dues_rate"
    __table_args__ = (sa.Index("ix_dues_rate_member_month", "member_id", "from_month"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    from_month: int
    amount_fen: int
    set_by_id: int | None = Field(default=None, foreign_key="member.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DuesMonth(SQLModel, table=True):
    """One member's dues for one month: due, paid so far, and whether some is still owed."""

    __tablename__ = "dues_month"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "month", name="uq_dues_month_member_month"),
        sa.Index("ix_dues_month_month_unit", "month", "unit_id"),
        # The owed months only, the few the monthly job reads: a planner cannot tell from an index on
        # a yes/no column that "yes" is rare, and walked every member's months instead (SQLite).
        sa.Index(
            "ix_dues_month_owed",
            "month",
            "member_id",
            sqlite_where=sa.text("owing = 1"),
            postgresql_where=sa.text("owing"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    month: int
    unit_id: int = Field(foreign_key="unit.id")
    due_fen: int
    paid_fen: int = 0
    # paid_fen < due_fen, kept beside them so the reminders find the few owed months by index.
    owing: bool = True


class DuesEntry(SQLModel, table=True):
    """One line of the ledger: a payment (positive) or the reversal of one (negative)."""

    __tablename__ = "dues_entry"
    __table_args__ = (sa.Index("ix_dues_entry_member_month", "member_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    month: int
    amount_fen: int
    kind: EntryKind = Field(sa_type=string_enum(EntryKind, 16))
    source: EntrySource = Field(sa_type=string_enum(EntrySource, 16))
    # The payment this one reverses; unique, so a payment is reversed at most once.
    reverses_id: int | None = Field(default=None, foreign_key="dues_entry.id", unique=True)
    # A payroll file's row, so importing the same file again records nothing new.
    import_key: str | None = Field(default=None, max_length=IMPORT_KEY_MAX, unique=True)
    # None: recorded from the command line, by whoever runs the server (the union office).
    recorded_by_id: int | None = Field(default=None, foreign_key="member.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class DuesPeriod(SQLModel, table=True):
    """A month whose dues were posted to every member then on the roll."""

    __tablename__ = "dues_period"

    month: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class DuesPolicy:
    """The union's dues settings (``UNIONBOT_DUES_*``).

    Attributes:
        reminder_optional: whether members may turn the monthly reminder off in 我的信息.
        start_month: the first month the bot keeps the ledger for; None: the month the
            reminder job first runs. Earlier months are the office's paper books.
        zone: the union's time zone, which decides when a month begins.
    """

    reminder_optional: bool = True
    start_month: Month | None = None
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def month(self, now: datetime) -> Month:
        return local_month(now, self.zone)
