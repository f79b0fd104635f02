"""会费 in the demo union: a year of dues, paid by most, with a few members behind.

张伟 (the demo's member) owes the last two months, so his 我的会费 shows what is
owed and what was paid; two others in 一车间 and one in 二车间 owe too, so the
chair's 会费统计 and the collectors' digests have something to say; 陈静's dues
went down from two months ago (a rate change).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from models.dues.ledger import System, open_month, record_unit_paid, set_dues_rate
from models.dues.months import add_months, months_between
from models.dues.tables import DuesPolicy
from models.members import Member, get_member_by_employee_no
from models.units import Unit

MONTHS = 12
# 工号 → how many of the latest months they have not paid
BEHIND = {"2101": 2, "2203": 1, "2304": 3, "3204": 1}


def seed_dues(session: Session, config: CoreConfig, now: datetime) -> None:
    policy = config.policy(DuesPolicy)
    current = policy.month(now)
    first = add_months(current, 1 - MONTHS)
    root = session.exec(select(Unit).where(col(Unit.parent_id).is_(None)).order_by(col(Unit.id))).first()
    if root is None:
        return
    lowered = get_member_by_employee_no(session, "2102")
    set_dues_rate(
        session,
        actor=System.COMMAND_LINE,
        member=lowered,
        from_month=add_months(current, -2),
        amount_fen=lowered.monthly_dues_fen - 250,
        now=now,
    )
    behind: dict[int, int] = {}
    for employee_no, months in BEHIND.items():
        member: Member = get_member_by_employee_no(session, employee_no)
        assert member.id is not None
        behind[member.id] = months
    for number, month in enumerate(months_between(first, current)):
        paid_at = now - timedelta(days=30 * (MONTHS - 1 - number))
        open_month(session, month, now=paid_at)
        unpaid = {member_id for member_id, months in behind.items() if month > add_months(current, -months)}
        record_unit_paid(
            session,
            actor=System.COMMAND_LINE,
            unit=root,
            month=month,
            except_ids=unpaid,
            now=paid_at,
            current=current,
        )
