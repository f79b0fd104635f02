"""The job list and the deadline job as the scheduler calls it: in the union's time, on its clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import col, select

from handlers.core.context import CoreConfig
from handlers.core.module import JobContext
from handlers.modules import REGISTRY
from handlers.suggestions.reminders import queue_deadline_pushes
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import SuggestionDraft, SuggestionPolicy, submit_suggestion
from models.suggestions.deadlines import DUE_TOPIC, OVERDUE_TOPIC
from scheduler.jobs import trigger
from tests.factories import HOSTILE_BODY, make_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = SuggestionPolicy()


def test_the_deadline_job_runs_at_half_past_eight_in_the_unions_zone() -> None:
    [job] = [job for job in REGISTRY.jobs if job.id == "suggestion_deadlines"]
    assert job.catch_up
    # 09:00 in Shanghai on Monday 23 November: the next run is Tuesday 08:30 there, 00:30 UTC.
    after = trigger(job, SHANGHAI).get_next_fire_time(None, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))
    assert after == datetime(2026, 11, 24, 8, 30, tzinfo=SHANGHAI)
    assert after.astimezone(UTC) == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    # Another zone, another hour in UTC.
    berlin = trigger(job, ZoneInfo("Europe/Berlin"))
    assert berlin.get_next_fire_time(None, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)).astimezone(
        UTC
    ) == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


def test_day_by_day_the_job_reminds_then_escalates_once(db: SessionFactory) -> None:
    start = datetime(2026, 11, 18, 0, 30, tzinfo=UTC)  # Wednesday, 08:30 in Shanghai
    with time_machine.travel(start, tick=False) as traveller:
        with db() as session:
            proposer = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
            make_member(session, employee_no="C1", name="李委员", roles=[(Role.COMMITTEE, "厂工会/一车间")])
            make_member(session, employee_no="C0", name="王主席", roles=[(Role.CHAIR, "厂工会")])
            draft = SuggestionDraft(
                category="节能降耗", title="余热回收", measure=HOSTILE_BODY, anonymous=True
            )
            submit_suggestion(session, actor=proposer, draft=draft, policy=POLICY, now=start)
        context = JobContext(sessions=db, config=CoreConfig())
        queued: dict[str, int] = {}
        for day in range(8):
            # The job twice a day: start-up's catch-up run and the morning one.
            queued[(start + timedelta(days=day)).date().isoformat()] = queue_deadline_pushes(
                context
            ) + queue_deadline_pushes(context)
            traveller.shift(timedelta(days=1))
    # Due Monday 23rd: reminded Friday, escalated Tuesday, quiet at the weekend and after.
    assert {day: count for day, count in queued.items() if count} == {"2026-11-20": 1, "2026-11-24": 1}
    with db() as session:
        names = {member.id: member.name for member in session.exec(select(Member))}
        rows = session.exec(
            select(Outbox).where(col(Outbox.topic).in_([DUE_TOPIC, OVERDUE_TOPIC])).order_by(col(Outbox.id))
        ).all()
        assert [(row.topic, names[row.member_id]) for row in rows] == [
            (DUE_TOPIC, "李委员"),
            (OVERDUE_TOPIC, "王主席"),
        ]
