"""通知公告: cadres compose and send notices, members read them, and how the pushes read.

A cadre composes in one form — heading, title, body, an optional image or
file, whom to send to, when — and sees, before anything is queued, the text
exactly as members will read it, how many members it reaches and how. Members
browse what was addressed to them under 通知公告 and, for openness posts,
under 厂务公开 and 会费使用公开. The pushed notice carries a 已阅 button where
the channel has buttons; the author gets one progress message that is edited
as the notice goes out and ends as the report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from handlers.core.context import Context
from handlers.core.dialogs import (
    SKIP_WORDS,
    Ask,
    Choose,
    Confirm,
    Data,
    Flow,
    Invalid,
    Option,
    Step,
    YesNo,
)
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Button, MediaKind, OutgoingFile, Reply
from handlers.core.paging import PAGE_SIZE, PagedChoose, page_count, page_options
from handlers.core.parsing import chinese_numeral, normalise, parse_date, parse_index
from handlers.core.pushes import Push
from models.activities import activities_managed_by, managed_activity, signup_counts
from models.errors import N_, InvalidInput, PermissionDenied
from models.members import Member
from models.notices import (
    BODY_MAX,
    CATEGORY_LABELS,
    TITLE_MAX,
    Attachment,
    AttachmentKind,
    Notice,
    NoticeCategory,
    NoticeDraft,
    NoticeReport,
    NoticeStatus,
    Target,
    TargetKind,
    authored_notices,
    can_withdraw,
    category_counts,
    check_attachment,
    check_notice,
    check_send_time,
    create_notice,
    is_going_out,
    list_notices,
    managed_notice,
    mark_notice_read,
    notice_report,
    notice_scope,
    preview_notice,
    progress_of,
    read_notice,
    refresh_progress,
    target_recipients,
    units_in_scope,
    withdraw_notice,
)
from models.outbox import PushKind, PushRow
from models.reach import Reach, plan_reach
from models.roles import ROLE_LABELS, Permission, Role
from models.units import Unit, UnitTree, unit_path

COMPOSE_FLOW = "notify"
BROWSE_FLOW = "notices"
SENT_FLOW = "sent_notices"
ACTION_FLOW = "notice_action"
READ_FEATURE = "notice_read"
# A cadre over a big plant would get a wall of units; past this many, the rest are typed by name.
UNITS_LISTED = 30
# Roles a notice can go to; administrators are staff, not a group members recognise.
# The newest activities a cadre may write to the sign-ups of; older ones have long taken place.
ACTIVITIES_LISTED = 10
TARGET_ROLES = (Role.REPRESENTATIVE, Role.GROUP_LEADER, Role.COMMITTEE, Role.CHAIR, Role.TREASURER)


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _local(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _count(number: int) -> str:
    """1200 → "1,200": how figures are read in reports."""
    return f"{number:,}"


# --------------------------------------------------------------------- the text members read


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
    footer = t("{time} · {unit}").format(time=_local(notice.send_at, zone), unit=unit_path(session, unit))
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


def report_lines(t: Translator, report: NoticeReport) -> list[str]:
    """The figures of a notice's report, the ones that say something."""
    lines = [
        t.ngettext("收件人：{count} 人", "收件人：{count} 人", report.total).format(
            count=_count(report.total)
        ),
        t("已发送：{count}").format(count=_count(report.sent)),
        t("发送失败：{count}").format(count=_count(report.failed)),
        t("没有可用账号：{count}").format(count=_count(report.no_account)),
    ]
    if report.blocked:
        lines.append(t("已屏蔽或取消关注：{count}").format(count=_count(report.blocked)))
    if report.uncertain:
        lines.append(t("不确定是否送达：{count}").format(count=_count(report.uncertain)))
    if report.pending:
        lines.append(t("等待发送：{count}").format(count=_count(report.pending)))
    if report.withdrawn:
        lines.append(t("已撤回：{count}").format(count=_count(report.withdrawn)))
    lines.append(
        t("已阅：{read} / {total}（在 Telegram 点了“已阅”或在“通知公告”里打开过的会员）").format(
            read=_count(report.read), total=_count(report.total)
        )
    )
    return lines


