"""活动报名 in the demo union: a match the chair of 一车间 has set out, with two players signed up.

The demo's people are loaded first (bot.demo_data); the match is open to 一车间 only, so trying
the demo as a member there and as one elsewhere shows who is offered what.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.core.context import CoreConfig
from models.activities import ActivityDraft, create_activity, sign_up
from models.members import get_member_by_employee_no
from models.units import find_unit

CHAIR_NO = "2001"  # 李秀英, 工会主席 of 一车间
WORKSHOP = "厂工会/一车间"
PLAYERS = ("2102", "2201")  # 陈静 of 甲班 and 赵磊 of 乙班


def seed_activities(session: Session, config: CoreConfig, now: datetime) -> None:
    """A basketball match a week from ``now``, its sign-up still open."""
    chair = get_member_by_employee_no(session, CHAIR_NO)
    workshop = find_unit(session, WORKSHOP)
    assert workshop.id is not None
    # 14:00 a week on and 18:00 two days before, in Shanghai (the default zone): times a union sets.
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    match = ActivityDraft(
        title="一车间职工篮球赛",
        description="三人制篮球赛，以班组为单位组队，每队 3 至 4 人。请穿运动鞋，自带水杯。",
        place="职工之家体育馆",
        starts_at=day + timedelta(days=7, hours=6),
        signup_deadline=day + timedelta(days=5, hours=10),
        capacity=12,
        unit_ids=(workshop.id,),
    )
    activity = create_activity(session, actor=chair, draft=match, now=now)
    assert activity.id is not None
    for employee_no in PLAYERS:
        player = get_member_by_employee_no(session, employee_no)
        sign_up(session, actor=player, activity_id=activity.id, now=now)
