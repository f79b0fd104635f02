"""Hardship pushes in words. None of them carries a detail of a family's situation.

The member's push says only that their application moved on and where to read
it, on every channel, WeChat templates included: a phone's lock screen, a
shared tablet or a colleague's glance must learn nothing. The cadres' pushes
name the case by its number and unit and say what is due, never whose it is or
why: they read the case itself in 帮扶办理, where the reading is audited.

A reminder is rendered when it is sent: one whose case has moved on since
(contacted, visited, closed) says nothing instead of chasing a cadre for work done.
"""

from __future__ import annotations

from datetime import date, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.pushes import Push
from models.errors import N_
from models.hardship import DEADLINE_LABELS, CaseStatus, Deadline, HardshipCase
from models.outbox import PushRow
from models.units import Unit, unit_path

UPDATE_TITLE = N_("帮扶申请进展")
UPDATE_TEXT = N_("您的帮扶申请有新进展，请回复“我的申请”查看。")
FILED_TEXT = N_("工会干部为您登记了一件帮扶申请，请回复“我的申请”查看。")
NEW_TITLE = N_("新的帮扶申请")
URGENT_TITLE = N_("紧急帮扶申请")
NEW_TEXT = N_("{unit}有一件新的帮扶申请（{number}），请在 {date} 前联系，详情请在“帮扶办理”中查看。")
URGENT_TEXT = N_("{unit}有一件紧急帮扶申请（{number}），请尽快联系，最迟 {date}。详情请在“帮扶办理”中查看。")
DUE_TITLE = N_("帮扶办理提醒")
DUE_TEXT = N_("帮扶申请 {number}（{unit}）的“{step}”期限是 {date}，请及时办理。")
OVERDUE_TITLE = N_("帮扶办理超期")
OVERDUE_TEXT = N_("帮扶申请 {number}（{unit}）的“{step}”已超过期限（{date}），请督促办理。")


def _day(t: Translator, day: date) -> str:
    return t("{month}月{day}日").format(month=day.month, day=day.day)


def _push(t: Translator, title: str, text: str, unit: str | None = None) -> Push:
    heading = t(title)
    return Push(
        title=heading, reply=Reply(t("【{title}】").format(title=heading) + text), body=text, unit=unit
    )


def _unit(session: Session, row: PushRow, case: HardshipCase) -> str:
    unit_id = row.params.get("unit")
    unit = session.get(Unit, unit_id if isinstance(unit_id, int) else case.unit_id)
    if unit is None:
        unit = session.get(Unit, case.unit_id)
    assert unit is not None
    return unit_path(session, unit)


def render_update(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push:
    """The member's push: no stage, no amount, nothing but where to look."""
    msgid = FILED_TEXT if row.params.get("event") == "filed" else UPDATE_TEXT
    return _push(t, UPDATE_TITLE, t(msgid))


def render_new(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The responsible cadres hear of a new case; None once it was contacted or closed meanwhile."""
    case = session.get(HardshipCase, row.subject_id) if row.subject_id is not None else None
    if case is None or case.status is CaseStatus.CLOSED or case.contacted_at is not None:
        return None
    unit = _unit(session, row, case)
    text = t(URGENT_TEXT if case.urgent else NEW_TEXT).format(
        unit=unit, number=case.number, date=_day(t, case.contact_due_on)
    )
    return _push(t, URGENT_TITLE if case.urgent else NEW_TITLE, text, unit)


def _current(session: Session, row: PushRow) -> HardshipCase | None:
    """The case if it still stands where the push found it: same deadline, same date."""
    case = session.get(HardshipCase, row.subject_id) if row.subject_id is not None else None
    if case is None or case.deadline is None or case.due_on is None:
        return None
    if case.deadline.value != row.params.get("deadline") or case.due_on.isoformat() != row.params.get(
        "due_on"
    ):
        return None
    return case


def _deadline_push(session: Session, row: PushRow, t: Translator, title: str, text: str) -> Push | None:
    case = _current(session, row)
    if case is None:
        return None
    assert case.deadline is not None
    assert case.due_on is not None
    unit = _unit(session, row, case)
    said = t(text).format(
        number=case.number,
        unit=unit,
        step=t(DEADLINE_LABELS[Deadline(case.deadline)]),
        date=_day(t, case.due_on),
    )
    return _push(t, title, said, unit)


def render_due(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    return _deadline_push(session, row, t, DUE_TITLE, DUE_TEXT)


def render_overdue(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    return _deadline_push(session, row, t, OVERDUE_TITLE, OVERDUE_TEXT)