def render_progress(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The author's progress message: "已发送 n / total" while it goes, the report at the end."""
    found = progress_of(session, row.subject_id) if row.subject_id is not None else None
    if found is None:
        return None
    notice, report = found
    if report.finished:
        text = "\n".join(
            [t("通知“{title}”已发送完毕。").format(title=notice.title), *report_lines(t, report)]
        )
    else:
        text = t("通知“{title}”正在发送：已发送 {done} / {total}").format(
            title=notice.title, done=_count(report.done), total=_count(report.total)
        )
    return Push(title=t("通知发送进度"), reply=Reply(text), body=text, edit_in_place=True)


def after_notice_batch(session: Session, notice_ids: Collection[int], now: datetime) -> None:
    """Refresh the authors' progress messages for the notices a batch sent."""
    refresh_progress(session, notice_ids, now)


def after_progress_batch(session: Session, notice_ids: Collection[int], now: datetime) -> None:
    """A progress message went out: if its notice finished meanwhile, the report follows."""
    refresh_progress(session, notice_ids, now)


# --------------------------------------------------------------------------- composing


def can_send_notices(ctx: Context) -> bool:
    return ctx.member is not None and ctx.grants.holds(Permission.SEND_NOTICES)


@dataclass(frozen=True)
class AttachmentStep(Step):
    """An optional image or file to go with the notice, checked against what the channels can send."""

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question) + "\n" + ctx.t("（没有可回复“跳过”）"))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        media = ctx.incoming.media
        if media is None:
            if ctx.incoming.text is not None and normalise(ctx.incoming.text) in SKIP_WORDS:
                return None
            raise Invalid(N_("请发送一张图片或一个文件；不需要附件请回复“跳过”。"))
        image = media.kind is MediaKind.PHOTO and (media.mime_type or "image/").startswith("image/")
        kind = AttachmentKind.IMAGE if image else AttachmentKind.FILE
        attachment = Attachment(kind, media.ref, media.mime_type, media.size, media.name)
        try:
            check_attachment(attachment)
            path = Path(media.ref)
            if not path.is_file():
                raise Invalid(N_("这个文件没能保存到服务器，无法随通知发送。请改发图片，或回复“跳过”。"))
            if media.size is None:
                attachment = Attachment(kind, media.ref, media.mime_type, path.stat().st_size, media.name)
                check_attachment(attachment)
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        return {
            "kind": attachment.kind.value,
            "ref": attachment.ref,
            "mime_type": attachment.mime_type,
            "size": attachment.size,
            "name": attachment.name,
        }


def _attachment(data: Data) -> Attachment | None:
    raw = data.get("attachment")
    if not raw:
        return None
    return Attachment(AttachmentKind(raw["kind"]), raw["ref"], raw["mime_type"], raw["size"], raw["name"])


def _target(ctx: Context, data: Data) -> Target:
    choice = data.get("target")
    if choice == "activity":
        return Target(TargetKind.ACTIVITY, (), activity_id=int(data["activity"]))
    if choice == "units":
        return Target(TargetKind.UNITS, tuple(data.get("units") or ()))
    tops = tuple(unit.id for unit in notice_scope(ctx.session, _actor(ctx)) if unit.id is not None)
    if choice == "role":
        return Target(TargetKind.ROLE, tops, Role(data["role"]))
    return Target(TargetKind.UNITS, tops)


def _require_members(ctx: Context, target: Target) -> None:
    """Refuse a target the cadre may not send to or that holds nobody, at the step that chose it."""
    try:
        target_recipients(ctx.session, actor=_actor(ctx), target=target)
    except (InvalidInput, PermissionDenied) as error:
        raise Invalid.from_error(error) from None


def _scope_names(ctx: Context) -> str:
    return "、".join(unit_path(ctx.session, unit) for unit in notice_scope(ctx.session, _actor(ctx)))


def _target_options(ctx: Context, data: Data) -> Sequence[Option]:
    everyone = ctx.t("全体会员（{units}）").format(units=_scope_names(ctx))
    options = [
        Option("all", everyone, aliases=("全体", "全体会员", "全體會員", "everyone"), literal=True),
        Option("units", N_("指定单位")),
        Option("role", N_("按职务（如职工代表）"), aliases=("按职务", "按職務", "职务", "by role")),
    ]
    if activities_managed_by(ctx.session, actor=_actor(ctx), limit=0)[1]:
        aliases = ("活动报名人员", "活動報名人員", "报名人员", "報名人員", "sign-ups")
        options.append(Option("activity", N_("某个活动的报名人员"), aliases=aliases))
    return options


