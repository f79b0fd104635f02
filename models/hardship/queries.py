"""Reading hardship cases: the cadre's queue and its counts, a member's own applications, a case by number.

A member reads their applications as :class:`MyCase`: where each stands, the
next step and what was given — never a cadre's notes, nor who visited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.hardship.actions import hardship_scope
from models.hardship.cases import (
    NUMBER_PREFIX,
    OPEN_STATUSES,
    CaseStatus,
    HardshipCase,
    HardshipDisbursement,
)
from models.members import Member
from models.units import Unit


def _in_units(units: Sequence[Unit]) -> sa.ColumnElement[bool]:
    return sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in units))


@dataclass(frozen=True)
class QueueEntry:
    """One line of the cadre's queue: the case, whose it is, and its unit."""

    case: HardshipCase
    member_name: str
    unit: Unit

    @property
    def unit_id(self) -> int:
        return self.case.unit_id


@dataclass(frozen=True)
class QueueCounts:
    open: int
    urgent: int
    overdue: int


def case_queue(
    session: Session, *, actor: Member, today: date, offset: int = 0, limit: int = 5
) -> tuple[int, Sequence[QueueEntry]]:
    """Open cases of the actor's subtree: overdue first, then urgent, then by deadline, then oldest.

    Raises:
        PermissionDenied: the actor handles hardship nowhere.
    """
    units = hardship_scope(session, actor)
    conditions = [_in_units(units), col(HardshipCase.status).in_(sorted(OPEN_STATUSES))]
    base = (
        select(HardshipCase, Member.name, Unit)
        .join(Unit, col(Unit.id) == HardshipCase.unit_id)
        .join(Member, col(Member.id) == HardshipCase.member_id)
        .where(*conditions)
    )
    total = session.exec(
        select(func.count())
        .select_from(HardshipCase)
        .join(Unit, col(Unit.id) == HardshipCase.unit_id)
        .where(*conditions)
    ).one()
    overdue = sa.case((col(HardshipCase.due_on) < today, 0), else_=1)
    urgent = sa.case((col(HardshipCase.urgent), 0), else_=1)
    no_deadline = sa.case((col(HardshipCase.due_on).is_(None), 1), else_=0)
    rows = session.exec(
        base.order_by(overdue, urgent, no_deadline, col(HardshipCase.due_on), col(HardshipCase.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return total, [QueueEntry(case, name, unit) for case, name, unit in rows]


def queue_counts(session: Session, *, actor: Member, today: date) -> QueueCounts:
    """How many open cases the actor's units hold, how many urgent, how many late: one query."""
    units = hardship_scope(session, actor)
    row = session.execute(
        sa.select(
            func.count(),
            func.coalesce(func.sum(sa.case((col(HardshipCase.urgent), 1), else_=0)), 0),
            func.coalesce(func.sum(sa.case((col(HardshipCase.due_on) < today, 1), else_=0)), 0),
        )
        .select_from(HardshipCase)
        .join(Unit, col(Unit.id) == HardshipCase.unit_id)
        .where(_in_units(units), col(HardshipCase.status).in_(sorted(OPEN_STATUSES)))
    ).one()
    return QueueCounts(open=int(row[0]), urgent=int(row[1]), overdue=int(row[2]))


@dataclass(frozen=True)
class MyCase:
    """An application as its member reads it: the stage and what was given, no notes."""

    id: int
    number: str
    category: str
    status: CaseStatus
    submitted_on: date
    filed_by_cadre: bool
    next_review_on: date | None
    given: Sequence[HardshipDisbursement]


def my_cases(session: Session, *, actor: Member, zone: tzinfo) -> list[MyCase]:
    """The member's own applications, newest first, each with what was given: two queries.

    ``zone``: the union's, for the day each was sent.
    """
    cases = session.exec(
        select(HardshipCase).where(HardshipCase.member_id == actor.id).order_by(col(HardshipCase.id).desc())
    ).all()
    if not cases:
        return []
    given = session.exec(
        select(HardshipDisbursement)
        .where(col(HardshipDisbursement.case_id).in_([case.id for case in cases]))
        .order_by(col(HardshipDisbursement.given_on), col(HardshipDisbursement.id))
    ).all()
    return [
        MyCase(
            id=case.id or 0,
            number=case.number,
            category=case.category.value,
            status=case.status,
            submitted_on=case.submitted_at.astimezone(zone).date(),
            filed_by_cadre=case.filed_by_id is not None,
            next_review_on=case.next_review_on,
            given=[row for row in given if row.case_id == case.id],
        )
        for case in cases
    ]


_TYPED_NUMBER = re.compile(
    rf"(?:{NUMBER_PREFIX.lower()}\s*[-_ ]?\s*)?"
    r"(?:(?P<year>\d{4})\s*[-_ ]\s*)?(?P<serial>\d{1,9})\s*[号號]?"
)


def parse_case_number(text: str) -> int | None:
    """The case id a cadre typed: ``KN-2026-000012``, ``KN12``, ``12号``; None when it is no number."""
    said = unicodedata.normalize("NFKC", text).strip().casefold()
    match = _TYPED_NUMBER.fullmatch(said)
    if match is None:
        return None
    serial = int(match["serial"])
    return serial or None
