"""活动报名: members sign up for activities; cadres set them out, see who comes, and call them off.

A member opens 活动报名 and sees, page by page, what is open to their unit
now — when, where, how many places are left, until when — opens one to read it
in full and signs up or cancels with a button. The activities they signed up
for are a second section of the same list (我的报名), so "did I sign up?" is
one tap away. A cadre sets an activity out in one form (发起活动) and, under
我发起的活动, sees for each one who signed up, with 工号 and unit, and may
cancel it; those signed up are told through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlmodel import Session

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
    step_payload,
)
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import PAGE_SIZE, PagedChoose, page_count, page_options
from handlers.core.parsing import normalise, parse_number
from handlers.core.pushes import Push
from handlers.notices.flows import UnitsStep, parse_send_time
from models.activities import (
    DESCRIPTION_MAX,
    PLACE_MAX,
    TITLE_MAX,
    Activity,
    ActivityDraft,
    ActivityStatus,
    SignupOutcome,
    activities_managed_by,
    activity_scope,
    activity_units,
    cancel_activity,
    cancel_signup,
    check_activity,
    check_capacity,
    check_deadline,
    check_start,
    check_units,
    create_activity,
    is_signed_up,
    managed_activity,
    member_activity,
    open_activities_for,
    sign_up,
    signup_counts,
    signups_for,
    signups_of,
    units_in_scope,
)
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member
from models.outbox import PushRow
from models.roles import Permission
from models.units import unit_path

BROWSE_FLOW = "activities"
ACTION_FLOW = "activity_action"
ORGANISE_FLOW = "organise_activity"
MANAGED_FLOW = "managed_activities"
MANAGE_FLOW = "manage_activity"
# Past this many names the cadre's list says how many more: one chat message holds about 4,000 characters.
NAMES_LISTED = 100
OPEN, MINE = "open", "mine"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _local(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _short(moment: datetime, zone: tzinfo) -> str:
    """The same without the year, for lists: these are weeks away, not years."""
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def _places(ctx: Context, activity: Activity, count: int) -> str:
    """How many places are left, as a member weighs whether to hurry."""
    if activity.capacity is None:
        return ctx.t("不限")
    left = max(activity.capacity - count, 0)
    if left == 0:
        return ctx.t("已满（共 {capacity} 个）").format(capacity=activity.capacity)
    return ctx.t("剩余 {left} 个（共 {capacity} 个）").format(left=left, capacity=activity.capacity)


def _is_full(activity: Activity, count: int) -> bool:
    return activity.capacity is not None and count >= activity.capacity


def _units_text(session: Session, activity_id: int) -> str:
    return "、".join(unit_path(session, unit) for unit in activity_units(session, activity_id))


def activity_text(ctx: Context, activity: Activity, count: int) -> str:
    """An activity in full, as a member reads it before signing up."""
    _ = ctx.t
    zone = ctx.config.timezone
    assert activity.id is not None
    lines = [
        _("【活动】{title}").format(title=activity.title),
        activity.description,
        _("时间：{time}").format(time=_local(activity.starts_at, zone)),
        _("地点：{place}").format(place=activity.place),
        _("名额：{places}").format(places=_places(ctx, activity, count)),
        _("报名截止：{time}").format(time=_local(activity.signup_deadline, zone)),
        _("报名范围：{units}").format(units=_units_text(ctx.session, activity.id)),
    ]
    return "\n".join(lines)


def render_cancelled(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The news to a member signed up that the activity is off."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None or activity.status is not ActivityStatus.CANCELLED:
        return None
    assert activity.id is not None
    units = activity_units(session, activity.id)
    text = t("很抱歉，您报名的活动“{title}”（{time}，{place}）已取消。").format(
        title=activity.title, time=_local(activity.starts_at, zone), place=activity.place
    )
    return Push(
        title=t("活动取消通知"),
        reply=Reply(text),
        body=text,
        unit=unit_path(session, units[0]) if units else None,
    )


# --------------------------------------------------------------------------- members


def _section_page(ctx: Context, section: str, page: int) -> tuple[list[Activity], int]:
    find = open_activities_for if section == OPEN else signups_for
    return find(ctx.session, member=_actor(ctx), now=ctx.now, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)


def _has_signups(ctx: Context) -> bool:
    return signups_for(ctx.session, member=_actor(ctx), now=ctx.now, limit=0)[1] > 0


def _browse_options(ctx: Context, data: Data) -> Sequence[Option]:
    section, page = data["section"], int(data.get("page", 1))
    activities, total = _section_page(ctx, section, page)
    options = [Option(f"a:{activity.id}", activity.title, literal=True) for activity in activities]
    options += page_options(page, page_count(total))
    if section == OPEN and _has_signups(ctx):
        options.append(Option(f"s:{MINE}", N_("我的报名"), aliases=("我的報名", "my sign-ups")))
    if section == MINE:
        options.append(Option(f"s:{OPEN}", N_("可报名的活动"), aliases=("可報名的活動", "open activities")))
    return options


def _entry(ctx: Context, number: int, activity: Activity, count: int, section: str) -> str:
    _ = ctx.t
    zone = ctx.config.timezone
    lines = [
        f"{number}. {activity.title}",
        "   "
        + _("时间：{time}　地点：{place}").format(
            time=_short(activity.starts_at, zone), place=activity.place
        ),
    ]
    if section == MINE and activity.status is ActivityStatus.CANCELLED:
        lines.append("   " + _("（活动已取消）"))
    elif section == OPEN:
        lines.append(
            "   "
            + _("名额：{places}　报名截止：{deadline}").format(
                places=_places(ctx, activity, count), deadline=_short(activity.signup_deadline, zone)
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class BrowseStep(PagedChoose):
    """One page of a section: each activity with its time, place, places and deadline, then the choices."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        section, page = data["section"], int(data.get("page", 1))
        activities, total = _section_page(ctx, section, page)
        counts = signup_counts(ctx.session, [a.id for a in activities if a.id is not None])
        _ = ctx.t
        if total == 0:
            return Reply(_("目前没有可以报名的活动。有新活动时会在这里列出。"), buttons=reply.buttons)
        heading = (
            _("活动报名（第 {page}/{pages} 页，共 {count} 个）：")
            if section == OPEN
            else _("我的报名（第 {page}/{pages} 页，共 {count} 个）：")
        ).format(page=page, pages=page_count(total), count=total)
        # Numbered as the choices below are, page by page, so "1" picks the first one shown.
        entries = [
            _entry(ctx, number, activity, counts.get(activity.id or 0, 0), section)
            for number, activity in enumerate(activities, start=1)
        ]
        return Reply("\n".join([heading, *entries, _("请选择要查看的活动：")]), buttons=reply.buttons)


