"""我发起的活动: a cadre sees who signed up for their activities and may call one off.

Each activity opens to its sign-ups, with 工号 and unit, so the cadre can plan
for those who come; when it is called off, they are told through the outbox,
with the reason the cadre gave (it may be skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from handlers.activities.attendance import attendee_numbers, code_reply, marked
from handlers.activities.organise import can_manage_activities
from handlers.activities.render import local_time
from handlers.activities.roster import export_signups, pick_removed, removal_question
from handlers.core.context import Context
from handlers.core.dialogs import Ask, Choose, Data, Flow, Option, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.core.steps import MomentStep
from models.activities import (
    CANCEL_REASON_MAX,
    PLACE_MAX,
    REMOVE_REASON_MAX,
    Activity,
    ActivityStatus,
    Allocation,
    SignupStatus,
    activities_managed_by,
    cancel_activity,
    check_start,
    managed_activity,
    remove_signup,
    signup_counts,
    signups_of,
    waitlist_counts,
)
from models.activities.news import change_activity
from models.errors import N_
from models.members import Member

# Past this many names the cadre's list says how many more: one chat message holds about 4,000 characters.
NAMES_LISTED = 100


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _state(ctx: Context, activity: Activity, count: int) -> str:
    if activity.status is ActivityStatus.CANCELLED:
        return ctx.t("已取消")
    if activity.capacity is None:
        return ctx.t("已报名 {count} 人").format(count=count)
    return ctx.t("已报名 {count}/{capacity} 人").format(count=count, capacity=activity.capacity)


@dataclass(frozen=True)
class ManagedStep(PagedList[tuple[Activity, int]]):
    """A page of the activities the cadre manages, each with its sign-ups."""

    def fetch(
        self, ctx: Context, data: Data, offset: int, limit: int
    ) -> tuple[Sequence[tuple[Activity, int]], int]:
        activities, total = activities_managed_by(ctx.session, actor=_actor(ctx), offset=offset, limit=limit)
        counts = signup_counts(ctx.session, [a.id for a in activities if a.id is not None])
        return [(activity, counts.get(activity.id or 0, 0)) for activity in activities], total

    def item(self, ctx: Context, item: tuple[Activity, int]) -> Option:
        activity, count = item
        label = ctx.t("{date} {title}（{state}）").format(
            date=activity.starts_at.astimezone(ctx.config.timezone).strftime("%m-%d"),
            title=activity.title,
            state=_state(ctx, activity, count),
        )
        return Option(f"a:{activity.id}", label, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[tuple[Activity, int]]) -> str:
        return ctx.t("我发起的活动（第 {page}/{pages} 页，共 {count} 个），请选择一个查看报名情况：").format(
            page=page.number, pages=page.pages, count=page.total
        )


def _report(ctx: Context, activity_id: int) -> Reply:
    _ = ctx.t
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    attendees = signups_of(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    zone = ctx.config.timezone
    if activity.status is ActivityStatus.CANCELLED:
        state = _("已取消")
    elif activity.starts_at <= ctx.now:
        state = _("已开始")
    elif activity.signup_deadline <= ctx.now:
        state = _("报名已截止")
    else:
        state = _("报名中")
    count = len(attendees)
    if activity.capacity is None:
        figures = _("报名人数：{count}（不限名额）").format(count=count)
    else:
        figures = _("报名人数：{count} / {capacity}").format(count=count, capacity=activity.capacity)
    lines = [
        _("【活动】{title}").format(title=activity.title),
        _("时间：{time}").format(time=local_time(activity.starts_at, zone)),
        _("地点：{place}").format(place=activity.place),
        _("报名截止：{time}").format(time=local_time(activity.signup_deadline, zone)),
        _("状态：{state}").format(state=state),
    ]
    if activity.cancel_reason:
        lines.append(_("取消原因：{reason}").format(reason=activity.cancel_reason))
    lines.append(figures)
    there = sum(1 for a in attendees if a.attended_at is not None)
    if there or activity.starts_at <= ctx.now:
        lines.append(_("到场：{there}/{count} 人（✓ 为已到）").format(there=there, count=count))
    lines.extend(
        _("{number}. {name}（{employee_no}，{unit}）").format(
            number=number, name=a.member.name, employee_no=a.member.employee_no, unit=a.unit
        )
        + (_("（第{number}批）").format(number=a.batch) if a.batch else "")
        + (_("：{answer}").format(answer=a.answer) if a.answer else "")
        + (" ✓" if a.attended_at is not None else "")
        for number, a in enumerate(attendees[:NAMES_LISTED], start=1)
    )
    if count > NAMES_LISTED:
        more = count - NAMES_LISTED
        lines.append(_.ngettext("……还有 {count} 人", "……还有 {count} 人", more).format(count=more))
    if activity.allocation is Allocation.LOTTERY:
        lines.append(_lottery_line(ctx, activity))
    waiting = signups_of(
        ctx.session, actor=_actor(ctx), activity_id=activity_id, status=SignupStatus.WAITLISTED
    )
    if waiting:
        lines.append(_("候补（按排队顺序）：{count} 人").format(count=len(waiting)))
        lines.extend(
            _("候补{number}. {name}（{employee_no}，{unit}）").format(
                number=number, name=a.member.name, employee_no=a.member.employee_no, unit=a.unit
            )
            for number, a in enumerate(waiting[:NAMES_LISTED], start=1)
        )
        if len(waiting) > NAMES_LISTED:
            more = len(waiting) - NAMES_LISTED
            lines.append(_.ngettext("……还有 {count} 人", "……还有 {count} 人", more).format(count=more))
    return Reply("\n".join(lines))


def _lottery_line(ctx: Context, activity: Activity) -> str:
    """Where a lottery stands, for its organiser: entries before the draw, offers and reserve after."""
    assert activity.id is not None
    drawn = {
        status: len(signups_of(ctx.session, actor=_actor(ctx), activity_id=activity.id, status=status))
        for status in (SignupStatus.ENTERED, SignupStatus.OFFERED, SignupStatus.NOT_DRAWN)
    }
    if activity.drawn_at is None:
        return ctx.t("抽签报名：{count} 人，报名截止后抽签").format(count=drawn[SignupStatus.ENTERED])
    return ctx.t("已抽签（种子 {seed}）：中签待确认 {offered} 人，未中签 {reserve} 人").format(
        seed=activity.draw_seed, offered=drawn[SignupStatus.OFFERED], reserve=drawn[SignupStatus.NOT_DRAWN]
    )


def _show_managed(ctx: Context, activity_id: int, page: int) -> list[Reply]:
    data = {"activity_id": activity_id, "page": page}
    return ctx.dialogs.start(ctx, MANAGE_ACTIVITY, data=data, intro=[_report(ctx, activity_id)])


def _managed_picked(ctx: Context, data: Data) -> list[Reply]:
    _, _, value = str(data["pick"]).partition(":")
    return _show_managed(ctx, int(value), int(data.get("page", 1)))


MANAGED_ACTIVITIES = paged_flow(
    name="managed_activities",
    steps=(ManagedStep("pick", N_("请选择一个活动：")),),
    on_pick=_managed_picked,
    quiet_timeout=True,
    browse=True,
)


def _manage_options(ctx: Context, data: Data) -> Sequence[Option]:
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"]))
    options = []
    if activity.status is ActivityStatus.OPEN:
        options.append(Option("code", N_("签到码"), aliases=("簽到碼", "check-in code")))
        if activity.starts_at - timedelta(hours=12) <= ctx.now and signup_counts(
            ctx.session, [int(data["activity_id"])]
        ):
            options.append(Option("attend", N_("登记到场"), aliases=("登記到場", "mark attendance")))
    activity_id = int(data["activity_id"])
    listed = bool(signup_counts(ctx.session, [activity_id]) or waitlist_counts(ctx.session, [activity_id]))
    if listed:
        options.append(Option("export", N_("导出名单"), aliases=("導出名單", "export the list")))
    if activity.status is ActivityStatus.OPEN and activity.starts_at > ctx.now:
        options.append(Option("change", N_("修改时间地点"), aliases=("修改時間地點", "change time or place")))
        if listed:
            options.append(Option("remove", N_("移除报名"), aliases=("移除報名", "remove a sign-up")))
        options.append(Option("cancel", N_("取消活动"), aliases=("取消活動", "cancel the activity")))
    options += [Option("refresh", N_("刷新")), Option("list", N_("返回列表"))]
    return options


@dataclass(frozen=True)
class ReasonStep(Ask):
    """Why the activity is off, told to those signed up; optional, and its limit said up front."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        question = ctx.t(self.question).format(limit=self.max_length)
        return Reply(question + "\n" + ctx.t("（没有可回复“跳过”）"))


