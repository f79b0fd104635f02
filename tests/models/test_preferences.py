"""A member turns a reminder off and on again; jobs leave out whoever turned it off."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.members import Member
from models.preferences import (
    count_reminder_off,
    members_with_reminder_off,
    reminders_off,
    turn_off_reminder,
    turn_on_reminder,
)
from tests.factories import make_member


def test_a_reminder_turned_off_twice_is_off_once_and_on_again_after(session: Session) -> None:
    member = make_member(session)
    turn_off_reminder(session, actor=member, topic="collect")
    turn_off_reminder(session, actor=member, topic="collect")
    session.commit()
    assert reminders_off(session, member.id or 0) == {"collect"}
    assert count_reminder_off(session, "collect") == 1
    turn_on_reminder(session, actor=member, topic="collect")
    session.commit()
    assert reminders_off(session, member.id or 0) == frozenset()
    assert count_reminder_off(session, "collect") == 0


def test_a_job_leaves_out_only_who_turned_its_own_topic_off(session: Session) -> None:
    quiet, dues_only, keen = (make_member(session, employee_no=no) for no in ("1001", "1002", "1003"))
    turn_off_reminder(session, actor=quiet, topic="collect")
    turn_off_reminder(session, actor=dues_only, topic="dues")
    session.commit()
    recipients = session.exec(
        select(Member.id)
        .where(col(Member.id).not_in(members_with_reminder_off("collect")))
        .order_by(col(Member.id))
    ).all()
    assert recipients == [dues_only.id, keen.id]
    among = select(Member.id).where(col(Member.id).in_([quiet.id, keen.id]))
    assert count_reminder_off(session, "collect", among) == 1  # type: ignore[arg-type]