def _browse(ctx: Context, section: str, page: int = 1, intro: Sequence[Reply] = ()) -> list[Reply]:
    if section == MINE and not _has_signups(ctx):
        section, page = OPEN, 1  # the last sign-up was just cancelled: what is open is what's left
    return ctx.dialogs.start(ctx, BROWSE_FLOW, data={"section": section, "page": page}, intro=intro)


def _browsed(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "s":
        return _browse(ctx, value)
    if kind == "p":
        return _browse(ctx, data["section"], int(value))
    return _show_activity(ctx, int(value), data["section"], int(data.get("page", 1)))


def _show_activity(ctx: Context, activity_id: int, section: str, page: int) -> list[Reply]:
    activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
    count = signup_counts(ctx.session, [activity_id]).get(activity_id, 0)
    lines = [activity_text(ctx, activity, count)]
    if activity.status is ActivityStatus.CANCELLED:
        lines.append(ctx.t("这个活动已经取消了。"))
    elif is_signed_up(ctx.session, member=_actor(ctx), activity_id=activity_id):
        lines.append(ctx.t("您已报名这个活动。"))
    elif activity.signup_deadline <= ctx.now:
        lines.append(ctx.t("报名已经截止。"))
    data = {"activity_id": activity_id, "section": section, "page": page}
    return ctx.dialogs.start(ctx, ACTION_FLOW, data=data, intro=[Reply("\n".join(lines))])


BROWSE_ACTIVITIES = Flow(
    name=BROWSE_FLOW,
    steps=(BrowseStep("pick", N_("请选择要查看的活动："), options=_browse_options),),
    on_done=_browsed,
    quiet_timeout=True,
    browse=True,
)


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    activity_id = int(data["activity_id"])
    activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
    options = []
    if activity.status is ActivityStatus.OPEN and activity.signup_deadline > ctx.now:
        if is_signed_up(ctx.session, member=_actor(ctx), activity_id=activity_id):
            options.append(Option("cancel", N_("取消报名"), aliases=("取消報名", "cancel sign-up")))
        elif not _is_full(activity, signup_counts(ctx.session, [activity_id]).get(activity_id, 0)):
            options.append(Option("sign_up", N_("报名"), aliases=("報名", "我要报名", "sign up")))
    options.append(Option("list", N_("返回列表")))
    return options


@dataclass(frozen=True)
class ActionStep(Choose):
    """报名 or 取消报名. A button from a moment ago still counts (the member signed up on
    another phone meanwhile): the rules then say what is what, not "this button expired"."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        for action in ("sign_up", "cancel"):
            if ctx.incoming.button == step_payload(flow, self.key, action):
                return action
        return super().accept(ctx, flow, data)


def _title_of(ctx: Context, data: Data) -> dict[str, Any]:
    activity = member_activity(ctx.session, member=_actor(ctx), activity_id=int(data["activity_id"]))
    return {"title": activity.title}


def _acted(ctx: Context, data: Data) -> list[Reply]:
    activity_id, section, page = int(data["activity_id"]), data["section"], int(data.get("page", 1))
    action = data["action"]
    if action == "list":
        return _browse(ctx, section, page)
    if action == "cancel" and not data.get("sure"):
        return _browse(ctx, section, page, intro=[Reply(ctx.t("好的，您的报名保留着。"))])
    try:
        if action == "sign_up":
            outcome = sign_up(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
            activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
            if outcome is SignupOutcome.ALREADY_SIGNED_UP:
                text = ctx.t("您已经报名了，不用再报一次。")
            else:
                text = ctx.t("报名成功！“{title}”{time}在{place}举行，请准时参加。").format(
                    title=activity.title,
                    time=_local(activity.starts_at, ctx.config.timezone),
                    place=activity.place,
                )
        else:
            cancel_signup(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
            text = ctx.t("已取消报名。报名截止前还可以再报名。")
    except (InvalidInput, PermissionDenied, NotFound) as error:
        # Someone took the last place, or the deadline passed while the member read: say so, list again.
        text = ctx.t.error(error)
    return _browse(ctx, section, page, intro=[Reply(text)])


ACTIVITY_ACTIONS = Flow(
    name=ACTION_FLOW,
    steps=(
        ActionStep("action", N_("请选择："), options=_action_options),
        YesNo(
            "sure",
            N_("确定要取消报名“{title}”吗？取消后名额可能会被别人报走。"),
            params=_title_of,
            skip_if=lambda data: data.get("action") != "cancel",
        ),
    ),
    on_done=_acted,
    # A form, not a list: "报名" typed here signs up rather than opening 活动报名 again.
)


def _activities(ctx: Context, arg: str) -> list[Reply]:
    if open_activities_for(ctx.session, member=_actor(ctx), now=ctx.now, limit=0)[1] == 0:
        if _has_signups(ctx):
            return _browse(ctx, MINE)
        return show_menu(ctx, intro=[Reply(ctx.t("目前没有可以报名的活动。有新活动时会在这里列出。"))])
    return _browse(ctx, OPEN)


def _my_signups(ctx: Context, arg: str) -> list[Reply]:
    if not _has_signups(ctx):
        text = ctx.t("您现在没有报名的活动。回复“活动报名”可以看看有哪些活动。")
        return show_menu(ctx, intro=[Reply(text)])
    return _browse(ctx, MINE)


# --------------------------------------------------------------------------- organising


def can_manage_activities(ctx: Context) -> bool:
    return ctx.member is not None and ctx.grants.holds(Permission.MANAGE_ACTIVITIES)


def _example(ctx: Context) -> str:
    return f"{(ctx.local_now().date() + timedelta(days=7)).isoformat()} 14:00"


@dataclass(frozen=True)
class MomentStep(Step):
    """A date and time in the union's zone, read as 发通知 reads it, checked by ``check``, stored in UTC."""

    key: str
    question: str
    check: Callable[[datetime, Data, datetime], None]
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question).format(example=_example(ctx)))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        parsed = parse_send_time(text, today=ctx.local_now().date()) if text else None
        if parsed is None:
            raise Invalid(
                N_("没看懂这个时间。请写明日期和几点，例如“{example}”或“明天下午3点”。"),
                example=_example(ctx),
            )
        moment = datetime.combine(parsed[0], parsed[1], tzinfo=ctx.config.timezone).astimezone(UTC)
        try:
            self.check(moment, data, ctx.now)
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        return moment.isoformat()


