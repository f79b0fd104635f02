"""月征集's rules: who is called, once per month; who gets the second call; the theme; what a call says."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from models.errors import InvalidInput, PermissionDenied
from models.members import Member, MemberStatus
from models.outbox import Outbox
from models.preferences import turn_off_reminder
from models.roles import Role
from models.suggestions import Suggestion, SuggestionStatus
from models.suggestions.collection import (
    AGAIN_TOPIC,
    CALL_TOPIC,
    REMINDER_TOPIC,
    call_facts,
    collection_theme,
    enqueue_collection_calls,
    enqueue_second_calls,
    month_of,
    parse_month,
    reminder_off_in_scope,
    set_collection_theme,
)
from tests.factories import make_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, the month's first working day


def suggestion(
    session: Session,
    proposer: Member,
    title: str,
    *,
    submitted: datetime,
    adopted_on: datetime | None = None,
    anonymous: bool = False,
) -> Suggestion:
    row = Suggestion(
        proposer_id=proposer.id or 0,
        unit_id=proposer.unit_id,
        category="节能降耗",
        title=title,
        measure="……",
        anonymous=anonymous,
        submitted_at=submitted,
        adopted=True if adopted_on else None,
        decided_at=adopted_on,
        status=SuggestionStatus.ADOPTED if adopted_on else SuggestionStatus.SUBMITTED,
    )
    session.add(row)
    session.flush()
    return row


def keys(session: Session, topic: str) -> list[str]:
    return list(session.exec(select(Outbox.key).where(Outbox.topic == topic).order_by(col(Outbox.key))))


def test_every_member_is_called_once_a_month_but_who_turned_it_off(session: Session) -> None:
    zhang = make_member(session, employee_no="2101", name="张伟")
    chen = make_member(session, employee_no="2102", name="陈静")
    left = make_member(session, employee_no="2103", name="周强")
    left.status = MemberStatus.LEFT
    turn_off_reminder(session, actor=chen, topic=REMINDER_TOPIC)
    assert enqueue_collection_calls(session, month="2026-12", now=NOW) == 1
    assert enqueue_collection_calls(session, month="2026-12", now=NOW) == 0  # run twice: nothing twice
    assert keys(session, CALL_TOPIC) == [f"collect:2026-12:member:{zhang.id}"]
    # Another month, another call.
    assert enqueue_collection_calls(session, month="2027-01", now=NOW) == 1


def test_the_second_call_goes_only_to_units_with_nothing_filed_this_month(session: Session) -> None:
    jia = make_member(session, employee_no="2101", name="张伟", unit="厂工会/一车间/甲班")
    jia_too = make_member(session, employee_no="2102", name="陈静", unit="厂工会/一车间/甲班")
    yi = make_member(session, employee_no="2201", name="赵磊", unit="厂工会/一车间/乙班")
    bing = make_member(session, employee_no="2301", name="孙丽", unit="厂工会/一车间/丙班")
    # A suggestion of 甲班 counts for 一车间 above it too; 二车间 filed nothing.
    workshop = make_member(session, employee_no="2001", name="李委员", unit="厂工会/一车间")
    other_workshop = make_member(session, employee_no="3001", name="吴刚", unit="厂工会/二车间")
    turn_off_reminder(session, actor=bing, topic=REMINDER_TOPIC)
    # 甲班 filed on 3 December (Shanghai); 乙班 only on 30 November, last month.
    suggestion(session, jia, "余热回收", submitted=datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    suggestion(session, yi, "照明改造", submitted=datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    now = datetime(2026, 12, 29, 1, 0, tzinfo=UTC)
    assert enqueue_second_calls(session, month="2026-12", now=now, zone=SHANGHAI) == 2
    assert enqueue_second_calls(session, month="2026-12", now=now, zone=SHANGHAI) == 0
    assert keys(session, AGAIN_TOPIC) == sorted(
        f"collect-again:2026-12:member:{member.id}" for member in (yi, other_workshop)
    )
    assert {jia_too.id, workshop.id}.isdisjoint(
        int(key.rsplit(":", 1)[1]) for key in keys(session, AGAIN_TOPIC)
    )


def test_the_month_is_the_unions_not_the_servers() -> None:
    # 23:30 UTC on 30 November is 07:30 on 1 December in Shanghai.
    assert month_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), SHANGHAI) == "2026-12"
    assert month_of(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), SHANGHAI) == "2027-01"


def test_a_call_names_the_theme_the_units_count_and_last_months_adopted_ideas(session: Session) -> None:
    zhang = make_member(session, employee_no="2101", name="张伟", unit="厂工会/一车间/甲班")
    chen = make_member(session, employee_no="2102", name="陈静", unit="厂工会/一车间/甲班")
    other = make_member(session, employee_no="3101", name="吴刚", unit="厂工会/二车间/甲班")
    chair = make_member(
        session, employee_no="1001", name="王建国", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
    )
    suggestion(session, zhang, "去年的", submitted=datetime(2025, 12, 20, tzinfo=UTC))
    suggestion(
        session,
        zhang,
        "余热回收",
        submitted=datetime(2026, 10, 10, tzinfo=UTC),
        adopted_on=datetime(2026, 11, 12, tzinfo=UTC),
    )
    suggestion(
        session,
        chen,
        "夜班照明",
        submitted=datetime(2026, 11, 2, tzinfo=UTC),
        adopted_on=datetime(2026, 11, 20, tzinfo=UTC),
        anonymous=True,
    )
    suggestion(
        session,
        other,
        "别的车间的",
        submitted=datetime(2026, 11, 2, tzinfo=UTC),
        adopted_on=datetime(2026, 11, 21, tzinfo=UTC),
    )
    set_collection_theme(session, actor=chair, month="2026-12", theme=" 节能 降耗 ", now=NOW)
    facts = call_facts(session, member=chen, month="2026-12", zone=SHANGHAI)
    assert facts.theme == "节能 降耗"
    assert facts.unit_name == "甲班"
    assert facts.year_count == 2  # this year's two, not last December's
    assert [(idea.title, idea.proposer) for idea in facts.adopted] == [
        ("余热回收", "张伟"),
        ("夜班照明", None),
    ]
    assert facts.adopted_total == 2


def test_only_the_unions_chair_or_the_operator_sets_the_theme(session: Session) -> None:
    chair = make_member(session, employee_no="1001", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
    workshop = make_member(
        session, employee_no="2001", unit="厂工会/一车间", roles=[(Role.CHAIR, "厂工会/一车间")]
    )
    with pytest.raises(PermissionDenied):
        set_collection_theme(session, actor=workshop, month="2026-12", theme="安全生产", now=NOW)
    assert (
        set_collection_theme(session, actor=chair, month="2026-12", theme="安全生产", now=NOW) == "安全生产"
    )
    assert set_collection_theme(session, actor=None, month="2026-12", theme="节能降耗", now=NOW) == "节能降耗"
    assert collection_theme(session, "2026-12") == "节能降耗"
    with pytest.raises(InvalidInput) as too_long:
        set_collection_theme(session, actor=None, month="2026-12", theme="节" * 21, now=NOW)
    assert too_long.value.params == {"limit": 20, "count": 21}
    assert set_collection_theme(session, actor=chair, month="2026-12", theme=None, now=NOW) is None
    assert collection_theme(session, "2026-12") is None


def test_months_as_people_type_them() -> None:
    assert parse_month("2026-12") == "2026-12"
    assert parse_month("２０２６年３月") == "2026-03"
    with pytest.raises(InvalidInput):
        parse_month("2026-13")


def test_cadres_see_how_many_in_their_scope_turned_it_off(session: Session) -> None:
    workshop = make_member(
        session, employee_no="2001", unit="厂工会/一车间", roles=[(Role.COMMITTEE, "厂工会/一车间")]
    )
    inside = make_member(session, employee_no="2101", unit="厂工会/一车间/甲班")
    outside = make_member(session, employee_no="3101", unit="厂工会/二车间/甲班")
    plain = make_member(session, employee_no="2102", unit="厂工会/一车间/甲班")
    for member in (inside, outside):
        turn_off_reminder(session, actor=member, topic=REMINDER_TOPIC)
    assert reminder_off_in_scope(session, workshop) == 1
    assert reminder_off_in_scope(session, plain) is None
