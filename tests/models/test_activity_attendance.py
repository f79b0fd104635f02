"""Check-in codes: one per activity and day, recognised only on the day by those signed up; a
cadre marks attendance only on their own activities and from the day on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.activities import create_activity, sign_up
from models.activities.attendance import CheckInOutcome, check_in, checkin_code, mark_attendance
from models.errors import InvalidInput, PermissionDenied
from models.roles import Role
from tests.factories import make_member
from tests.models.test_activities import draft, member

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STARTS = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
DAY = STARTS.astimezone(SHANGHAI).date()


@pytest.fixture
def two(session: Session) -> tuple[int, int]:
    chair = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
    make_member(session, employee_no="1001")
    make_member(session, employee_no="1002")
    first = create_activity(session, actor=chair, draft=draft(session, starts_at=STARTS), now=NOW)
    second = create_activity(session, actor=chair, draft=draft(session, starts_at=STARTS), now=NOW)
    assert first.id is not None
    assert second.id is not None
    sign_up(session, actor=member(session, "1001"), activity_id=first.id, now=NOW)
    sign_up(session, actor=member(session, "1002"), activity_id=second.id, now=NOW)
    return first.id, second.id


def test_codes_differ_by_activity_and_by_day_and_stay_the_same_within_a_day(
    session: Session, two: tuple[int, int]
) -> None:
    chair = member(session, "C1")
    first, second = two
    code = checkin_code(session, actor=chair, activity_id=first, day=DAY)
    assert len(code) == 6
    assert code.isdigit()
    assert checkin_code(session, actor=chair, activity_id=first, day=DAY) == code
    assert checkin_code(session, actor=chair, activity_id=second, day=DAY) != code
    assert checkin_code(session, actor=chair, activity_id=first, day=DAY + timedelta(days=1)) != code


def test_only_the_signed_up_on_the_day_check_in_and_each_wrong_code_is_told_apart(
    session: Session, two: tuple[int, int]
) -> None:
    chair = member(session, "C1")
    first, second = two
    code = checkin_code(session, actor=chair, activity_id=first, day=DAY)
    other_code = checkin_code(session, actor=chair, activity_id=second, day=DAY)
    mine, theirs = member(session, "1001"), member(session, "1002")
    on_the_day = STARTS - timedelta(hours=1)

    def refused(who: object, typed: str, when: datetime) -> str:
        with pytest.raises(InvalidInput) as error:
            check_in(session, actor=who, code=typed, now=when, zone=SHANGHAI)  # type: ignore[arg-type]
        return error.value.code

    assert refused(mine, code, STARTS - timedelta(days=1)) == "checkin.wrong_day"
    assert refused(mine, "12 34", on_the_day) == "checkin.bad_code"
    assert refused(mine, other_code, on_the_day) == "checkin.not_signed_up"
    assert refused(mine, "000000" if code != "000000" else "000001", on_the_day) == "checkin.bad_code"
    result = check_in(session, actor=mine, code=f" {code[:3]} {code[3:]}", now=on_the_day, zone=SHANGHAI)
    assert result.outcome is CheckInOutcome.CHECKED_IN
    assert result.activity.id == first
    assert (
        check_in(session, actor=mine, code=code, now=on_the_day, zone=SHANGHAI).outcome
        is CheckInOutcome.ALREADY
    )
    assert check_in(session, actor=theirs, code=other_code, now=on_the_day, zone=SHANGHAI).outcome is (
        CheckInOutcome.CHECKED_IN
    )
    assert refused(mine, code, STARTS + timedelta(days=1)) == "checkin.wrong_day"
    unknown = next(n for n in ("123456", "654321") if n not in (code, other_code))
    assert refused(theirs, unknown, STARTS + timedelta(days=1)) == "checkin.nothing_today"


def test_a_cadre_marks_attendance_only_on_their_activities_and_from_the_day_on(
    session: Session, two: tuple[int, int]
) -> None:
    first, _second = two
    chair = member(session, "C1")
    outsider = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    mine = member(session, "1001")
    assert mine.id is not None
    with pytest.raises(InvalidInput) as early:
        mark_attendance(session, actor=chair, activity_id=first, member_ids=[mine.id], now=NOW)
    assert early.value.code == "activity.not_started"
    with pytest.raises(PermissionDenied):
        mark_attendance(session, actor=outsider, activity_id=first, member_ids=[mine.id], now=STARTS)
    assert mark_attendance(session, actor=chair, activity_id=first, member_ids=[mine.id], now=STARTS) == 1
    assert mark_attendance(session, actor=chair, activity_id=first, member_ids=[mine.id], now=STARTS) == 0
