"""Time limits kept: the nearest handlers are reminded, the unit above hears when they are late, once each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from models.hardship import HardshipPolicy, record_contact
from models.hardship.deadlines import DUE_TOPIC, OVERDUE_TOPIC, enqueue_deadline_pushes
from models.outbox import Outbox
from tests.factories import make_member
from tests.models.hardship.cast import NOW, Cast, apply, cast

__all__ = ["cast"]

POLICY = HardshipPolicy()


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


def _pushes(session: Session, topic: str) -> list[tuple[int, bool]]:
    rows = session.exec(select(Outbox).where(Outbox.topic == topic).order_by(col(Outbox.id))).all()
    return [(row.member_id, row.urgent) for row in rows]


def test_reminded_the_working_day_before_escalated_the_day_after_and_each_once(
    session: Session, cast: Cast
) -> None:
    apply(session, cast.member)  # contact due Thursday 26 November
    assert enqueue_deadline_pushes(session, now=at(24), policy=POLICY) == 0
    assert enqueue_deadline_pushes(session, now=at(25), policy=POLICY) == 1
    assert enqueue_deadline_pushes(session, now=at(25), policy=POLICY) == 0
    assert enqueue_deadline_pushes(session, now=at(26), policy=POLICY) == 0
    assert _pushes(session, DUE_TOPIC) == [(cast.chair.id, False)]
    assert enqueue_deadline_pushes(session, now=at(27), policy=POLICY) == 1
    assert _pushes(session, OVERDUE_TOPIC) == [(cast.top.id, False)]


def test_a_step_taken_starts_the_next_clock_with_new_keys(session: Session, cast: Cast) -> None:
    case = apply(session, cast.member, urgent=True)  # contact due Tuesday 24, visit Monday 30
    assert case.id is not None
    assert enqueue_deadline_pushes(session, now=at(23), policy=POLICY) == 1
    assert _pushes(session, DUE_TOPIC) == [(cast.chair.id, True)], "urgent: outside quiet hours too"
    record_contact(
        session,
        actor=cast.chair,
        case_id=case.id,
        expected_version=1,
        note="已联系。",
        policy=POLICY,
        now=NOW,
    )
    assert enqueue_deadline_pushes(session, now=at(25), policy=POLICY) == 0, "contacted: nobody is late"
    assert enqueue_deadline_pushes(session, now=at(27), policy=POLICY) == 1  # the visit, due Monday


def test_no_reminders_on_a_rest_day_and_no_escalation_of_old_lateness(session: Session, cast: Cast) -> None:
    apply(session, cast.member)
    assert enqueue_deadline_pushes(session, now=at(28), policy=POLICY) == 0  # Saturday
    assert (
        enqueue_deadline_pushes(session, now=at(15, 12), policy=POLICY) == 0
    )  # weeks late: the queue shows it


def test_a_unit_without_a_handler_is_answered_for_by_the_nearest_unit_above(
    session: Session, cast: Cast
) -> None:
    lone = make_member(session, employee_no="3001", name="周敏", unit="厂工会/三车间/甲班")
    urgent = apply(session, lone, urgent=True)
    new = session.exec(
        select(Outbox).where(Outbox.subject_id == urgent.id, Outbox.topic == "hardship_new")
    ).all()
    assert [(row.member_id, row.urgent) for row in new] == [(cast.top.id, True)]
    grouped = apply(session, cast.group_member)
    new = session.exec(
        select(Outbox).where(Outbox.subject_id == grouped.id, Outbox.topic == "hardship_new")
    ).all()
    assert [row.member_id for row in new] == [cast.chair.id]