def _check_start(moment: datetime, data: Data, now: datetime) -> None:
    check_start(moment, now)


def _check_deadline(moment: datetime, data: Data, now: datetime) -> None:
    check_deadline(moment, datetime.fromisoformat(data["starts_at"]), now)


UNLIMITED_WORDS = frozenset({"不限", "不限名额", "不限名額", "不限制", "unlimited", *SKIP_WORDS})


@dataclass(frozen=True)
class CapacityStep(Step):
    """How many places: a whole number, or 跳过/不限 for as many as come."""

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text or ""
        if normalise(text) in UNLIMITED_WORDS:
            return None
        value = parse_number(text)
        if value is None or value != value.to_integral_value():
            raise Invalid(N_("请输入名额人数，例如 30；不限名额请回复“不限”。"))
        try:
            check_capacity(int(value))
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        return int(value)


def _scope_names(ctx: Context) -> str:
    return "、".join(unit_path(ctx.session, unit) for unit in activity_scope(ctx.session, _actor(ctx)))


def _scope_options(ctx: Context, data: Data) -> Sequence[Option]:
    everyone = ctx.t("全部会员（{units}）").format(units=_scope_names(ctx))
    return (
        Option("all", everyone, aliases=("全部", "全部会员", "全部會員", "everyone"), literal=True),
        Option("units", N_("指定单位")),
    )