def _cancel_question(ctx: Context, data: Data) -> dict[str, Any]:
    activity_id = int(data["activity_id"])
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    count = signup_counts(ctx.session, [activity_id]).get(activity_id, 0)
    waiting = waitlist_counts(ctx.session, [activity_id]).get(activity_id, 0)
    if waiting:
        told = ctx.t("已报名的 {count} 人和候补的 {waiting} 人会收到取消通知。").format(
            count=count, waiting=waiting
        )
    else:
        told = ctx.t.ngettext(
            "已报名的 {count} 人会收到取消通知。", "已报名的 {count} 人会收到取消通知。", count
        ).format(count=count)
    reason = data.get("reason")
    if reason:
        told += "\n" + ctx.t("取消原因：{reason}").format(reason=reason)
    else:
        told += "\n" + ctx.t("（没有填写取消原因）")
    return {"title": activity.title, "told": told}


def _current_place(ctx: Context, data: Data) -> str:
    return managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"])).place


def _new_start(ctx: Context, data: Data) -> datetime:
    if data.get("new_start"):
        return datetime.fromisoformat(data["new_start"])
    return managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"])).starts_at


def _check_new_start(moment: datetime, data: Data, now: datetime) -> None:
    check_start(moment, now)


def _a_week_ahead(today: date) -> str:
    return f"{(today + timedelta(days=7)).isoformat()} 14:00"


