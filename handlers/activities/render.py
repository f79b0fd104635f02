"""How an activity reads wherever it is shown, and the news to those signed up that it is off."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.pushes import Push
from models.activities import Activity, ActivityStatus, activity_units
from models.outbox import PushRow
from models.units import unit_path


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def units_text(session: Session, activity_id: int) -> str:
    """The units whose members may sign up, as one line."""
    return "、".join(unit_path(session, unit) for unit in activity_units(session, activity_id))


def render_cancelled(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The news to a member signed up that the activity is off, and why when the cadre said."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None or activity.status is not ActivityStatus.CANCELLED:
        return None
    assert activity.id is not None
    units = activity_units(session, activity.id)
    text = t("很抱歉，您报名的活动“{title}”（{time}，{place}）已取消。").format(
        title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
    )
    if activity.cancel_reason:
        text += "\n" + t("取消原因：{reason}").format(reason=activity.cancel_reason)
    return Push(
        title=t("活动取消通知"),
        reply=Reply(text),
        body=text,
        unit=unit_path(session, units[0]) if units else None,
    )
