"""活动报名 and 我的报名: members see what is open to their unit, sign up and cancel.

A member opens 活动报名 and sees, page by page, what is open to their unit
now — when, where, how many places are left, until when — opens one to read it
in full and signs up or cancels with a button. The activities they signed up
for are a second section of the same list (我的报名), so "did I sign up?" is
one tap away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from handlers.activities import lottery
from handlers.activities.render import local_time, time_span, units_text
from handlers.core.context import Context
from handlers.core.dialogs import Ask, Choose, Data, Flow, Option, YesNo, step_payload
from handlers.core.features import Feature
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from models.activities import (
    ANSWER_MAX,
    KIND_LABELS,
    Activity,
    ActivityBatch,
    ActivityStatus,
    Allocation,
    SignupOutcome,
    answer_of,
    attended,
    batch_counts,
    batches_of,
    cancel_signup,
    choices_of,
    is_signed_up,
    member_activity,
    open_activities_for,
    sign_up,
    signup_counts,
    signup_of,
    signups_for,
    waitlist_counts,
    waitlist_position,
    waitlist_positions,
)
from models.activities.lottery import confirm_place
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member, normalise_digits

OPEN, MINE = "open", "mine"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _short(moment: datetime, zone: tzinfo) -> str:
    """The same without the year, for lists: these are weeks away, not years."""
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def _places(ctx: Context, activity: Activity, count: int, waiting: int = 0) -> str:
    """How many places are left (or how long the line is), as a member weighs whether to hurry."""
    if activity.allocation is Allocation.LOTTERY:
        return lottery.places_text(ctx, activity)
    if activity.capacity is None:
        return ctx.t("不限")
    left = max(activity.capacity - count, 0)
    if left == 0 and waiting:
        return ctx.t("已满（共 {capacity} 个），{waiting} 人候补").format(
            capacity=activity.capacity, waiting=waiting
        )
    if left == 0:
        return ctx.t("已满（共 {capacity} 个）").format(capacity=activity.capacity)
    return ctx.t("剩余 {left} 个（共 {capacity} 个）").format(left=left, capacity=activity.capacity)


def _is_full(activity: Activity, count: int) -> bool:
    return activity.capacity is not None and count >= activity.capacity


def activity_text(ctx: Context, activity: Activity, count: int, waiting: int = 0) -> str:
    """An activity in full, as a member reads it before signing up."""
    _ = ctx.t
    zone = ctx.config.timezone
    assert activity.id is not None
    lines = [
        _("【活动】{title}").format(title=activity.title),
        activity.description,
        _("类别：{kind}").format(kind=_(KIND_LABELS[activity.kind])),
        _("时间：{time}").format(time=time_span(activity.starts_at, activity.ends_at, zone)),
        _("地点：{place}").format(place=activity.place),
        _("名额：{places}").format(places=_places(ctx, activity, count, waiting)),
        _("报名截止：{time}").format(time=local_time(activity.signup_deadline, zone)),
        _("报名范围：{units}").format(units=units_text(ctx.session, activity.id)),
    ]
    batches = batches_of(ctx.session, activity.id)
    if batches:
        counts = batch_counts(ctx.session, activity.id)
        lines.append(_("分 {count} 批举行：").format(count=len(batches)))
        lines.extend(_batch_line(ctx, batch, *counts.get(batch.id or 0, (0, 0))) for batch in batches)
    if activity.question:
        lines.append(_("报名时请回答：{question}").format(question=activity.question))
    return "\n".join(lines)


def _batch_line(ctx: Context, batch: ActivityBatch, signed: int, waiting: int) -> str:
    left = max(batch.capacity - signed, 0)
    if left:
        places = ctx.t("剩余 {left} 个（共 {capacity} 个）").format(left=left, capacity=batch.capacity)
    elif waiting:
        places = ctx.t("已满（共 {capacity} 个），{waiting} 人候补").format(
            capacity=batch.capacity, waiting=waiting
        )
    else:
        places = ctx.t("已满（共 {capacity} 个）").format(capacity=batch.capacity)
    return ctx.t("第{number}批 {time}：{places}").format(
        number=batch.number, time=local_time(batch.starts_at, ctx.config.timezone), places=places
    )


def _chosen_batch(ctx: Context, activity_id: int) -> ActivityBatch | None:
    signup = signup_of(ctx.session, member=_actor(ctx), activity_id=activity_id)
    if signup is None or signup.batch_id is None:
        return None
    return ctx.session.get(ActivityBatch, signup.batch_id)


def _batch_options(ctx: Context, data: Data) -> Sequence[Option]:
    activity_id = int(data["activity_id"])
    counts = batch_counts(ctx.session, activity_id)
    return [
        Option(str(batch.id), _batch_line(ctx, batch, *counts.get(batch.id or 0, (0, 0))), literal=True)
        for batch in batches_of(ctx.session, activity_id)
    ]


def _has_signups(ctx: Context) -> bool:
    return signups_for(ctx.session, member=_actor(ctx), now=ctx.now, limit=0)[1] > 0


def _sections(ctx: Context, data: Data) -> Sequence[Option]:
    """The way to the other section, after the page."""
    if data["section"] == OPEN and _has_signups(ctx):
        return [Option(f"s:{MINE}", N_("我的报名"), aliases=("我的報名", "my sign-ups"))]
    if data["section"] == MINE:
        return [Option(f"s:{OPEN}", N_("可报名的活动"), aliases=("可報名的活動", "open activities"))]
    return []


def _entry(
    ctx: Context,
    number: int,
    activity: Activity,
    count: int,
    section: str,
    waiting: int,
    position: int | None,
    there: bool = False,
) -> str:
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
        if activity.cancel_reason:
            lines.append("   " + _("取消原因：{reason}").format(reason=activity.cancel_reason))
    elif section == MINE and position is not None:
        lines.append("   " + _("（候补第 {position} 位）").format(position=position))
    elif section == MINE and activity.starts_at <= ctx.now:
        lines.append("   " + (_("（已签到）") if there else _("（未签到）")))
    elif section == OPEN:
        lines.append(
            "   "
            + _("名额：{places}　报名截止：{deadline}").format(
                places=_places(ctx, activity, count, waiting), deadline=_short(activity.signup_deadline, zone)
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class BrowseStep(PagedList[Activity]):
    """One page of a section: each activity with its time, place, places and deadline, then the choices."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Activity], int]:
        find = open_activities_for if data["section"] == OPEN else signups_for
        return find(ctx.session, member=_actor(ctx), now=ctx.now, offset=offset, limit=limit)

    def item(self, ctx: Context, item: Activity) -> Option:
        return Option(f"a:{item.id}", item.title, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Activity]) -> str:
        _ = ctx.t
        if page.total == 0:
            return _("目前没有可以报名的活动。有新活动时会在这里列出。")
        section = data["section"]
        ids = [a.id for a in page.items if a.id is not None]
        counts = signup_counts(ctx.session, ids)
        waiting = waitlist_counts(ctx.session, ids) if section == OPEN else {}
        mine = section == MINE
        positions = waitlist_positions(ctx.session, member=_actor(ctx), activity_ids=ids) if mine else {}
        present = attended(ctx.session, member=_actor(ctx), activity_ids=ids) if mine else frozenset()
        heading = (
            _("活动报名（第 {page}/{pages} 页，共 {count} 个）：")
            if section == OPEN
            else _("我的报名（第 {page}/{pages} 页，共 {count} 个）：")
        ).format(page=page.number, pages=page.pages, count=page.total)
        # Numbered as the choices below are, page by page, so "1" picks the first one shown.
        entries = [
            _entry(
                ctx,
                number,
                activity,
                counts.get(activity.id or 0, 0),
                section,
                waiting.get(activity.id or 0, 0),
                positions.get(activity.id or 0),
                activity.id in present,
            )
            for number, activity in enumerate(page.items, start=1)
        ]
        return "\n".join([heading, *entries, _("请选择要查看的活动：")])


