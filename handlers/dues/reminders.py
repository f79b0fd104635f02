"""The monthly dues pushes in words, and the job that queues them (models.dues.reminders).

Rendered when sent, in the recipient's language: a member who paid after the
job ran is not chased (the push says nothing), and a cadre's list shows who
still owes at that moment, not at the job's.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

import sqlalchemy as sa
from sqlmodel import Session, col

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import Job, JobContext
from handlers.core.pushes import Push
from handlers.dues.text import LISTED, months_text, rate_text, yuan
from models.dues.figures import unit_arrears, unit_rates, unit_tally
from models.dues.months import month_key
from models.dues.reminders import enqueue_dues_reminders
from models.dues.tables import DuesMonth, DuesPolicy
from models.errors import N_
from models.outbox import PushRow
from models.units import Unit, unit_path

log = logging.getLogger(__name__)

REMINDER_TITLE = N_("会费提醒")
UNIT_TITLE = N_("会费收缴情况")
CHAIR_TITLE = N_("会费收缴率")


def _month(row: PushRow) -> int:
    month = row.params.get("month")
    assert isinstance(month, int)
    return month


def _push(t: Translator, title: str, text: str, unit: str | None = None) -> Push:
    heading = t(title)
    return Push(
        title=heading, reply=Reply(t("【{title}】").format(title=heading) + text), body=text, unit=unit
    )


def render_reminder(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The member's unpaid months and total; None when they have paid since the job ran."""
    owed = session.execute(
        sa.select(col(DuesMonth.month), col(DuesMonth.due_fen) - col(DuesMonth.paid_fen))
        .where(
            col(DuesMonth.member_id) == row.member_id,
            col(DuesMonth.owing),
            col(DuesMonth.month) <= _month(row),
        )
        .order_by(col(DuesMonth.month))
    ).all()
    if not owed:
        return None
    count = len(owed)
    text = t.ngettext(
        "您有 {count} 个月的会费尚未缴纳：{months}，共 {total}。请交给本组的会费收缴员或工会小组长，谢谢！"
        "回复“我的会费”可以查看明细。",
        "您有 {count} 个月的会费尚未缴纳：{months}，共 {total}。请交给本组的会费收缴员或工会小组长，谢谢！"
        "回复“我的会费”可以查看明细。",
        count,
    ).format(
        count=count,
        months=months_text([month for month, _owed in owed]),
        total=yuan(t, sum(o for _m, o in owed)),
    )
    return _push(t, REMINDER_TITLE, text)


def _unit(session: Session, row: PushRow) -> Unit | None:
    return session.get(Unit, row.subject_id) if row.subject_id is not None else None


def render_unit(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """A collector's digest: the unit's rate this month and who still owes what."""
    unit = _unit(session, row)
    if unit is None:
        return None
    month = _month(row)
    path = unit_path(session, unit)
    tally = unit_tally(session, unit=unit, month=month)
    lines = [t("{unit} {month}：{rate}").format(unit=path, month=month_key(month), rate=rate_text(t, tally))]
    owing = unit_arrears(session, unit=unit, up_to=month)
    if not owing:
        lines.append(t("会费已全部收齐，辛苦了！"))
    else:
        lines.append(t("尚未缴清的会员："))
        lines.extend(
            t("{name}（{employee_no}）：{months}，共 {total}").format(
                name=arrear.name,
                employee_no=arrear.employee_no,
                months=months_text([m for m, _owed in arrear.months]),
                total=yuan(t, arrear.owed_fen),
            )
            for arrear in owing[:LISTED]
        )
        if len(owing) > LISTED:
            more = len(owing) - LISTED
            lines.append(
                t.ngettext(
                    "……还有 {count} 人，请在“会费统计”中导出Excel查看。",
                    "……还有 {count} 人，请在“会费统计”中导出Excel查看。",
                    more,
                ).format(count=more)
            )
        lines.append(t("收齐后请在“会费登记”里登记。"))
    return _push(t, UNIT_TITLE, "\n".join(lines), path)


def render_chair(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """A chair's digest: each unit directly below theirs with its rate this month."""
    unit = _unit(session, row)
    if unit is None:
        return None
    month = _month(row)
    report = unit_rates(session, unit=unit, months=[month])
    lines = [t("{unit} {month} 各单位会费收缴率：").format(unit=report.unit_path, month=month_key(month))]
    for unit_row in report.rows:
        name = unit_row.path.rsplit("/", 1)[-1]
        if unit_row.own:
            name = t("{unit}（本级）").format(unit=name)
        lines.append(t("{unit}：{rate}").format(unit=name, rate=rate_text(t, unit_row.total())))
    total = report.total.get(month)
    if total is not None:
        lines.append(t("合计：{rate}").format(rate=rate_text(t, total)))
    return _push(t, CHAIR_TITLE, "\n".join(lines), report.unit_path)


def queue_dues_reminders(context: JobContext) -> int:
    """Open the month's dues and queue its reminders and digests (models.dues.reminders)."""
    now = context.clock()
    with context.sessions() as session:
        added = enqueue_dues_reminders(session, now=now, policy=context.policy(DuesPolicy))
    return added


# 09:00 on the month's third working day (UNIONBOT_JOB_SCHEDULES may move it): after payday's
# deductions are in, and never on a Sunday or during 国庆. A missed month is posted by the next run.
REMINDERS_JOB = Job(id="dues_reminders", run=queue_dues_reminders, schedule="0 9 3W * *")