def _activity_options(ctx: Context, data: Data) -> Sequence[Option]:
    """The activities the cadre manages, newest first: the ones whose sign-ups they may write to."""
    activities, _ = activities_managed_by(ctx.session, actor=_actor(ctx), limit=ACTIVITIES_LISTED)
    counts = signup_counts(ctx.session, [activity.id for activity in activities if activity.id is not None])
    options = []
    for activity in activities:
        count = counts.get(activity.id or 0, 0)
        label = ctx.t.ngettext("{date} {title}（{count} 人报名）", "{date} {title}（{count} 人报名）", count)
        date = activity.starts_at.astimezone(ctx.config.timezone).strftime("%m-%d")
        options.append(
            Option(str(activity.id), label.format(date=date, title=activity.title, count=count), literal=True)
        )
    return options


@dataclass(frozen=True)
class ActivityTargetStep(Choose):
    """An activity whose sign-ups to write to; one nobody signed up for is refused at once."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        _require_members(ctx, _target(ctx, {"target": "activity", "activity": value}))
        return value


@dataclass(frozen=True)
class TargetStep(Choose):
    """Whom to send to; "everyone" is checked for members here, the other two at their own step."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        if value == "all":
            _require_members(ctx, _target(ctx, {"target": "all"}))
        return value


@dataclass(frozen=True)
class RoleStep(Choose):
    """A role within the cadre's units; one nobody holds there is refused at once, not at the preview."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        _require_members(ctx, _target(ctx, {"target": "role", "role": value}))
        return value


ROLE_OPTIONS = tuple(Option(role.value, ROLE_LABELS[role]) for role in TARGET_ROLES)
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _named(units: Sequence[tuple[int, str]], word: str) -> list[int]:
    """The units a typed name means: the whole path, or the unit's own name."""
    said = normalise(word)
    return [
        unit_id
        for unit_id, path in units
        if normalise(path) == said or normalise(path.rsplit("/", 1)[-1]) == said
    ]


def _require_notice_units(ctx: Context, unit_ids: tuple[int, ...]) -> None:
    _require_members(ctx, Target(TargetKind.UNITS, unit_ids))


@dataclass(frozen=True)
class UnitsStep(Step):
    """Units in the cadre's subtree, by number from the list or by name; several at once.

    ``scope`` lists the units to pick from and ``check`` refuses a choice with the reason
    (out of scope, nobody there): sending notices by default, organising activities too.
    """

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None
    scope: Callable[[Session, Member], Sequence[Unit]] = units_in_scope
    check: Callable[[Context, tuple[int, ...]], None] = _require_notice_units

    def _units(self, ctx: Context) -> list[tuple[int, str]]:
        tree = UnitTree(ctx.session)
        return [
            (unit.id, tree.path_of(unit))
            for unit in self.scope(ctx.session, _actor(ctx))
            if unit.id is not None
        ]

    def _all_units(self, ctx: Context) -> list[tuple[int, str]]:
        tree = UnitTree(ctx.session)
        return [
            (unit.id, tree.path_of(unit)) for unit in ctx.session.exec(select(Unit)) if unit.id is not None
        ]

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        units = self._units(ctx)
        lines = [ctx.t(self.question)]
        lines.extend(f"{number}. {path}" for number, (_, path) in enumerate(units[:UNITS_LISTED], start=1))
        if len(units) > UNITS_LISTED:
            lines.append(
                ctx.t("（共 {count} 个单位，这里列出前 {shown} 个；其他单位请直接回复名称。）").format(
                    count=len(units), shown=UNITS_LISTED
                )
            )
        return Reply("\n".join(lines))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if text is None or not text.strip():
            raise Invalid(N_("请回复单位的编号或名称。"))
        units = self._units(ctx)
        chosen: list[int] = []
        for word in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()):
            if not word:
                continue
            number = parse_index(word)
            if number is not None:
                if not 1 <= number <= len(units):
                    raise Invalid(N_("没有编号为 {number} 的单位，请对照列表重新回复。"), number=number)
                chosen.append(units[number - 1][0])
                continue
            matches = _named(units, word)
            if len(matches) != 1:
                # A unit the cadre does not look after gets that reason, not "not found".
                elsewhere = _named(self._all_units(ctx), word)
                if len(elsewhere) == 1:
                    self.check(ctx, (elsewhere[0],))
                raise Invalid(N_("没有找到单位“{name}”，请回复列表中的编号或单位全称。"), name=word)
            chosen.append(matches[0])
        picked = list(dict.fromkeys(chosen))
        self.check(ctx, tuple(picked))
        return picked


