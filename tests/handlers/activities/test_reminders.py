"""Reminders before an activity: a day and an hour before, once each, to those still signed up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from handlers.activities.reminders import queue_activity_reminders, render_reminder
from handlers.activities.settings import ActivitySettings
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.module import JobContext
from handlers.core.router import Bot
from models.activities import REMINDER_TOPIC, ActivityDraft, ActivityPolicy, create_activity, sign_up
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from models.units import UnitTree
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat

STARTS = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai, as organise() sets it


def _reminders() -> SelectOfScalar[Outbox]:
    return select(Outbox).where(Outbox.topic == REMINDER_TOPIC).order_by(col(Outbox.id))


def _reminded(db: SessionFactory) -> list[tuple[str, int]]:
    with db() as session:
        names = {member.id: member.name for member in session.exec(select(Member))}
        rows = session.exec(_reminders()).all()
        return [(names[row.member_id], row.params["lead_minutes"]) for row in rows]


def test_a_day_and_an_hour_before_each_signed_up_member_is_reminded_once(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="不限")
    cadre.send("确认")
    for key in ("member", "second"):
        chat = Chat(bot, key=key)
        chat.send("活动报名")
        chat.send("1")
        chat.send("报名", expect="报名成功")
    second = Chat(bot, key="second")  # 赵强 changes his mind before the deadline: no reminders for him
    second.send("我的报名")
    second.send("1")
    second.press("取消报名")
    second.press("是", expect="已取消报名")
    context = JobContext(sessions=db, config=CoreConfig())
    assert queue_activity_reminders(context) == 0  # five days ahead: nothing yet
    clock.move_to(STARTS - timedelta(hours=24, minutes=-2))
    assert queue_activity_reminders(context) == 1
    # A restart: a new context runs the job again, and again five minutes on; nothing twice.
    assert queue_activity_reminders(JobContext(sessions=db, config=CoreConfig())) == 0
    clock.shift(timedelta(minutes=5))
    assert queue_activity_reminders(context) == 0
    clock.move_to(STARTS - timedelta(minutes=58))
    assert queue_activity_reminders(context) == 1
    assert queue_activity_reminders(context) == 0
    clock.move_to(STARTS + timedelta(minutes=1))
    assert queue_activity_reminders(context) == 0  # started: nothing more
    assert _reminded(db) == [("李娜", 1440), ("李娜", 60)]
    with db() as session:
        rows = session.exec(_reminders()).all()
        push = render_reminder(session, rows[0], catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert push.title == "活动提醒"
        assert push.reply.text == (
            "【活动提醒】您报名的活动“职工篮球赛”将于 2026-11-28 14:00 在职工之家体育馆举行，请准时参加。\n"
            "如果去不了，请回复“我的报名”取消报名，把名额让给别人。"
        )
        for locale in ("zh_TW", "en"):
            assert render_reminder(session, rows[0], catalogues.get(locale), SHANGHAI) is not None


def test_a_reminder_queued_before_the_activity_is_called_off_says_nothing(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    clock.move_to(STARTS - timedelta(hours=23))
    context = JobContext(sessions=db, config=CoreConfig())
    assert queue_activity_reminders(context) == 1
    cadre.send("我发起的活动")
    cadre.send("1")
    cadre.press("取消活动")
    cadre.send("跳过")
    cadre.press("是", expect="已取消活动")
    clock.move_to(STARTS - timedelta(minutes=30))
    assert queue_activity_reminders(context) == 0
    with db() as session:
        row = session.exec(_reminders()).one()
        assert render_reminder(session, row, catalogues.get("zh_CN"), SHANGHAI) is None


def test_a_reminder_missed_while_down_goes_once_and_the_longer_one_not_at_all(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    context = JobContext(sessions=db, config=CoreConfig())
    clock.move_to(STARTS - timedelta(hours=3))  # down from two days before until three hours before
    assert queue_activity_reminders(context) == 1
    clock.move_to(STARTS - timedelta(minutes=20))  # down again through the hour-before moment
    assert queue_activity_reminders(context) == 1
    assert _reminded(db) == [("李娜", 1440), ("李娜", 60)]


def test_who_signs_up_after_a_reminders_moment_is_not_told_again_what_they_just_read(
    db: SessionFactory, union: None, clock: time_machine.Traveller
) -> None:
    with db() as session:
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        unit = UnitTree(session).find("厂工会/一车间")
        assert unit is not None
        assert unit.id is not None
        draft = ActivityDraft(
            title="午间讲座",
            description="一小时课堂。",
            place="三楼会议室",
            starts_at=STARTS,
            signup_deadline=STARTS - timedelta(hours=1),  # sign-up open until an hour before
            capacity=None,
            unit_ids=(unit.id,),
        )
        activity_id = create_activity(session, actor=cadre, draft=draft, now=datetime.now(UTC)).id
        assert activity_id is not None
        early = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        sign_up(session, actor=early, activity_id=activity_id, now=STARTS - timedelta(hours=80))
        late = session.exec(select(Member).where(Member.employee_no == "1002")).one()
        sign_up(session, actor=late, activity_id=activity_id, now=STARTS - timedelta(hours=10))
    clock.move_to(STARTS - timedelta(hours=10))
    policy: dict[type, object] = {
        ActivityPolicy: ActivityPolicy(remind_before=(timedelta(hours=24), timedelta(hours=1)))
    }
    context = JobContext(sessions=db, config=CoreConfig(policies=policy))
    assert queue_activity_reminders(context) == 1
    clock.move_to(STARTS - timedelta(minutes=59))
    assert queue_activity_reminders(context) == 2
    assert _reminded(db) == [("李娜", 1440), ("李娜", 60), ("赵强", 60)]


@pytest.fixture
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_the_reminder_times_are_a_setting_read_and_checked_at_start_up(
    monkeypatch: pytest.MonkeyPatch, no_env_file: None
) -> None:
    assert ActivitySettings().policy(SHANGHAI).remind_before == (timedelta(hours=24), timedelta(hours=1))
    assert ActivitySettings().policy(SHANGHAI).confirm_hours == 48
    monkeypatch.setenv("UNIONBOT_ACTIVITY_LOTTERY_CONFIRM_HOURS", "24")
    assert ActivitySettings().policy(SHANGHAI).confirm_hours == 24
    monkeypatch.setenv("UNIONBOT_ACTIVITY_REMINDERS", "30m, 2d")
    assert ActivitySettings().policy(SHANGHAI).remind_before == (timedelta(days=2), timedelta(minutes=30))
    monkeypatch.setenv("UNIONBOT_ACTIVITY_REMINDERS", "")
    assert ActivitySettings().policy(SHANGHAI).remind_before == ()
    for wrong in ("1 week", "0h", "1h,60m", "1d,2d,3d,4d"):
        monkeypatch.setenv("UNIONBOT_ACTIVITY_REMINDERS", wrong)
        with pytest.raises(ValidationError):
            ActivitySettings()