def _change_question(ctx: Context, data: Data) -> dict[str, Any]:
    activity_id = int(data["activity_id"])
    count = signup_counts(ctx.session, [activity_id]).get(activity_id, 0)
    count += waitlist_counts(ctx.session, [activity_id]).get(activity_id, 0)
    return {
        "time": local_time(_new_start(ctx, data), ctx.config.timezone),
        "place": data.get("new_place") or _current_place(ctx, data),
        "count": count,
    }


def _managed_acted(ctx: Context, data: Data) -> list[Reply]:
    activity_id, page = int(data["activity_id"]), int(data.get("page", 1))
    action = data["action"]
    if action == "list":
        return ctx.dialogs.start(ctx, MANAGED_ACTIVITIES, data={"page": page})
    if action == "cancel" and data.get("sure"):
        activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
        waiting = waitlist_counts(ctx.session, [activity_id]).get(activity_id, 0)
        count = cancel_activity(
            ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now, reason=data.get("reason")
        )
        if waiting:
            text = ctx.t("已取消活动“{title}”，正在通知已报名和候补的 {count} 人。")
        else:
            text = ctx.t.ngettext(
                "已取消活动“{title}”，正在通知已报名的 {count} 人。",
                "已取消活动“{title}”，正在通知已报名的 {count} 人。",
                count,
            )
        text = text.format(title=activity.title, count=count)
        return show_menu(ctx, intro=[Reply(text)])
    if action == "cancel":
        return [Reply(ctx.t("好的，活动照常进行。")), *_show_managed(ctx, activity_id, page)]
    if action == "code":
        activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
        return [
            code_reply(ctx, activity, ctx.config.telegram_bot_username),
            *_show_managed(ctx, activity_id, page),
        ]
    if action == "attend":
        return [Reply(marked(ctx, data)), *_show_managed(ctx, activity_id, page)]
    if action == "export":
        return [export_signups(ctx, activity_id), *_show_managed(ctx, activity_id, page)]
    if action == "change" and data.get("change_sure"):
        told = change_activity(
            ctx.session,
            actor=_actor(ctx),
            activity_id=activity_id,
            starts_at=_new_start(ctx, data),
            place=data.get("new_place") or _current_place(ctx, data),
            now=ctx.now,
        )
        text = ctx.t.ngettext(
            "已修改，正在通知已报名和候补的 {count} 人。", "已修改，正在通知已报名和候补的 {count} 人。", told
        ).format(count=told)
        return [Reply(text), *_show_managed(ctx, activity_id, page)]
    if action == "change":
        return [Reply(ctx.t("好的，时间地点不变。")), *_show_managed(ctx, activity_id, page)]
    if action == "remove" and data.get("remove_sure"):
        remove_signup(
            ctx.session,
            actor=_actor(ctx),
            activity_id=activity_id,
            member_id=int(data["removed_member"]),
            reason=str(data["removed_reason"]),
            now=ctx.now,
        )
        text = ctx.t("已把 {name} 移出名单，并告诉了本人原因。").format(name=data["removed_name"])
        return [Reply(text), *_show_managed(ctx, activity_id, page)]
    if action == "remove":
        return [Reply(ctx.t("好的，名单不变。")), *_show_managed(ctx, activity_id, page)]
    return _show_managed(ctx, activity_id, page)