# "9:00", "09：30", "9点", "9点半", "下午3点", "15时20分", and in words: "早上九点", "下午三点十五分"
_WORD_NUMBER = "[零〇一二两三四五六七八九十]{1,3}"
_TIME = re.compile(
    rf"(?P<part>上午|早上|中午|下午|傍晚|晚上)?(?P<hour>[0-9]{{1,2}}|{_WORD_NUMBER})"
    rf"(?:[:：](?P<minute>[0-9]{{2}})|[点點时時](?:(?P<half>半)|(?P<minutes>[0-9]{{1,2}}|{_WORD_NUMBER})分?)?)$"
)


def _clock_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) > 1 and text[0] in "零〇":  # 九点零五分
        text = text[1:]
    return chinese_numeral(text)


def parse_send_time(text: str, *, today: date) -> tuple[date, time] | None:
    """The local date and time a cadre means: "明天 9:00", "11月24日 下午3点", "2026-11-24 09:30".

    A time alone means today. None when it is not a date and a time.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) > 40:
        return None
    match = _TIME.search(folded)
    if match is None:
        return None
    hour = _clock_number(match["hour"])
    minutes = match["minute"] or match["minutes"]
    minute = _clock_number(minutes) if minutes else (30 if match["half"] else 0)
    if hour is None or minute is None:
        return None
    if match["part"] in ("下午", "傍晚", "晚上") and hour < 12:
        hour += 12
    if match["part"] == "中午" and hour < 6:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    rest = folded[: match.start()].strip()
    day = parse_date(rest, today=today) if rest else today
    if day is None:
        return None
    return day, time(hour, minute)


@dataclass(frozen=True)
class SendTimeStep(Step):
    """A date and time in the union's zone, refused when past or too far ahead, stored in UTC."""

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def _example(self, ctx: Context) -> str:
        tomorrow = ctx.local_now().date() + timedelta(days=1)
        return f"{tomorrow.isoformat()} 09:00"

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question).format(example=self._example(ctx)))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        parsed = parse_send_time(text, today=ctx.local_now().date()) if text else None
        if parsed is None:
            raise Invalid(
                N_("没看懂这个时间。请写明日期和几点，例如“{example}”或“明天上午9点”。"),
                example=self._example(ctx),
            )
        moment = datetime.combine(parsed[0], parsed[1], tzinfo=ctx.config.timezone).astimezone(UTC)
        try:
            check_send_time(moment, ctx.now)
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        return moment.isoformat()


def _draft(ctx: Context, data: Data) -> NoticeDraft:
    send_at = datetime.fromisoformat(data["send_at"]) if data.get("when") == "later" else None
    return NoticeDraft(
        title=data["title"],
        body=data["body"],
        category=NoticeCategory(data["category"]),
        target=_target(ctx, data),
        send_at=send_at,
        attachment=_attachment(data),
    )


def _target_text(ctx: Context, data: Data) -> str:
    choice = data.get("target")
    if choice == "activity":
        activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity"]))
        return ctx.t("“{title}”的报名人员").format(title=activity.title)
    if choice == "units":
        tree = UnitTree(ctx.session)
        names = []
        for unit_id in data.get("units") or ():
            unit = ctx.session.get(Unit, unit_id)
            if unit is not None:
                names.append(tree.path_of(unit))
        return "、".join(names)
    if choice == "role":
        return ctx.t("{role}（{units}）").format(
            role=ctx.t(ROLE_LABELS[Role(data["role"])]), units=_scope_names(ctx)
        )
    return ctx.t("全体会员（{units}）").format(units=_scope_names(ctx))


REACH_LABELS: dict[Reach, str] = {
    Reach.TELEGRAM: N_("Telegram 消息：{count}"),
    Reach.WECHAT_SERVICE: N_("微信客服消息（48 小时内联系过）：{count}"),
    Reach.WECHAT_TEMPLATE: N_("微信模板消息：{count}"),
    Reach.NONE: N_("没有可用账号（只能在“通知公告”里看到）：{count}"),
}


