"""The organiser's list of an activity, beyond reading it: taking someone off it, and the .xlsx.

A sign-up is removed with a reason the member is told (a place freed goes to
the first member waiting); the export holds everyone signed up, then the
waitlist in order, with unit, time of signing up and attendance.
"""

from __future__ import annotations

import re
import secrets
from datetime import tzinfo
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, select

from handlers.activities.render import local_time
from handlers.core.context import Context
from handlers.core.dialogs import Data, Invalid
from handlers.core.i18n import Translator
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.parsing import normalise
from handlers.core.pushes import Push
from handlers.core.workbook import DATETIME_FORMAT, MIME_TYPE, Sheet, save_workbook
from models.activities import (
    Activity,
    ActivitySignup,
    Attendee,
    SignupStatus,
    activity_units,
    managed_activity,
    signups_of,
)
from models.errors import N_
from models.members import Member
from models.outbox import PushRow
from models.units import unit_path

EXPORT_HEADERS = (
    N_("序号"),
    N_("姓名"),
    N_("工号"),
    N_("单位"),
    N_("状态"),
    N_("报名时间"),
    N_("到场"),
    N_("批次"),
    N_("回答"),
)
_WAITING = re.compile(r"候[补補](\d+)")


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _lists(ctx: Context, activity_id: int) -> tuple[list[Attendee], list[Attendee]]:
    actor = _actor(ctx)
    return (
        signups_of(ctx.session, actor=actor, activity_id=activity_id),
        signups_of(ctx.session, actor=actor, activity_id=activity_id, status=SignupStatus.WAITLISTED),
    )


def pick_removed(ctx: Context, text: str, data: Data) -> None:
    """Whom to remove, as the list numbers them: "3" signed up, "候补2" waiting."""
    signed, waiting = _lists(ctx, int(data["activity_id"]))
    said = normalise(text).replace(" ", "")
    found = _WAITING.fullmatch(said)
    number = found[1] if found else said
    pool = waiting if found else signed
    if not number.isdigit() or not 1 <= int(number) <= len(pool):
        raise Invalid(N_("没有这个序号。请回复名单上的序号，例如 3；候补的请回复“候补2”这样的序号。"))
    member = pool[int(number) - 1].member
    data["removed_member"] = member.id
    data["removed_name"] = f"{member.name}（{member.employee_no}）"


def removal_question(ctx: Context, data: Data) -> dict[str, Any]:
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"]))
    return {"name": data["removed_name"], "title": activity.title, "reason": data["removed_reason"]}


def export_signups(ctx: Context, activity_id: int) -> Reply:
    """The list as a workbook, everyone signed up and then the waitlist, written afresh each time."""
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    signed, waiting = _lists(ctx, activity_id)
    zone = ctx.config.timezone
    workbook = Workbook()
    active = workbook.active
    assert active is not None
    active.title = ctx.t("报名名单")
    title = ctx.t("“{title}”报名名单（{time}）").format(
        title=activity.title, time=local_time(activity.starts_at, zone)
    )
    sheet = Sheet(active, title, [ctx.t(header) for header in EXPORT_HEADERS])
    formats = (None, None, None, None, None, DATETIME_FORMAT, None)
    rows = [(a, ctx.t("已报名")) for a in signed] + [(a, ctx.t("候补")) for a in waiting]
    for number, (attendee, state) in enumerate(rows, start=1):
        signed_at = attendee.signed_up_at.astimezone(zone).replace(tzinfo=None)
        there = ctx.t("已到") if attendee.attended_at is not None else ""
        member = attendee.member
        batch = ctx.t("第{number}批").format(number=attendee.batch) if attendee.batch else ""
        row = (number, member.name, member.employee_no, attendee.unit, state, signed_at, there, batch)
        sheet.add((*row, attendee.answer or ""), formats)
    sheet.finish()
    path = ctx.config.export_dir / f"activity-{activity_id}-signups-{secrets.token_hex(8)}.xlsx"
    save_workbook(workbook, path)
    name = ctx.t("报名名单-{title}.xlsx").format(title=activity.title)
    text = ctx.t("“{title}”的报名名单：已报名 {count} 人，候补 {waiting} 人。").format(
        title=activity.title, count=len(signed), waiting=len(waiting)
    )
    return Reply(text, file=OutgoingFile(str(path), name=name, mime_type=MIME_TYPE))


def render_removed(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The news to a member that the organiser took them off the list, and why."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None:
        return None
    signup = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.member_id == row.member_id
        )
    ).first()
    if signup is None or signup.status is not SignupStatus.REMOVED:
        return None
    text = "\n".join(
        [
            t("很抱歉，组织人调整了活动“{title}”（{time}，{place}）的名单，您的报名已被移除。").format(
                title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
            ),
            t("原因：{reason}").format(reason=signup.removed_reason),
            t("如有疑问，请联系活动组织人。"),
        ]
    )
    assert activity.id is not None
    units = activity_units(session, activity.id)
    title = t("活动报名变动")
    return Push(
        title=title, reply=Reply(text), body=text, unit=unit_path(session, units[0]) if units else None
    )
