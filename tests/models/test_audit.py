"""The audit log keeps every opening, refused attempts included, and only an admin reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import Session, select

from models.audit import AuditEntry, list_audit, record_audit
from models.db import SessionFactory
from models.errors import PermissionDenied
from models.roles import Role
from tests.factories import make_member


def test_an_admin_lists_entries_newest_first_filtered_by_member_and_time(session: Session) -> None:
    admin = make_member(session, employee_no="9001", name="管理员", roles=[(Role.ADMIN, "厂工会")])
    cadre = make_member(session, employee_no="2001", name="李委员", roles=[(Role.COMMITTEE, "厂工会")])
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        record_audit(
            session, actor=cadre, action="hardship.case.open", subject="hardship_case:1", channel="wechat"
        )
    with time_machine.travel(datetime(2026, 12, 2, 9, tzinfo=UTC), tick=False):
        record_audit(session, actor=admin, action="hardship.export", subject="campaign:1", channel="console")
        record_audit(session, actor=None, action="hardship.erase", subject="hardship_case:1", channel="job")
    session.commit()

    rows = list_audit(session, actor=admin)
    assert [(row.actor_employee_no, row.action) for row in rows] == [
        (None, "hardship.erase"),
        ("9001", "hardship.export"),
        ("2001", "hardship.case.open"),
    ]
    assert [row.subject for row in list_audit(session, actor=admin, member_employee_no="2001")] == [
        "hardship_case:1"
    ]
    since = datetime(2026, 12, 2, tzinfo=UTC)
    assert len(list_audit(session, actor=admin, since=since)) == 2
    assert len(list_audit(session, actor=None, limit=1)) == 1


def test_only_an_admin_reads_the_log(session: Session) -> None:
    cadre = make_member(session, employee_no="2001", roles=[(Role.CHAIR, "厂工会")])
    with pytest.raises(PermissionDenied):
        list_audit(session, actor=cadre)


def test_a_refused_attempt_stays_on_record_after_the_rollback_its_refusal_causes(db: SessionFactory) -> None:
    with db() as session:
        member = make_member(session, employee_no="3001")
    with db() as session:
        record_audit(
            session, actor=member, action="hardship.case.open", subject="hardship_case:7", channel="telegram"
        )
        record_audit(
            session,
            actor=member,
            action="hardship.case.open",
            subject="hardship_case:8",
            channel="telegram",
            allowed=False,
        )
        session.rollback()  # what the router does when a domain rule refuses
    with db() as session:
        entries = session.exec(select(AuditEntry)).all()
        assert [(entry.subject, entry.allowed) for entry in entries] == [("hardship_case:8", False)]


def test_a_committed_refusal_is_not_written_twice_by_a_later_rollback(db: SessionFactory) -> None:
    with db() as session:
        record_audit(session, actor=None, action="a", subject="s", channel="job", allowed=False)
        session.commit()
        session.rollback()
    with db() as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1
