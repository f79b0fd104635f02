"""The monthly job: the month opened once, members reminded once, each collector and chair told once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from handlers.core.module import JobContext
from handlers.dues.reminders import REMINDERS_JOB
from models.db import SessionFactory
from models.dues.ledger import System, open_month, record_dues_payment
from models.dues.reminders import (
    CHAIR_TOPIC,
    MEMBER_TOPIC,
    UNIT_TOPIC,
    enqueue_dues_reminders,
    months_to_open,
)
from models.dues.tables import DuesMonth, DuesPeriod, DuesPolicy
from models.outbox import Outbox
from models.preferences import turn_off_reminder
from tests.models.dues.union import DECEMBER, NOW, POLICY, Union, build_union


def keys(session: Session, topic: str | None = None) -> list[str]:
    query = select(Outbox.key).order_by(col(Outbox.key))
    if topic is not None:
        query = query.where(Outbox.topic == topic)
    return list(session.exec(query))


def run_job(db: SessionFactory, policy: DuesPolicy = POLICY) -> int:
    context = JobContext(sessions=db, config=CoreConfig(policies={DuesPolicy: policy}))
    return REMINDERS_JOB.run(context)


@pytest.fixture
def union(db: SessionFactory) -> Union:
    with db() as session:
        return build_union(session)


def test_run_twice_queues_nothing_twice(db: SessionFactory, union: Union) -> None:
    with time_machine.travel(NOW, tick=False):
        first = run_job(db)
        second = run_job(db)
    assert first > 0
    assert second == 0
    with db() as session:
        members = keys(session, MEMBER_TOPIC)
        assert members == sorted(
            f"dues:2026-12:member:{m.id}" for m in (union.a1, union.a2, union.a3, union.b1, union.c1)
        )
        assert len(keys(session)) == first


def test_keys_name_the_period_so_next_month_reminds_again(db: SessionFactory, union: Union) -> None:
    with time_machine.travel(NOW, tick=False):
        run_job(db)
    with time_machine.travel(datetime(2027, 1, 5, 1, 0, tzinfo=UTC), tick=False):
        assert run_job(db) > 0
    with db() as session:
        assert f"dues:2027-01:member:{union.a1.id}" in keys(session, MEMBER_TOPIC)
        assert sorted(session.exec(select(DuesPeriod.month))) == [DECEMBER, 202701]


def test_a_year_end_evening_in_utc_is_already_january_in_shanghai(db: SessionFactory, union: Union) -> None:
    # 31 December 2026, 17:00 UTC is 1 January 2027, 01:00 in Shanghai.
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        run_job(db)
    with db() as session:
        assert f"dues:2027-01:member:{union.a1.id}" in keys(session, MEMBER_TOPIC)


def test_a_missed_month_is_opened_on_the_next_run(db: SessionFactory, union: Union) -> None:
    with db() as session:
        open_month(session, 202610, now=NOW)
        assert months_to_open(session, current=DECEMBER, policy=POLICY) == [202611, DECEMBER]
    with time_machine.travel(NOW, tick=False):
        run_job(db)
    with db() as session:
        charged = session.exec(select(DuesMonth.month).where(DuesMonth.member_id == union.a1.id)).all()
        assert sorted(charged) == [202610, 202611, DECEMBER]


def test_the_first_run_starts_at_the_start_setting(db: SessionFactory, union: Union) -> None:
    with db() as session:
        policy = replace(POLICY, start_month=202609)
        assert months_to_open(session, current=DECEMBER, policy=policy) == [202609, 202610, 202611, DECEMBER]
        assert months_to_open(session, current=DECEMBER, policy=POLICY) == [DECEMBER]


def test_members_who_paid_are_not_reminded(db: SessionFactory, union: Union) -> None:
    with db() as session:
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=union.a1,
            month=DECEMBER,
            amount_fen=2500,
            now=NOW,
            current=DECEMBER,
        )
        enqueue_dues_reminders(session, now=NOW, policy=POLICY)
        assert f"dues:2026-12:member:{union.a1.id}" not in keys(session, MEMBER_TOPIC)
        assert f"dues:2026-12:member:{union.a2.id}" in keys(session, MEMBER_TOPIC)


def test_an_opt_out_is_honoured_only_where_the_union_allows_it(db: SessionFactory, union: Union) -> None:
    with db() as session:
        turn_off_reminder(session, actor=union.a1, topic="dues")
    with db() as session:
        enqueue_dues_reminders(session, now=NOW, policy=replace(POLICY, reminder_optional=True))
        assert f"dues:2026-12:member:{union.a1.id}" not in keys(session, MEMBER_TOPIC)
        assert f"dues:2026-12:member:{union.a2.id}" in keys(session, MEMBER_TOPIC)
    with db() as session:
        enqueue_dues_reminders(session, now=NOW, policy=replace(POLICY, reminder_optional=False))
        assert f"dues:2026-12:member:{union.a1.id}" in keys(session, MEMBER_TOPIC)


def test_collectors_and_chairs_get_their_digests(db: SessionFactory, union: Union) -> None:
    with db() as session:
        enqueue_dues_reminders(session, now=NOW, policy=POLICY)
        tree = {
            path: union.unit(session, path).id
            for path in ("厂工会", "厂工会/一车间", "厂工会/一车间/甲班", "厂工会/一车间/乙班")
        }
        # 甲班's 收缴员; 乙班 has none, so its 小组长; 丙班 has neither, so nobody.
        assert keys(session, UNIT_TOPIC) == sorted(
            [
                f"dues-unit:2026-12:unit:{tree['厂工会/一车间/甲班']}:member:{union.treasurer.id}",
                f"dues-unit:2026-12:unit:{tree['厂工会/一车间/乙班']}:member:{union.leader.id}",
            ]
        )
        assert keys(session, CHAIR_TOPIC) == sorted(
            [
                f"dues-chair:2026-12:unit:{tree['厂工会']}:member:{union.chair.id}",
                f"dues-chair:2026-12:unit:{tree['厂工会/一车间']}:member:{union.workshop_chair.id}",
            ]
        )


def test_the_job_runs_at_nine_on_the_third_working_day_in_the_unions_zone() -> None:
    from zoneinfo import ZoneInfo

    from scheduler.jobs import trigger

    shanghai = ZoneInfo("Asia/Shanghai")
    assert REMINDERS_JOB.catch_up
    monthly = trigger(REMINDERS_JOB, shanghai)
    assert monthly is not None
    # The third working day: Wednesday 4 November; after 国庆, Saturday 10 October (a make-up day).
    after = monthly.get_next_fire_time(None, datetime(2026, 10, 31, 9, 30, tzinfo=shanghai))
    assert after == datetime(2026, 11, 4, 9, 0, tzinfo=shanghai)
    after = monthly.get_next_fire_time(None, datetime(2026, 9, 30, 12, 0, tzinfo=shanghai))
    assert after == datetime(2026, 10, 10, 9, 0, tzinfo=shanghai)