def _browse(ctx: Context, section: str, page: int = 1, intro: Sequence[Reply] = ()) -> list[Reply]:
    if section == MINE and not _has_signups(ctx):
        section, page = OPEN, 1  # the last sign-up was just cancelled: what is open is what's left
    return ctx.dialogs.start(ctx, BROWSE_ACTIVITIES, data={"section": section, "page": page}, intro=intro)


def _browsed(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "s":
        return _browse(ctx, value)
    return _show_activity(ctx, int(value), data["section"], int(data.get("page", 1)))


def _show_activity(ctx: Context, activity_id: int, section: str, page: int) -> list[Reply]:
    activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
    count = signup_counts(ctx.session, [activity_id]).get(activity_id, 0)
    waiting = waitlist_counts(ctx.session, [activity_id]).get(activity_id, 0)
    lines = [activity_text(ctx, activity, count, waiting)]
    position = waitlist_position(ctx.session, member=_actor(ctx), activity_id=activity_id)
    if activity.status is ActivityStatus.CANCELLED:
        lines.append(ctx.t("这个活动已经取消了。"))
        if activity.cancel_reason:
            lines.append(ctx.t("取消原因：{reason}").format(reason=activity.cancel_reason))
    elif activity.starts_at <= ctx.now and is_signed_up(
        ctx.session, member=_actor(ctx), activity_id=activity_id
    ):
        there = attended(ctx.session, member=_actor(ctx), activity_ids=[activity_id])
        lines.append(
            ctx.t("您参加了这个活动，已签到。") if there else ctx.t("这个活动已经举行；没有您的签到记录。")
        )
    elif is_signed_up(ctx.session, member=_actor(ctx), activity_id=activity_id):
        lines.append(ctx.t("您已报名这个活动。"))
        chosen = _chosen_batch(ctx, activity_id)
        if chosen is not None:
            lines.append(
                ctx.t("您报名的是第{number}批：{time}。").format(
                    number=chosen.number, time=local_time(chosen.starts_at, ctx.config.timezone)
                )
            )
        answer = answer_of(ctx.session, member=_actor(ctx), activity_id=activity_id)
        if answer:
            lines.append(ctx.t("您的回答：{answer}").format(answer=answer))
    elif said := lottery.status_line(
        ctx, activity, signup_of(ctx.session, member=_actor(ctx), activity_id=activity_id)
    ):
        lines.append(said)
    elif position is not None:
        lines.append(
            ctx.t("您正在候补，目前排第 {position} 位。有人取消时会按顺序为您报名并通知您。").format(
                position=position
            )
        )
    elif activity.signup_deadline <= ctx.now:
        lines.append(ctx.t("报名已经截止。"))
    data = {
        "activity_id": activity_id,
        "section": section,
        "page": page,
        "question": activity.question,
        "choices": list(choices_of(activity)),
        "batched": bool(batches_of(ctx.session, activity_id)),
    }
    return ctx.dialogs.start(ctx, ACTIVITY_ACTIONS, data=data, intro=[Reply("\n".join(lines))])


BROWSE_ACTIVITIES = paged_flow(
    name="activities",
    steps=(BrowseStep("pick", N_("请选择要查看的活动："), options=_sections),),
    on_pick=_browsed,
    quiet_timeout=True,
    browse=True,
)


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    activity_id = int(data["activity_id"])
    activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
    options: list[Option] = []
    if activity.allocation is Allocation.LOTTERY and activity.status is ActivityStatus.OPEN:
        signup = signup_of(ctx.session, member=_actor(ctx), activity_id=activity_id)
        if activity.starts_at > ctx.now:
            options = lottery.options(ctx, activity, signup)
    elif activity.status is ActivityStatus.OPEN and activity.signup_deadline > ctx.now:
        if is_signed_up(ctx.session, member=_actor(ctx), activity_id=activity_id):
            options.append(Option("cancel", N_("取消报名"), aliases=("取消報名", "cancel sign-up")))
        elif waitlist_position(ctx.session, member=_actor(ctx), activity_id=activity_id) is not None:
            options.append(Option("leave", N_("退出候补"), aliases=("退出候補", "leave the waitlist")))
        elif not _is_full(activity, signup_counts(ctx.session, [activity_id]).get(activity_id, 0)):
            options.append(Option("sign_up", N_("报名"), aliases=("報名", "我要报名", "sign up")))
        else:
            options.append(
                Option("waitlist", N_("排队候补"), aliases=("排隊候補", "候补", "join the waitlist"))
            )
    options.append(Option("list", N_("返回列表")))
    return options


@dataclass(frozen=True)
class ActionStep(Choose):
    """报名 or 取消报名. A button from a moment ago still counts (the member signed up on
    another phone meanwhile): the rules then say what is what, not "this button expired"."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        for action in ("sign_up", "cancel", "waitlist", "leave", "confirm"):
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
    if action == "leave" and not data.get("leave_sure"):
        return _browse(ctx, section, page, intro=[Reply(ctx.t("好的，您继续候补。"))])
    try:
        if action in ("sign_up", "waitlist"):
            outcome = sign_up(
                ctx.session,
                actor=_actor(ctx),
                activity_id=activity_id,
                now=ctx.now,
                # In batches a full one is waited for: the member picked it knowing it was full.
                waitlist=action == "waitlist" or bool(data.get("batch")),
                answer=data.get("answer_choice") or data.get("answer_text"),
                batch_id=int(data["batch"]) if data.get("batch") else None,
            )
            activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
            if outcome is SignupOutcome.ALREADY_SIGNED_UP:
                text = ctx.t("您已经报名了，不用再报一次。")
            elif outcome in (SignupOutcome.ENTERED, SignupOutcome.ALREADY_ENTERED):
                text = ctx.t("您已报名参加“{title}”的抽签，{time} 抽签后会告诉您结果。").format(
                    title=activity.title, time=local_time(activity.signup_deadline, ctx.config.timezone)
                )
            elif outcome in (SignupOutcome.WAITLISTED, SignupOutcome.ALREADY_WAITLISTED):
                position = waitlist_position(ctx.session, member=_actor(ctx), activity_id=activity_id)
                text = ctx.t(
                    "您已排队候补“{title}”，目前排第 {position} 位。有人取消时会按顺序为您报名并通知您。"
                ).format(title=activity.title, position=position)
            else:
                text = ctx.t("报名成功！“{title}”{time}在{place}举行，请准时参加。").format(
                    title=activity.title,
                    time=local_time(activity.starts_at, ctx.config.timezone),
                    place=activity.place,
                )
        elif action == "confirm":
            confirm_place(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
            activity = member_activity(ctx.session, member=_actor(ctx), activity_id=activity_id)
            text = ctx.t("好的，已确认参加“{title}”：{time}，在{place}举行。").format(
                title=activity.title,
                time=local_time(activity.starts_at, ctx.config.timezone),
                place=activity.place,
            )
        elif action == "leave":
            cancel_signup(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
            text = ctx.t("已退出候补。")
        else:
            cancel_signup(ctx.session, actor=_actor(ctx), activity_id=activity_id, now=ctx.now)
            text = ctx.t("已取消报名。报名截止前还可以再报名。")
    except (InvalidInput, PermissionDenied, NotFound) as error:
        # Someone took the last place, or the deadline passed while the member read: say so, list again.
        text = ctx.t.error(error)
    return _browse(ctx, section, page, intro=[Reply(text)])


SIGNING_UP = ("sign_up", "waitlist")


def _answer_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(choice, choice, literal=True) for choice in data.get("choices") or ()]


@dataclass(frozen=True)
class AnswerChoice(Choose):
    """The organiser's question at sign-up, answered by picking one of its choices."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply(ctx.t(self.question).format(question=data["question"]), buttons=reply.buttons)


@dataclass(frozen=True)
class AnswerText(Ask):
    """The organiser's question at sign-up, answered in the member's own words."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        text = ctx.t(self.question).format(question=data["question"])
        return Reply(text + "\n" + ctx.t("（最多 {limit} 个字）").format(limit=self.max_length))


ACTIVITY_ACTIONS = Flow(
    name="activity_action",
    steps=(
        ActionStep("action", N_("请选择："), options=_action_options),
        YesNo(
            "sure",
            N_("确定要取消报名“{title}”吗？取消后名额可能会被别人报走。"),
            params=_title_of,
            skip_if=lambda data: data.get("action") != "cancel",
            keeps=N_("好的，您的报名保留着。"),
        ),
        Choose(
            "batch",
            N_("报名哪一批？已满的一批可以排队候补："),
            options=_batch_options,
            skip_if=lambda data: data.get("action") not in SIGNING_UP or not data.get("batched"),
        ),
        AnswerChoice(
            "answer_choice",
            N_("报名请回答：{question}"),
            options=_answer_options,
            skip_if=lambda data: data.get("action") not in SIGNING_UP or not data.get("choices"),
        ),
        AnswerText(
            "answer_text",
            N_("报名请回答：{question}"),
            max_length=ANSWER_MAX,
            skip_if=lambda data: (
                data.get("action") not in SIGNING_UP or not data.get("question") or bool(data.get("choices"))
            ),
        ),
        YesNo(
            "leave_sure",
            N_("确定要退出“{title}”的候补吗？再排队要排到最后。"),
            params=_title_of,
            skip_if=lambda data: data.get("action") != "leave",
            keeps=N_("好的，您继续候补。"),
        ),
    ),
    on_done=_acted,
    # A form, not a list: "报名" typed here signs up rather than opening 活动报名 again.
)


def _activities(ctx: Context, arg: str) -> list[Reply]:
    """The list, or with a number (``/activities 12``, the deep link ``act_12``) that activity."""
    number = normalise_digits(arg)
    if number.isdigit():
        try:
            return _show_activity(ctx, int(number), OPEN, 1)
        except NotFound as error:
            return show_menu(ctx, intro=[Reply(ctx.t.error(error))])
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


BROWSE = Feature(
    name="activities",
    rank=50,
    label=N_("活动报名"),
    summary=N_("查看可以报名的活动，报名或取消报名，查看我的报名"),
    words=("/activities", "活动", "活動", "活动报名", "活動報名", "报名", "報名", "activities"),
    run=_activities,
    numbered=True,
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
