"""通知公告 in the demo union: what the chair of 一车间 has already sent her members.

The demo's people are loaded first (bot.demo_data); these examples name them by 工号 and unit, so a
member trying the demo finds a notice and a 厂务公开 post waiting instead of an empty list.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.context import CoreConfig
from models.members import get_member_by_employee_no
from models.notices import NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.units import find_unit

CHAIR_NO = "2001"  # 李秀英, 工会主席 of 一车间
WORKSHOP = "厂工会/一车间"

# Heading, title, text.
NOTICES: tuple[tuple[NoticeCategory, str, str], ...] = (
    (
        NoticeCategory.FACTORY_AFFAIRS,
        "三季度职工福利费使用情况",
        "三季度一车间职工福利费共支出 18,600 元：夏送清凉 9,200 元，生日慰问 6,400 元，"
        "困难职工走访 3,000 元。明细在车间公示栏张贴，有疑问请找车间工会。",
    ),
    (
        NoticeCategory.NOTICE,
        "关于报名参加职工疗休养的通知",
        "各位会员：今年职工疗休养分三批进行，每批 5 天。请有意参加的会员于本月 30 日前"
        "向班组长报名，劳动模范和一线职工优先。",
    ),
)


def seed_notices(session: Session, config: CoreConfig, now: datetime) -> None:
    """The chair's notices to 一车间, sent ``now`` so they are the newest a member reads."""
    chair = get_member_by_employee_no(session, CHAIR_NO)
    workshop = find_unit(session, WORKSHOP)
    assert workshop.id is not None
    for category, title, body in NOTICES:
        draft = NoticeDraft(
            title=title, body=body, category=category, target=Target(TargetKind.UNITS, (workshop.id,))
        )
        create_notice(session, actor=chair, draft=draft, now=now)
