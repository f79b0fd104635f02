"""Participation figures on a small union whose every figure is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.activities import cancel_activity, create_activity, sign_up
from models.activities.attendance import mark_attendance
from models.activities.figures import participation_report, participation_scores
from models.errors import PermissionDenied
from models.periods import Period, PeriodKind
from models.roles import Role
from models.units import UnitTree
from tests.factories import make_member
from tests.models.test_activities import draft, member, unit_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
DECEMBER = Period(2026, PeriodKind.MONTH, 12)
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
HELD = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


@pytest.fixture
def union(session: Session) -> None:
    """A (一车间, three signed up, two there) and B (the whole union, two signed up, one there) in
    December; C called off and D in January add nothing."""
    chair = make_member(session, employee_no="C0", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
    make_member(session, employee_no="1001")
    make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="1003", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="2001", unit="厂工会/二车间")

    def held(path: str, starts: datetime, who: list[str], there: list[str]) -> int:
        activity = create_activity(
            session,
            actor=chair,
            draft=draft(session, path, starts_at=starts, signup_deadline=starts - timedelta(days=1)),
            now=NOW,
        )
        assert activity.id is not None
        for number in who:
            sign_up(session, actor=member(session, number), activity_id=activity.id, now=NOW)
        ids = [member(session, number).id or 0 for number in there]
        if ids:
            mark_attendance(session, actor=chair, activity_id=activity.id, member_ids=ids, now=starts)
        return activity.id

    held("厂工会/一车间", HELD, ["1001", "1002", "1003"], ["1001", "1002"])
    held("厂工会", HELD + timedelta(days=3), ["1001", "2001"], ["2001"])
    off = held("厂工会", HELD + timedelta(days=4), ["1003"], [])
    cancel_activity(session, actor=chair, activity_id=off, now=NOW)
    held("厂工会", datetime(2027, 1, 8, 6, 0, tzinfo=UTC), ["1003"], ["1003"])


def test_the_table_of_a_union_and_its_workshops(session: Session, union: None) -> None:
    chair = member(session, "C0")
    top = UnitTree(session).find("厂工会")
    assert top is not None
    start, end = DECEMBER.bounds(SHANGHAI)
    rows = participation_report(session, actor=chair, unit=top, start=start, end=end)
    table = [
        (
            r.unit.name,
            r.activities,
            r.signups,
            r.attended,
            r.attendance_rate,
            r.members,
            r.took_part,
            r.per_100,
        )
        for r in rows
    ]
    assert table == [
        ("厂工会", 2, 5, 3, Decimal("60.0"), 5, 3, Decimal("60.0")),
        ("一车间", 2, 4, 2, Decimal("50.0"), 3, 2, Decimal("66.7")),
        ("二车间", 1, 1, 1, Decimal("100.0"), 1, 1, Decimal("100.0")),
    ]


def test_the_ranking_input_is_took_part_per_100_and_nothing_where_nothing_was_held(
    session: Session, union: None
) -> None:
    first, second = unit_id(session, "厂工会/一车间"), unit_id(session, "厂工会/二车间")
    subtrees = {first: frozenset({first}), second: frozenset({second})}
    start, end = DECEMBER.bounds(SHANGHAI)
    scores = participation_scores(session, start=start, end=end, subtrees=subtrees)
    assert scores == pytest.approx({first: 200 / 3, second: 100.0})
    november = Period(2026, PeriodKind.MONTH, 11).bounds(SHANGHAI)
    assert participation_scores(session, start=november[0], end=november[1], subtrees=subtrees) == {}


def test_a_cadre_sees_only_units_in_their_scope(session: Session, union: None) -> None:
    outsider = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    top = UnitTree(session).find("厂工会")
    assert top is not None
    start, end = DECEMBER.bounds(SHANGHAI)
    with pytest.raises(PermissionDenied):
        participation_report(session, actor=outsider, unit=top, start=start, end=end)
