""" "三及时" pushes in words: the reminder before a suggestion's deadline, the escalation after it.

The rows are queued by models.suggestions.deadlines with ids and dates only. A
reminder is rendered when it is sent, so one whose suggestion has moved on in
the meantime (registered, decided, merged) says nothing instead of chasing a
cadre for work already done. Only the number and the title are shown: never
who proposed it, anonymous or not.
"""

from __future__ import annotations

import logging
from datetime import date, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import Job, JobContext
from handlers.core.pushes import Push
from models.errors import N_
from models.outbox import PushRow
from models.suggestions import Stage, Suggestion, SuggestionPolicy
from models.suggestions.deadlines import enqueue_deadline_pushes
from models.units import Unit, unit_path

DUE_TITLE = N_("建议办理提醒")
OVERDUE_TITLE = N_("建议超期")

DUE_TEXTS: dict[Stage, str] = {
    Stage.REGISTER: N_("{number}“{title}”应在 {date} 前登记，请及时处理。"),
    Stage.DECIDE: N_("{number}“{title}”应在 {date} 前作出是否采纳的决定，请及时处理。"),
    Stage.IMPLEMENT: N_("{number}“{title}”已采纳，应在 {date} 前开始实施，请及时处理。"),
}

OVERDUE_TEXTS: dict[Stage, str] = {
    Stage.REGISTER: N_("{number}“{title}”已超过登记期限（{date}），责任单位：{unit}。请督促办理。"),
    Stage.DECIDE: N_("{number}“{title}”已超过决定期限（{date}），责任单位：{unit}。请督促办理。"),
    Stage.IMPLEMENT: N_("{number}“{title}”已超过实施期限（{date}），责任单位：{unit}。请督促办理。"),
}

log = logging.getLogger(__name__)


def _current(session: Session, row: PushRow) -> tuple[Suggestion, Stage, date] | None:
    """The suggestion if it still stands where the push found it: same stage, same deadline."""
    suggestion = session.get(Suggestion, row.subject_id) if row.subject_id is not None else None
    if suggestion is None or suggestion.stage is None or suggestion.due_on is None:
        return None
    if suggestion.stage.value != row.params.get("stage") or suggestion.due_on.isoformat() != row.params.get(
        "due_on"
    ):
        return None
    return suggestion, suggestion.stage, suggestion.due_on


def _unit(session: Session, row: PushRow) -> str | None:
    unit_id = row.params.get("unit")
    unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    return unit_path(session, unit) if unit is not None else None


def _push(t: Translator, title: str, text: str, unit: str | None) -> Push:
    heading = t(title)
    return Push(
        title=heading,
        reply=Reply(t("【{title}】").format(title=heading) + text),
        body=text,
        unit=unit,
    )


def render_due(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The reminder to the responsible cadre; None once the suggestion has left that stage."""
    current = _current(session, row)
    if current is None:
        return None
    suggestion, stage, due_on = current
    text = t(DUE_TEXTS[stage]).format(
        number=suggestion.number,
        title=suggestion.title,
        date=t("{month}月{day}日").format(month=due_on.month, day=due_on.day),
    )
    return _push(t, DUE_TITLE, text, _unit(session, row))


def render_overdue(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The escalation to the unit above; None once the late stage is done after all."""
    current = _current(session, row)
    if current is None:
        return None
    suggestion, stage, due_on = current
    unit = _unit(session, row)
    if unit is None:
        unit_row = session.get(Unit, suggestion.unit_id)
        assert unit_row is not None
        unit = unit_path(session, unit_row)
    text = t(OVERDUE_TEXTS[stage]).format(
        number=suggestion.number,
        title=suggestion.title,
        date=t("{month}月{day}日").format(month=due_on.month, day=due_on.day),
        unit=unit,
    )
    return _push(t, OVERDUE_TITLE, text, unit)


def queue_deadline_pushes(context: JobContext) -> int:
    """ "三及时": queue today's deadline reminders and escalations (models.suggestions.deadlines)."""
    now = context.clock()
    with context.sessions() as session:
        added = enqueue_deadline_pushes(session, now=now, policy=context.policy(SuggestionPolicy))
    log.info("suggestion deadlines: %d reminders and escalations queued", added)
    return added


# 08:30, before the working day starts in earnest: a cadre reads "due tomorrow" with the morning mail.
DEADLINES_JOB = Job(id="suggestion_deadlines", run=queue_deadline_pushes, schedule="30 8 * * *")