def _require_activity_units(ctx: Context, unit_ids: tuple[int, ...]) -> None:
    try:
        check_units(ctx.session, actor=_actor(ctx), unit_ids=unit_ids)
    except (InvalidInput, PermissionDenied) as error:
        raise Invalid.from_error(error) from None


def _unit_ids(ctx: Context, data: Data) -> tuple[int, ...]:
    if data.get("scope") == "units":
        return tuple(data.get("units") or ())
    return tuple(unit.id for unit in activity_scope(ctx.session, _actor(ctx)) if unit.id is not None)


def _draft(ctx: Context, data: Data) -> ActivityDraft:
    return ActivityDraft(
        title=data["title"],
        description=data["description"],
        place=data["place"],
        starts_at=datetime.fromisoformat(data["starts_at"]),
        signup_deadline=datetime.fromisoformat(data["deadline"]),
        capacity=data.get("capacity"),
        unit_ids=_unit_ids(ctx, data),
    )


def _summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    draft = _draft(ctx, data)
    zone = ctx.config.timezone
    units = check_activity(ctx.session, actor=_actor(ctx), draft=draft, now=ctx.now)
    capacity = (
        _("不限")
        if draft.capacity is None
        else _.ngettext("{count} 人", "{count} 人", draft.capacity).format(count=draft.capacity)
    )
    return "\n".join(
        [
            _("请核对活动信息，会员看到的内容如下："),
            "",
            _("【活动】{title}").format(title=draft.title),
            draft.description,
            _("时间：{time}").format(time=_local(draft.starts_at, zone)),
            _("地点：{place}").format(place=draft.place),
            _("名额：{places}").format(places=capacity),
            _("报名截止：{time}").format(time=_local(draft.signup_deadline, zone)),
            _("报名范围：{units}").format(units="、".join(unit_path(ctx.session, unit) for unit in units)),
        ]
    )