MANAGE_ACTIVITY = Flow(
    name="manage_activity",
    steps=(
        Choose("action", N_("接下来要做什么？"), options=_manage_options),
        Ask(
            "attendees",
            N_("请回复到场会员在上面名单中的序号，用空格或逗号分开，例如 1 3 5；都到了请回复“全部”。"),
            max_length=2000,
            validate=attendee_numbers,
            skip_if=lambda data: data.get("action") != "attend",
        ),
        MomentStep(
            "new_start",
            N_("新的开始时间是？例如“{example}”；时间不变请回复“跳过”："),
            check=_check_new_start,
            example=_a_week_ahead,
            unreadable=N_("没看懂这个时间。请写明日期和几点，例如“{example}”。"),
            optional=True,
            skip_if=lambda data: data.get("action") != "change",
        ),
        Ask(
            "new_place",
            N_("新的地点是？地点不变请回复“跳过”："),
            max_length=PLACE_MAX,
            optional=True,
            skip_if=lambda data: data.get("action") != "change",
        ),
        YesNo(
            "change_sure",
            N_("确定改为 {time}，在{place}举行吗？已报名和候补的 {count} 人会收到通知。"),
            params=_change_question,
            skip_if=lambda data: data.get("action") != "change",
            keeps=N_("好的，时间地点不变。"),
        ),
        Ask(
            "removed",
            N_("请回复要移除的会员在名单上的序号（候补的回复“候补2”这样的序号）："),
            max_length=20,
            validate=pick_removed,
            skip_if=lambda data: data.get("action") != "remove",
        ),
        Ask(
            "removed_reason",
            N_("请说明移除的原因，会告诉这位会员（最多 100 个字）："),
            max_length=REMOVE_REASON_MAX,
            skip_if=lambda data: data.get("action") != "remove",
        ),
        YesNo(
            "remove_sure",
            N_("确定把 {name} 移出“{title}”的名单吗？会告诉本人原因：{reason}"),
            params=removal_question,
            skip_if=lambda data: data.get("action") != "remove",
            keeps=N_("好的，名单不变。"),
        ),
        ReasonStep(
            "reason",
            N_("请简单说明取消的原因，会一并告诉已报名的会员（最多 {limit} 个字）。"),
            max_length=CANCEL_REASON_MAX,
            optional=True,
            skip_if=lambda data: data.get("action") != "cancel",
        ),
        YesNo(
            "sure",
            N_("确定要取消活动“{title}”吗？{told}"),
            params=_cancel_question,
            skip_if=lambda data: data.get("action") != "cancel",
            keeps=N_("好的，活动照常进行。"),
        ),
    ),
    on_done=_managed_acted,
    browse=True,
)


def _managed(ctx: Context, arg: str) -> list[Reply]:
    _, total = activities_managed_by(ctx.session, actor=_actor(ctx), limit=0)
    if total == 0:
        return show_menu(ctx, intro=[Reply(ctx.t("您还没有发起过活动。回复“发起活动”可以发起一个。"))])
    return ctx.dialogs.start(ctx, MANAGED_ACTIVITIES, data={"page": 1})


MANAGED = Feature(
    name="managed_activities",
    rank=90,
    section=MenuSection.ACTIVITIES,
    label=N_("我发起的活动"),
    summary=N_("查看报名名单，取消活动"),
    words=("/my_activities", "我发起的活动", "我發起的活動", "报名名单", "報名名單"),
    run=_managed,
    available=can_manage_activities,
)