def _preview(ctx: Context, data: Data) -> str:
    _ = ctx.t
    draft = _draft(ctx, data)
    figures = preview_notice(
        ctx.session,
        actor=_actor(ctx),
        draft=draft,
        now=ctx.now,
        template_kinds=ctx.config.template_kinds,
        template_quota=ctx.config.template_daily_quota,
    )
    attachment = draft.attachment
    file_name = None
    if attachment is not None and attachment.kind is AttachmentKind.FILE:
        file_name = attachment.name or Path(attachment.ref).name
    lines = [
        _("请核对这条通知，会员收到的内容如下："),
        "",
        notice_text(_, category=draft.category, title=draft.title, body=draft.body, file_name=file_name),
    ]
    if attachment is not None and attachment.kind is AttachmentKind.IMAGE:
        lines.append(_("（附图片一张）"))
    lines += [
        "",
        _("发送对象：{target}").format(target=_target_text(ctx, data)),
        _.ngettext("共 {count} 人，送达方式：", "共 {count} 人，送达方式：", figures.recipients).format(
            count=_count(figures.recipients)
        ),
    ]
    lines.extend("· " + _(REACH_LABELS[way]).format(count=_count(figures.reach[way])) for way in Reach)
    if figures.over_quota:
        lines.append(
            _(
                "⚠ 微信模板消息每天最多发 {quota} 条，这条通知需要 {count} 条，超出的部分会延后或发不出去。"
            ).format(quota=_count(figures.template_quota), count=_count(figures.reach[Reach.WECHAT_TEMPLATE]))
        )
    if figures.file_unsent:
        lines.append(
            _(
                "⚠ 微信不能给会员发文件：通过微信接收的 {count} 人只能看到正文和文件名，文件请另行发放。"
            ).format(count=_count(figures.file_unsent))
        )
    when = _("立即发送") if draft.send_at is None else _local(draft.send_at, ctx.config.timezone)
    lines.append(_("发送时间：{time}").format(time=when))
    return "\n".join(lines)


