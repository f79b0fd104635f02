"""The demo union's hardship files: a few applications at different stages, in the demo chair's queue."""

from __future__ import annotations

from sqlmodel import select

from bot.demo_data import DEMO_CADRE_NO, seed_demo
from models.base import utcnow
from models.db import SessionFactory
from models.hardship import CaseStatus, HardshipCase
from models.hardship.queries import case_queue
from models.members import get_member_by_employee_no


def test_the_demo_has_cases_at_every_stage_in_the_chairs_queue(db: SessionFactory) -> None:
    assert seed_demo(db) is True
    with db() as session:
        statuses = sorted(case.status for case in session.exec(select(HardshipCase)))
        chair = get_member_by_employee_no(session, DEMO_CADRE_NO)
        total, first = case_queue(session, actor=chair, today=utcnow().date())
    assert statuses == sorted([CaseStatus.RECEIVED, CaseStatus.VISITED, CaseStatus.REVIEW, CaseStatus.CLOSED])
    assert total == 3
    assert first[0].case.urgent
