"""发通知: a cadre composes a notice or an openness post and sees it as members will, before it goes.

One form — heading, title, body, an optional image or file, whom to send to,
when — ends in a preview: the text exactly as members will read it, how many
members it reaches and how. Nothing is queued before the cadre confirms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

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
)
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import MediaKind, OutgoingFile, Reply
from handlers.core.parsing import normalise
from handlers.core.steps import MomentStep, UnitsStep
from handlers.notices.render import figure, local_time, notice_text
from models.activities import activities_managed_by, managed_activity, signup_counts
from models.errors import N_, InvalidInput, PermissionDenied
from models.members import Member
from models.notices import (
    BODY_MAX,
    CATEGORY_LABELS,
    TITLE_MAX,
    Attachment,
    AttachmentKind,
    NoticeCategory,
    NoticeDraft,
    Target,
    TargetKind,
    check_attachment,
    check_notice,
    check_send_time,
    create_notice,
    notice_scope,
    preview_notice,
    target_recipients,
    units_in_scope,
)
from models.outbox import PushKind
from models.reach import Reach, plan_reach
from models.roles import ROLE_LABELS, Permission, Role
from models.units import Unit, UnitTree, unit_path

# The newest activities a cadre may write to the sign-ups of; older ones have long taken place.
ACTIVITIES_LISTED = 10
# Roles a notice can go to; administrators are staff, not a group members recognise.
TARGET_ROLES = (Role.REPRESENTATIVE, Role.GROUP_LEADER, Role.COMMITTEE, Role.CHAIR, Role.TREASURER)


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


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


def _require_notice_units(ctx: Context, unit_ids: tuple[int, ...]) -> None:
    """Units the cadre may send to and where someone will read it, refused at the step that chose them."""
    _require_members(ctx, Target(TargetKind.UNITS, unit_ids))


def _check_send_time(moment: datetime, data: Data, now: datetime) -> None:
    check_send_time(moment, now)


def _tomorrow_morning(today: date) -> str:
    """The example a cadre is shown: tomorrow at 09:00, when a scheduled notice most often goes."""
    return f"{(today + timedelta(days=1)).isoformat()} 09:00"


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
            count=figure(figures.recipients)
        ),
    ]
    lines.extend("· " + _(REACH_LABELS[way]).format(count=figure(figures.reach[way])) for way in Reach)
    if figures.over_quota:
        lines.append(
            _(
                "⚠ 微信模板消息每天最多发 {quota} 条，这条通知需要 {count} 条，超出的部分会延后或发不出去。"
            ).format(quota=figure(figures.template_quota), count=figure(figures.reach[Reach.WECHAT_TEMPLATE]))
        )
    if figures.file_unsent:
        lines.append(
            _(
                "⚠ 微信不能给会员发文件：通过微信接收的 {count} 人只能看到正文和文件名，文件请另行发放。"
            ).format(count=figure(figures.file_unsent))
        )
    when = _("立即发送") if draft.send_at is None else local_time(draft.send_at, ctx.config.timezone)
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
        ).format(time=local_time(notice.send_at, ctx.config.timezone), count=figure(count))
    elif _reaches_author(ctx):
        text = _.ngettext(
            "好的，通知开始发给 {count} 人。发送进度会单独发给您。",
            "好的，通知开始发给 {count} 人。发送进度会单独发给您。",
            count,
        ).format(count=figure(count))
    else:  # e.g. in the terminal, or on WeChat with no template: no progress message can come
        text = _.ngettext(
            "好的，通知开始发给 {count} 人。发送情况可以在“我发的通知”里查看。",
            "好的，通知开始发给 {count} 人。发送情况可以在“我发的通知”里查看。",
            count,
        ).format(count=figure(count))
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
    name="notify",
    steps=(
        Choose(
            "category",
            N_("请选择发布的栏目："),
            options=tuple(Option(category.value, CATEGORY_LABELS[category]) for category in NoticeCategory),
            label=N_("栏目"),
        ),
        Ask("title", N_("请输入标题，一句话说明是什么事："), max_length=TITLE_MAX, label=N_("标题")),
        Ask("body", N_("请输入正文："), max_length=BODY_MAX, label=N_("正文")),
        AttachmentStep(
            "attachment", N_("需要附上一张图片或一个文件吗？需要的话请现在发送。"), label=N_("附件")
        ),
        TargetStep("target", N_("请选择发送对象："), options=_target_options, label=N_("发送对象")),
        UnitsStep(
            "units",
            N_("请回复要发送的单位编号，可以选多个，用空格隔开，例如“1 3”："),
            scope=units_in_scope,
            check=_require_notice_units,
            skip_if=lambda data: data.get("target") != "units",
            label=N_("发送对象"),
        ),
        RoleStep(
            "role",
            N_("请选择职务："),
            options=ROLE_OPTIONS,
            skip_if=lambda data: data.get("target") != "role",
            label=N_("发送对象"),
        ),
        ActivityTargetStep(
            "activity",
            N_("请选择活动，通知会发给目前报了名的会员："),
            options=_activity_options,
            skip_if=lambda data: data.get("target") != "activity",
            label=N_("发送对象"),
        ),
        Choose(
            "when",
            N_("什么时候发送？"),
            options=(Option("now", N_("立即发送")), Option("later", N_("定时发送"))),
            label=N_("发送时间"),
        ),
        MomentStep(
            "send_at",
            N_("请输入发送的日期和时间，例如“{example}”："),
            check=_check_send_time,
            example=_tomorrow_morning,
            unreadable=N_("没看懂这个时间。请写明日期和几点，例如“{example}”或“明天上午9点”。"),
            skip_if=lambda data: data.get("when") != "later",
            label=N_("发送时间"),
        ),
        NoticeConfirm(summary=_preview, question=N_("确认后开始发送；确认之前不会发出任何消息。")),
    ),
    on_done=_send,
)


def _compose(ctx: Context, arg: str) -> list[Reply]:
    notice_scope(ctx.session, _actor(ctx))  # refuses members who may not send notices, with the reason
    return ctx.dialogs.start(ctx, COMPOSE_NOTICE)


COMPOSE = Feature(
    name="notify",
    rank=60,
    section=MenuSection.NOTICES,
    label=N_("发通知"),
    summary=N_("给您负责的单位发通知或公开内容，发送前可预览"),
    words=("/notify", "发通知", "發通知", "发布通知", "发公告", "notify"),
    run=_compose,
    available=can_send_notices,
)