@dataclass(frozen=True)
class ActivityConfirm(Confirm):
    """The summary; a yes is checked once more, since time passed while the cadre read it."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        try:
            check_activity(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
        except InvalidInput as error:
            goto = {
                "activity.start_past": "starts_at",
                "activity.deadline_past": "deadline",
                "activity.deadline_after_start": "deadline",
            }.get(error.code)
            raise Invalid.from_error(error, goto=goto) from None
        return value


def _publish(ctx: Context, data: Data) -> list[Reply]:
    activity = create_activity(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
    assert activity.id is not None
    text = ctx.t(
        "好的，活动“{title}”已发布，{units}的会员现在可以在“活动报名”里报名了。"
        "需要提醒大家的话，可以再用“发通知”告诉会员。"
    ).format(title=activity.title, units=_units_text(ctx.session, activity.id))
    return show_menu(ctx, intro=[Reply(text)])


ORGANISE_ACTIVITY = Flow(
    name=ORGANISE_FLOW,
    steps=(
        Ask("title", N_("请输入活动名称，例如“职工篮球赛”："), max_length=TITLE_MAX),
        Ask("description", N_("请介绍一下活动：内容、要求、需要带什么："), max_length=DESCRIPTION_MAX),
        Ask("place", N_("活动在哪里举行？"), max_length=PLACE_MAX),
        MomentStep(
            "starts_at", N_("活动什么时候开始？请输入日期和时间，例如“{example}”："), check=_check_start
        ),
        MomentStep(
            "deadline", N_("报名截止到什么时候？请输入日期和时间，例如“{example}”："), check=_check_deadline
        ),
        CapacityStep("capacity", N_("有多少个名额？请回复人数；不限名额请回复“不限”。")),
        Choose("scope", N_("哪些会员可以报名？"), options=_scope_options),
        UnitsStep(
            "units",
            N_("请回复可以报名的单位编号，可以选多个，用空格隔开，例如“1 3”："),
            skip_if=lambda data: data.get("scope") != "units",
            scope=units_in_scope,
            check=_require_activity_units,
        ),
        ActivityConfirm(summary=_summary, question=N_("确认后会员就可以报名了。")),
    ),
    on_done=_publish,
)


def _organise(ctx: Context, arg: str) -> list[Reply]:
    activity_scope(ctx.session, _actor(ctx))  # refuses members who may not organise, with the reason
    return ctx.dialogs.start(ctx, ORGANISE_FLOW)


# ------------------------------------------------------------------ the cadre's activities


def _state(ctx: Context, activity: Activity, count: int) -> str:
    if activity.status is ActivityStatus.CANCELLED:
        return ctx.t("已取消")
    if activity.capacity is None:
        return ctx.t("已报名 {count} 人").format(count=count)
    return ctx.t("已报名 {count}/{capacity} 人").format(count=count, capacity=activity.capacity)


def _managed_options(ctx: Context, data: Data) -> Sequence[Option]:
    page = int(data.get("page", 1))
    activities, total = activities_managed_by(
        ctx.session, actor=_actor(ctx), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    counts = signup_counts(ctx.session, [a.id for a in activities if a.id is not None])
    options = [
        Option(
            f"a:{activity.id}",
            ctx.t("{date} {title}（{state}）").format(
                date=activity.starts_at.astimezone(ctx.config.timezone).strftime("%m-%d"),
                title=activity.title,
                state=_state(ctx, activity, counts.get(activity.id or 0, 0)),
            ),
            literal=True,
        )
        for activity in activities
    ]
    return options + page_options(page, page_count(total))


@dataclass(frozen=True)
class ManagedStep(PagedChoose):
    """A page of the activities the cadre manages, each with its sign-ups."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        page = int(data.get("page", 1))
        _, total = activities_managed_by(ctx.session, actor=_actor(ctx), limit=0)
        text = ctx.t("我发起的活动（第 {page}/{pages} 页，共 {count} 个），请选择一个查看报名情况：").format(
            page=page, pages=page_count(total), count=total
        )
        return Reply(text, buttons=reply.buttons)


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
        _("时间：{time}").format(time=_local(activity.starts_at, zone)),
        _("地点：{place}").format(place=activity.place),
        _("报名截止：{time}").format(time=_local(activity.signup_deadline, zone)),
        _("状态：{state}").format(state=state),
        figures,
    ]
    lines.extend(
        _("{number}. {name}（{employee_no}，{unit}）").format(
            number=number, name=a.member.name, employee_no=a.member.employee_no, unit=a.unit
        )
        for number, a in enumerate(attendees[:NAMES_LISTED], start=1)
    )
    if count > NAMES_LISTED:
        more = count - NAMES_LISTED
        lines.append(_.ngettext("……还有 {count} 人", "……还有 {count} 人", more).format(count=more))
    return Reply("\n".join(lines))


def _show_managed(ctx: Context, activity_id: int, page: int) -> list[Reply]:
    data = {"activity_id": activity_id, "page": page}
    return ctx.dialogs.start(ctx, MANAGE_FLOW, data=data, intro=[_report(ctx, activity_id)])