@dataclass(frozen=True)
class NoticeConfirm(Confirm):
    """The preview; a yes is checked once more, since time passed while the cadre read it."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        attachment = _attachment(data)
        if attachment is None or attachment.kind is not AttachmentKind.IMAGE:
            return reply
        image = OutgoingFile(
            attachment.ref, attachment.name or Path(attachment.ref).name, attachment.mime_type
        )
        return Reply(reply.text, buttons=reply.buttons, image=image)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        try:
            check_notice(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
        except InvalidInput as error:
            goto = {"notice.send_time_past": "send_at", "notice.no_recipients": "target"}.get(error.code)
            raise Invalid.from_error(error, goto=goto) from None
        return value


def _send(ctx: Context, data: Data) -> list[Reply]:
    _ = ctx.t
    notice = create_notice(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
    count = notice.recipient_count
    if data.get("when") == "later":
        text = _.ngettext(
            "好的，这条通知将在 {time} 发给 {count} 人。发出前可以在“我发的通知”里撤回。",
            "好的，这条通知将在 {time} 发给 {count} 人。发出前可以在“我发的通知”里撤回。",
            count,
        ).format(time=_local(notice.send_at, ctx.config.timezone), count=_count(count))
    elif _reaches_author(ctx):
        text = _.ngettext(
            "好的，通知开始发给 {count} 人。发送进度会单独发给您。",
            "好的，通知开始发给 {count} 人。发送进度会单独发给您。",
            count,
        ).format(count=_count(count))
    else:  # e.g. in the terminal, or on WeChat with no template: no progress message can come
        text = _.ngettext(
            "好的，通知开始发给 {count} 人。发送情况可以在“我发的通知”里查看。",
            "好的，通知开始发给 {count} 人。发送情况可以在“我发的通知”里查看。",
            count,
        ).format(count=_count(count))
    return show_menu(ctx, intro=[Reply(text)])


def _reaches_author(ctx: Context) -> bool:
    """Whether the progress message can reach the cadre at all (as the preview's figures are worked out)."""
    author = _actor(ctx)
    assert author.id is not None
    plan = plan_reach(
        ctx.session, [author.id], kind=PushKind.NOTICE, now=ctx.now, template_kinds=ctx.config.template_kinds
    )
    return plan[author.id] is not Reach.NONE


COMPOSE_NOTICE = Flow(
    name=COMPOSE_FLOW,
    steps=(
        Choose(
            "category",
            N_("请选择发布的栏目："),
            options=tuple(Option(category.value, CATEGORY_LABELS[category]) for category in NoticeCategory),
        ),
        Ask("title", N_("请输入标题，一句话说明是什么事："), max_length=TITLE_MAX),
        Ask("body", N_("请输入正文："), max_length=BODY_MAX),
        AttachmentStep("attachment", N_("需要附上一张图片或一个文件吗？需要的话请现在发送。")),
        TargetStep("target", N_("请选择发送对象："), options=_target_options),
        UnitsStep(
            "units",
            N_("请回复要发送的单位编号，可以选多个，用空格隔开，例如“1 3”："),
            skip_if=lambda data: data.get("target") != "units",
        ),
        RoleStep(
            "role",
            N_("请选择职务："),
            options=ROLE_OPTIONS,
            skip_if=lambda data: data.get("target") != "role",
        ),
        ActivityTargetStep(
            "activity",
            N_("请选择活动，通知会发给目前报了名的会员："),
            options=_activity_options,
            skip_if=lambda data: data.get("target") != "activity",
        ),
        Choose(
            "when",
            N_("什么时候发送？"),
            options=(Option("now", N_("立即发送")), Option("later", N_("定时发送"))),
        ),
        SendTimeStep(
            "send_at",
            N_("请输入发送的日期和时间，例如“{example}”："),
            skip_if=lambda data: data.get("when") != "later",
        ),
        NoticeConfirm(summary=_preview, question=N_("确认后开始发送；确认之前不会发出任何消息。")),
    ),
    on_done=_send,
)


def _compose(ctx: Context, arg: str) -> list[Reply]:
    notice_scope(ctx.session, _actor(ctx))  # refuses members who may not send notices, with the reason
    return ctx.dialogs.start(ctx, COMPOSE_FLOW)


# --------------------------------------------------------------------------- browsing


def _list_label(ctx: Context, notice: Notice) -> str:
    return ctx.t("{date} {title}").format(
        date=notice.send_at.astimezone(ctx.config.timezone).strftime("%m-%d"), title=notice.title
    )


def _browse_options(ctx: Context, data: Data) -> Sequence[Option]:
    category = NoticeCategory(data["category"])
    page = int(data.get("page", 1))
    notices, total = list_notices(
        ctx.session,
        member=_actor(ctx),
        category=category,
        now=ctx.now,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    options = [Option(f"n:{notice.id}", _list_label(ctx, notice), literal=True) for notice in notices]
    options += page_options(page, page_count(total))
    counts = category_counts(ctx.session, member=_actor(ctx), now=ctx.now)
    for other in NoticeCategory:
        if other is not category and counts.get(other):
            options.append(Option(f"c:{other.value}", CATEGORY_LABELS[other]))
    return options


@dataclass(frozen=True)
class BrowseStep(PagedChoose):
    """One page of a heading: the notices as numbered choices, then the pages and the other headings."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        category = NoticeCategory(data["category"])
        page = int(data.get("page", 1))
        _, total = list_notices(ctx.session, member=_actor(ctx), category=category, now=ctx.now, limit=0)
        heading = ctx.t(CATEGORY_LABELS[category])
        if total == 0:
            text = ctx.t("“{heading}”里还没有内容。").format(heading=heading)
        else:
            text = ctx.t("{heading}（第 {page}/{pages} 页，共 {count} 条），请选择要查看的一条：").format(
                heading=heading, page=page, pages=page_count(total), count=total
            )
        return Reply(text, buttons=reply.buttons)


def _browsed(ctx: Context, data: Data) -> list[Reply]:
    choice: str = data["pick"]
    kind, _, value = choice.partition(":")
    if kind == "c":
        return open_heading(ctx, NoticeCategory(value))
    if kind == "p":
        return ctx.dialogs.start(ctx, BROWSE_FLOW, data={"category": data["category"], "page": int(value)})
    notice = read_notice(ctx.session, member=_actor(ctx), notice_id=int(value), now=ctx.now)
    assert notice.id is not None
    mark_notice_read(ctx.session, member=_actor(ctx), notice_id=notice.id, now=ctx.now)
    shown = full_notice(ctx.session, ctx.t, notice, zone=ctx.config.timezone)
    again = {"category": data["category"], "page": data.get("page", 1)}
    return ctx.dialogs.start(ctx, BROWSE_FLOW, data=again, intro=[shown])


BROWSE_NOTICES = Flow(
    name=BROWSE_FLOW,
    steps=(BrowseStep("pick", N_("请选择要查看的一条："), options=_browse_options),),
    on_done=_browsed,
    quiet_timeout=True,
    browse=True,
)


def open_heading(ctx: Context, category: NoticeCategory) -> list[Reply]:
    """The first page of a heading, or a kind word when nothing was ever addressed to the member."""
    if not category_counts(ctx.session, member=_actor(ctx), now=ctx.now):
        return show_menu(ctx, intro=[Reply(ctx.t("目前还没有发给您的通知。有新通知时会第一时间告诉您。"))])
    return ctx.dialogs.start(ctx, BROWSE_FLOW, data={"category": category.value, "page": 1})


def _heading(category: NoticeCategory) -> Callable[[Context, str], list[Reply]]:
    def run(ctx: Context, arg: str) -> list[Reply]:
        return open_heading(ctx, category)

    return run


def _read(ctx: Context, arg: str) -> list[Reply]:
    try:
        notice_id = int(arg)
    except ValueError:
        return [Reply(ctx.t("这个按钮已经失效了，请按下面的提示操作。"))]
    mark_notice_read(ctx.session, member=_actor(ctx), notice_id=notice_id, now=ctx.now)
    return [Reply(ctx.t("已收到您的确认，谢谢！"))]


# ----------------------------------------------------------------- the cadre's own notices


def _state_label(ctx: Context, notice: Notice) -> str:
    if notice.status is NoticeStatus.WITHDRAWN:
        return ctx.t("已撤回")
    if notice.send_at > ctx.now:
        return ctx.t("定于 {time} 发送").format(time=_local(notice.send_at, ctx.config.timezone))
    if is_going_out(ctx.session, notice):
        return ctx.t("发送中")  # also while pushes wait out the quiet hours
    return ctx.t("已发出")


def _sent_options(ctx: Context, data: Data) -> Sequence[Option]:
    page = int(data.get("page", 1))
    notices, total = authored_notices(
        ctx.session, actor=_actor(ctx), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    options = [
        Option(
            f"n:{notice.id}",
            ctx.t("{label}（{state}）").format(
                label=_list_label(ctx, notice), state=_state_label(ctx, notice)
            ),
            literal=True,
        )
        for notice in notices
    ]
    return options + page_options(page, page_count(total))


@dataclass(frozen=True)
class SentStep(PagedChoose):
    """A page of the cadre's own notices, each with where it stands."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        page = int(data.get("page", 1))
        _, total = authored_notices(ctx.session, actor=_actor(ctx), limit=0)
        text = ctx.t("我发的通知（第 {page}/{pages} 页，共 {count} 条），请选择一条查看情况：").format(
            page=page, pages=page_count(total), count=total
        )
        return Reply(text, buttons=reply.buttons)


def _report_reply(ctx: Context, notice_id: int) -> Reply:
    notice, report = notice_report(ctx.session, actor=_actor(ctx), notice_id=notice_id)
    lines = [
        ctx.t("【{heading}】{title}").format(heading=ctx.t(NOTICE_TAGS[notice.category]), title=notice.title),
        ctx.t("状态：{state}").format(state=_state_label(ctx, notice)),
        *report_lines(ctx.t, report),
    ]
    return Reply("\n".join(lines))


def _show_notice_actions(ctx: Context, notice_id: int) -> list[Reply]:
    return ctx.dialogs.start(
        ctx, ACTION_FLOW, data={"notice_id": notice_id}, intro=[_report_reply(ctx, notice_id)]
    )


def _sent_picked(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "p":
        return ctx.dialogs.start(ctx, SENT_FLOW, data={"page": int(value)})
    return _show_notice_actions(ctx, int(value))


SENT_NOTICES = Flow(
    name=SENT_FLOW,
    steps=(SentStep("pick", N_("请选择一条通知："), options=_sent_options),),
    on_done=_sent_picked,
    quiet_timeout=True,
    browse=True,
)


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    notice = managed_notice(ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]))
    options = []
    if can_withdraw(ctx.session, notice, ctx.now):
        options.append(Option("withdraw", N_("撤回这条通知")))
    options += [Option("refresh", N_("刷新")), Option("list", N_("返回列表"))]
    return options


def _acted(ctx: Context, data: Data) -> list[Reply]:
    notice_id = int(data["notice_id"])
    action = data["action"]
    if action == "list":
        return ctx.dialogs.start(ctx, SENT_FLOW, data={"page": 1})
    if action == "withdraw":
        if not data.get("sure"):
            return [Reply(ctx.t("好的，这条通知会照常发送。")), *_show_notice_actions(ctx, notice_id)]
        count = withdraw_notice(ctx.session, actor=_actor(ctx), notice_id=notice_id, now=ctx.now)
        text = ctx.t.ngettext(
            "已撤回这条通知，{count} 位会员不会收到它。", "已撤回这条通知，{count} 位会员不会收到它。", count
        ).format(count=_count(count))
        return show_menu(ctx, intro=[Reply(text)])
    return _show_notice_actions(ctx, notice_id)


NOTICE_ACTIONS = Flow(
    name=ACTION_FLOW,
    steps=(
        Choose("action", N_("接下来要做什么？"), options=_action_options),
        YesNo(
            "sure",
            N_("确定要撤回这条通知吗？撤回后会员不会收到它，也不会在“通知公告”里看到。"),
            skip_if=lambda data: data.get("action") != "withdraw",
        ),
    ),
    on_done=_acted,
    browse=True,
)


def _sent(ctx: Context, arg: str) -> list[Reply]:
    _, total = authored_notices(ctx.session, actor=_actor(ctx), limit=0)
    if total == 0:
        return show_menu(ctx, intro=[Reply(ctx.t("您还没有发过通知。回复“发通知”可以写一条。"))])
    return ctx.dialogs.start(ctx, SENT_FLOW, data={"page": 1})


# --------------------------------------------------------------------------- features

FLOWS: tuple[Flow, ...] = (COMPOSE_NOTICE, BROWSE_NOTICES, SENT_NOTICES, NOTICE_ACTIONS)

BROWSE = Feature(
    name="notices",
    rank=40,
    label=N_("通知公告"),
    summary=N_("查看发给您的通知，以及厂务公开、会费使用公开"),
    words=("/notices", "通知", "通知公告", "公告", "notices", "notice"),
    run=_heading(NoticeCategory.NOTICE),
)
FACTORY_AFFAIRS = Feature(
    name="factory_affairs",
    rank=190,
    label=N_("厂务公开"),
    summary=N_("查看厂务公开的内容"),
    words=("/affairs", "厂务公开", "廠務公開", "公开", "公開", "affairs"),
    run=_heading(NoticeCategory.FACTORY_AFFAIRS),
    in_menu=False,
)
DUES_USE = Feature(
    name="dues_use",
    rank=200,
    label=N_("会费使用公开"),
    summary=N_("查看会费使用情况的公开"),
    words=("/dues_use", "会费使用公开", "會費使用公開", "会费公开", "會費公開"),
    run=_heading(NoticeCategory.DUES_USE),
    in_menu=False,
)
COMPOSE = Feature(
    name="notify",
    rank=60,
    label=N_("发通知"),
    summary=N_("给您负责的单位发通知或公开内容，发送前可预览"),
    words=("/notify", "发通知", "發通知", "发布通知", "发公告", "notify"),
    run=_compose,
    available=can_send_notices,
)
SENT = Feature(
    name="sent_notices",
    rank=70,
    label=N_("我发的通知"),
    summary=N_("查看发送和阅读情况，撤回还没发出的通知"),
    words=("/sent", "我发的通知", "我發的通知", "已发通知", "sent"),
    run=_sent,
    available=can_send_notices,
)
READ = Feature(
    name=READ_FEATURE,
    rank=210,
    label=N_("已阅"),
    summary=N_("确认已经阅读一条通知"),
    words=(),
    run=_read,
    in_menu=False,
    background=True,
)
