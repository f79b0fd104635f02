"""How a notice reads: to the member it is pushed to, in the lists, and in the author's report.

The pushed notice carries a 已阅 button where the channel has buttons; the
author gets one progress message that is edited as the notice goes out and ends
as the report. The after-batch hooks keep that message up to date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.i18n import Translator
from handlers.core.messages import Button, OutgoingFile, Reply
from handlers.core.pushes import Push
from models.errors import N_
from models.notices import (
    AttachmentKind,
    Notice,
    NoticeCategory,
    NoticeReport,
    NoticeStatus,
    progress_of,
    refresh_progress,
    reminder_of,
)
from models.outbox import OUTCOME_LABELS, Outcome, PushRow
from models.units import Unit, unit_path

READ_FEATURE = "notice_read"
"""The feature the 已阅 button of a pushed notice runs (handlers.notices.browse.READ)."""


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def figure(number: int) -> str:
    """1200 → "1,200": how figures are read in reports."""
    return f"{number:,}"


# The tag before one notice's title; the headings of the lists are models.notices.CATEGORY_LABELS.
NOTICE_TAGS: dict[NoticeCategory, str] = {
    NoticeCategory.NOTICE: N_("通知"),
    NoticeCategory.FACTORY_AFFAIRS: N_("厂务公开"),
    NoticeCategory.DUES_USE: N_("会费使用公开"),
}


def notice_text(
    t: Translator, *, category: NoticeCategory, title: str, body: str, file_name: str | None
) -> str:
    """The notice as members read it: the tag, the title, the body, and the file's name."""
    lines = [t("【{heading}】{title}").format(heading=t(NOTICE_TAGS[category]), title=title), body]
    if file_name is not None:
        lines.append(t("附件：{name}").format(name=file_name))
    return "\n".join(lines)


def list_label(ctx: Context, notice: Notice) -> str:
    """A notice as one line of a list: its date and title."""
    return ctx.t("{date} {title}").format(
        date=notice.send_at.astimezone(ctx.config.timezone).strftime("%m-%d"), title=notice.title
    )


def _attachment_files(notice: Notice) -> tuple[OutgoingFile | None, OutgoingFile | None]:
    if notice.attachment_ref is None or notice.attachment_kind is None:
        return None, None
    outgoing = OutgoingFile(
        path=notice.attachment_ref,
        name=notice.attachment_name or Path(notice.attachment_ref).name,
        mime_type=notice.attachment_mime,
    )
    if notice.attachment_kind is AttachmentKind.IMAGE:
        return outgoing, None
    return None, outgoing


def _file_name(notice: Notice) -> str | None:
    if notice.attachment_kind is not AttachmentKind.FILE or notice.attachment_ref is None:
        return None
    return notice.attachment_name or Path(notice.attachment_ref).name


def full_notice(session: Session, t: Translator, notice: Notice, *, zone: tzinfo) -> Reply:
    """A notice in full, as the list under 通知公告 opens it: with its date and sender."""
    unit = session.get(Unit, notice.unit_id)
    assert unit is not None
    text = notice_text(
        t, category=notice.category, title=notice.title, body=notice.body, file_name=_file_name(notice)
    )
    footer = t("{time} · {unit}").format(time=local_time(notice.send_at, zone), unit=unit_path(session, unit))
    image, file = _attachment_files(notice)
    return Reply(text + "\n" + footer, image=image, file=file)


def render_notice(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """A notice pushed to one recipient, with 已阅 to confirm reading it; None once withdrawn."""
    notice = session.get(Notice, row.subject_id) if row.subject_id is not None else None
    if notice is None or notice.status is NoticeStatus.WITHDRAWN:
        return None
    unit = session.get(Unit, notice.unit_id)
    assert unit is not None
    image, file = _attachment_files(notice)
    text = notice_text(
        t, category=notice.category, title=notice.title, body=notice.body, file_name=_file_name(notice)
    )
    read = Button(t("已阅"), f"go:{READ_FEATURE}:{notice.id}")
    return Push(
        title=notice.title,
        reply=Reply(text, buttons=(read,), image=image, file=file),
        body=notice.body,
        unit=unit_path(session, unit),
    )


# The outcomes a report always names, even at 0, so a cadre sees "没有可用账号：0" as good news;
# the others only when some pushes came to them.
ALWAYS_REPORTED = (Outcome.SENT, Outcome.NO_ACCOUNT, Outcome.FAILED)


def render_reminder(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """A reminder to a member who has not read a notice: the notice again, with 已阅.

    Nothing once the member has read it, or the notice was withdrawn, since it was queued.
    """
    notice = reminder_of(session, row.subject_id, row.member_id) if row.subject_id is not None else None
    if notice is None:
        return None
    push = render_notice(session, row, t, zone)
    if push is None:
        return None
    nudge = t("温馨提醒：这条通知您还没有阅读，请抽空看一看。")
    reply = push.reply
    return replace(
        push,
        title=t("通知阅读提醒"),
        reply=Reply(nudge + "\n\n" + reply.text, buttons=reply.buttons, image=reply.image, file=reply.file),
        body=nudge + "\n" + notice.title,
    )


def report_lines(t: Translator, report: NoticeReport, zone: tzinfo) -> list[str]:
    """The figures of a notice's report, the ones that say something, in the words of ``outbox status``."""
    lines = [
        t.ngettext("收件人：{count} 人", "收件人：{count} 人", report.total).format(
            count=figure(report.total)
        )
    ]
    lines.extend(
        t("{outcome}：{count}").format(
            outcome=t(OUTCOME_LABELS[outcome]), count=figure(report.count(outcome))
        )
        for outcome in Outcome
        if outcome in ALWAYS_REPORTED or report.count(outcome)
    )
    lines.append(
        t("已阅：{read} / {total}（在 Telegram 点了“已阅”或在“通知公告”里打开过的会员）").format(
            read=figure(report.read), total=figure(report.total)
        )
    )
    if report.reminders and report.reminded_at is not None:
        lines.append(
            t.ngettext(
                "已提醒未阅的会员 {count} 次，最近一次在 {time}。",
                "已提醒未阅的会员 {count} 次，最近一次在 {time}。",
                report.reminders,
            ).format(count=report.reminders, time=local_time(report.reminded_at, zone))
        )
    return lines


def render_progress(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The author's progress message: "已发送 n / total" while it goes, the report at the end."""
    found = progress_of(session, row.subject_id) if row.subject_id is not None else None
    if found is None:
        return None
    notice, report = found
    if report.finished:
        text = "\n".join(
            [t("通知“{title}”已发送完毕。").format(title=notice.title), *report_lines(t, report, zone)]
        )
    else:
        text = t("通知“{title}”正在发送：已发送 {done} / {total}").format(
            title=notice.title, done=figure(report.done), total=figure(report.total)
        )
    return Push(title=t("通知发送进度"), reply=Reply(text), body=text, edit_in_place=True)


def after_notice_batch(session: Session, notice_ids: Collection[int], now: datetime) -> None:
    """Refresh the authors' progress messages for the notices a batch sent."""
    refresh_progress(session, notice_ids, now)


def after_progress_batch(session: Session, notice_ids: Collection[int], now: datetime) -> None:
    """A progress message went out: if its notice finished meanwhile, the report follows."""
    refresh_progress(session, notice_ids, now)