def _managed_picked(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "p":
        return ctx.dialogs.start(ctx, MANAGED_FLOW, data={"page": int(value)})
    return _show_managed(ctx, int(value), int(data.get("page", 1)))


MANAGED_ACTIVITIES = Flow(
    name=MANAGED_FLOW,
    steps=(ManagedStep("pick", N_("请选择一个活动："), options=_managed_options),),
    on_done=_managed_picked,
    quiet_timeout=True,
    browse=True,
)


def _manage_options(ctx: Context, data: Data) -> Sequence[Option]:
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"]))
    options = []
    if activity.status is ActivityStatus.OPEN and activity.starts_at > ctx.now:
        options.append(Option("cancel", N_("取消活动"), aliases=("取消活動", "cancel the activity")))
    options += [Option("refresh", N_("刷新")), Option("list", N_("返回列表"))]
    return options


def _cancel_question(ctx: Context, data: Data) -> dict[str, Any]:
    activity_id = int(data["activity_id"])
    activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    count = signup_counts(ctx.session, [activity_id]).get(activity_id, 0)
    told = ctx.t.ngettext(
        "已报名的 {count} 人会收到取消通知。", "已报名的 {count} 人会收到取消通知。", count
    ).format(count=count)
    return {"title": activity.title, "told": told}


def _managed_acted(ctx: Context, data: Data) -> list[Reply]:
    activity_id, page = int(data["activity_id"]), int(data.get("page", 1))
    action = data["action"]
    if action == "list":
        return ctx.dialogs.start(ctx, MANAGED_FLOW, data={"page": page})
    if action == "cancel" and data.get("sure"):
        activity = managed_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id)
        count = cancel_activity(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
        text = ctx.t.ngettext(
            "已取消活动“{title}”，正在通知已报名的 {count} 人。",
            "已取消活动“{title}”，正在通知已报名的 {count} 人。",
            count,
        ).format(title=activity.title, count=count)
        return show_menu(ctx, intro=[Reply(text)])
    if action == "cancel":
        return [Reply(ctx.t("好的，活动照常进行。")), *_show_managed(ctx, activity_id, page)]
    return _show_managed(ctx, activity_id, page)


MANAGE_ACTIVITY = Flow(
    name=MANAGE_FLOW,
    steps=(
        Choose("action", N_("接下来要做什么？"), options=_manage_options),
        YesNo(
            "sure",
            N_("确定要取消活动“{title}”吗？{told}"),
            params=_cancel_question,
            skip_if=lambda data: data.get("action") != "cancel",
        ),
    ),
    on_done=_managed_acted,
    browse=True,
)


def _managed(ctx: Context, arg: str) -> list[Reply]:
    _, total = activities_managed_by(ctx.session, actor=_actor(ctx), limit=0)
    if total == 0:
        return show_menu(ctx, intro=[Reply(ctx.t("您还没有发起过活动。回复“发起活动”可以发起一个。"))])
    return ctx.dialogs.start(ctx, MANAGED_FLOW, data={"page": 1})


# --------------------------------------------------------------------------- features

FLOWS: tuple[Flow, ...] = (
    BROWSE_ACTIVITIES,
    ACTIVITY_ACTIONS,
    ORGANISE_ACTIVITY,
    MANAGED_ACTIVITIES,
    MANAGE_ACTIVITY,
)

BROWSE = Feature(
    name="activities",
    rank=50,
    label=N_("活动报名"),
    summary=N_("查看可以报名的活动，报名或取消报名，查看我的报名"),
    words=("/activities", "活动", "活動", "活动报名", "活動報名", "报名", "報名", "activities"),
    run=_activities,
)
MY_SIGNUPS = Feature(
    name="my_signups",
    rank=220,
    label=N_("我的报名"),
    summary=N_("查看您报名的活动"),
    words=("/signups", "我的报名", "我的報名", "my sign-ups"),
    run=_my_signups,
    in_menu=False,
)
ORGANISE = Feature(
    name="organise_activity",
    rank=80,
    label=N_("发起活动"),
    summary=N_("为您负责的单位发起活动，会员可以在“活动报名”里报名"),
    words=("/organise", "发起活动", "發起活動", "组织活动", "組織活動", "organise"),
    run=_organise,
    available=can_manage_activities,
)
MANAGED = Feature(
    name="managed_activities",
    rank=90,
    label=N_("我发起的活动"),
    summary=N_("查看报名名单，取消活动"),
    words=("/my_activities", "我发起的活动", "我發起的活動", "报名名单", "報名名單"),
    run=_managed,
    available=can_manage_activities,
)
