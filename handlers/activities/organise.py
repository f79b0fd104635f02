"""发起活动: a cadre sets an activity out for their units in one form, and sees it as members will."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers.activities.render import local_time, time_span, units_text
from handlers.core.context import Context
from handlers.core.dialogs import SKIP_WORDS, Ask, Choose, Confirm, Data, Flow, Invalid, Option, Step, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.parsing import normalise, parse_number
from handlers.core.steps import MomentStep, UnitsStep, parse_moment
from models.activities import (
    BATCHES_MAX,
    DESCRIPTION_MAX,
    KIND_LABELS,
    PLACE_MAX,
    QUESTION_MAX,
    TITLE_MAX,
    ActivityDraft,
    ActivityKind,
    ActivityPolicy,
    Allocation,
    activity_scope,
    check_activity,
    check_capacity,
    check_deadline,
    check_end,
    check_question,
    check_start,
    check_units,
    create_activity,
    split_choices,
    units_in_scope,
)
from models.activities.news import announce_activity, count_members_in
from models.errors import N_, InvalidInput, PermissionDenied
from models.members import Member, normalise_digits
from models.roles import ROLE_LABELS, Permission, Role
from models.units import unit_path


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def can_manage_activities(ctx: Context) -> bool:
    return ctx.member is not None and ctx.grants.holds(Permission.MANAGE_ACTIVITIES)


# Said when a time cannot be read; its example is an afternoon, as activities mostly are.
_UNREADABLE_TIME = N_("没看懂这个时间。请写明日期和几点，例如“{example}”或“明天下午3点”。")


def _a_week_ahead_evening(today: date) -> str:
    return f"{(today + timedelta(days=7)).isoformat()} 17:00"


def _a_week_ahead(today: date) -> str:
    """The example a cadre is shown: an afternoon a week ahead, enough time for members to sign up."""
    return f"{(today + timedelta(days=7)).isoformat()} 14:00"


def _check_start(moment: datetime, data: Data, now: datetime) -> None:
    check_start(moment, now)


def _check_deadline(moment: datetime, data: Data, now: datetime) -> None:
    check_deadline(moment, datetime.fromisoformat(data["starts_at"]), now)


def _check_end(moment: datetime, data: Data, now: datetime) -> None:
    check_end(moment, datetime.fromisoformat(data["starts_at"]))


def _kind_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(kind.value, label) for kind, label in KIND_LABELS.items()]


def _check_choices(ctx: Context, text: str, data: Data) -> None:
    try:
        check_question(data.get("question"), split_choices(text))
    except InvalidInput as error:
        raise Invalid.from_error(error) from None


def _check_question(ctx: Context, text: str, data: Data) -> None:
    try:
        check_question(text, ())
    except InvalidInput as error:
        raise Invalid.from_error(error) from None


def _batched(data: Data) -> bool:
    return data.get("held") == "batches"


def _held_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("once", N_("一次举行"), aliases=("一次", "once")),
        Option("batches", N_("分批举行"), aliases=("分批", "in batches")),
    ]


_BATCH_LINE = re.compile(r"^(.*?\S)[\s,，]+(\d{1,6})\s*(?:人|个|名|places?)?$")


@dataclass(frozen=True)
class BatchesStep(Step):
    """Several dates sharing one sign-up: a line each, its start and its places ("12月10日上午8点 30").

    The first start becomes the activity's, so the deadline is checked against it.
    """

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        today = ctx.local_now().date()
        first, second = today + timedelta(days=14), today + timedelta(days=21)
        return Reply(
            ctx.t(self.question).format(
                first=f"{first.isoformat()} 08:00", second=f"{second.isoformat()} 08:00"
            )
        )

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        today = ctx.local_now().date()
        batches: list[list[Any]] = []
        for line in filter(None, (part.strip() for part in re.split(r"[\n;；]", ctx.incoming.text or ""))):
            found = _BATCH_LINE.match(normalise_digits(line))
            moment = parse_moment(found[1], today=today, ahead=True) if found else None
            if found is None or moment is None:
                raise Invalid(
                    N_("没看懂“{line}”。请每行写开始时间和名额，例如“12月10日上午8点 30”。"), line=line
                )
            start = datetime.combine(moment[0], moment[1], tzinfo=ctx.config.timezone).astimezone(UTC)
            try:
                check_start(start, ctx.now)
                check_capacity(int(found[2]))
            except InvalidInput as error:
                raise Invalid.from_error(error) from None
            batches.append([start.isoformat(), int(found[2])])
        if not 2 <= len(batches) <= BATCHES_MAX:
            raise Invalid(N_("分批要有 2 到 {limit} 批；只有一批请返回选“一次举行”。"), limit=BATCHES_MAX)
        batches.sort()
        data["starts_at"] = batches[0][0]
        return batches


def _allocation_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(
            Allocation.FIRST_COME.value,
            N_("先到先得（满了可以排队候补）"),
            aliases=("先到先得", "first come"),
        ),
        Option(Allocation.LOTTERY.value, N_("截止后抽签"), aliases=("抽签", "抽簽", "lottery")),
    ]


def _priority_options(ctx: Context, data: Data) -> Sequence[Option]:
    roles = [
        Option(f"role:{role.value}", label) for role, label in ROLE_LABELS.items() if role is not Role.ADMIN
    ]
    return [
        Option("none", N_("不设优先"), aliases=("不设", "没有", "無", "no")),
        *roles,
        Option("list", N_("优先名单（发布后由管理员导入）"), aliases=("名单", "名單", "list")),
    ]


def _check_priority_until(moment: datetime, data: Data, now: datetime) -> None:
    if moment <= now:
        raise InvalidInput("activity.priority_past", N_("这个时间已经过去了，请输入以后的时间。"))
    if moment > datetime.fromisoformat(data["deadline"]):
        raise InvalidInput(
            "activity.priority_after_deadline", N_("优先报名时间不能晚于报名截止时间，请重新输入。")
        )


def _announce_question(ctx: Context, data: Data) -> dict[str, Any]:
    return {"count": count_members_in(ctx.session, _unit_ids(ctx, data))}


# The choices as typed: ten of twenty characters, with their separators.
CHOICES_TEXT_MAX = 250

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
        kind=ActivityKind(data.get("kind", ActivityKind.OTHER)),
        ends_at=datetime.fromisoformat(data["ends_at"]) if data.get("ends_at") else None,
        question=data.get("question"),
        choices=split_choices(data.get("choices") or ""),
        allocation=Allocation(data.get("allocation") or Allocation.FIRST_COME),
        priority_role=str(data["priority"]).removeprefix("role:")
        if str(data.get("priority", "")).startswith("role:")
        else None,
        priority_until=datetime.fromisoformat(data["priority_until"]) if data.get("priority_until") else None,
        batches=tuple(
            (datetime.fromisoformat(start), int(places)) for start, places in data.get("batches") or ()
        )
        if _batched(data)
        else (),
        confirm_hours=ctx.config.policy(ActivityPolicy).confirm_hours,
    )


def _summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    draft = _draft(ctx, data)
    zone = ctx.config.timezone
    units = check_activity(ctx.session, actor=_actor(ctx), draft=draft, now=ctx.now)
    capacity = (
        _("按批次")
        if draft.batches
        else _("不限")
        if draft.capacity is None
        else _.ngettext("{count} 人", "{count} 人", draft.capacity).format(count=draft.capacity)
    )
    lines = [
        _("请核对活动信息，会员看到的内容如下："),
        "",
        _("【活动】{title}").format(title=draft.title),
        draft.description,
        _("类别：{kind}").format(kind=_(KIND_LABELS[draft.kind])),
        _("时间：{time}").format(time=time_span(draft.starts_at, draft.ends_at, zone))
        if not draft.batches
        else _("分 {count} 批举行：").format(count=len(draft.batches))
        + "；".join(
            _("第{number}批 {time}（{places} 人）").format(
                number=n, time=local_time(start, zone), places=places
            )
            for n, (start, places) in enumerate(draft.batches, start=1)
        ),
        _("地点：{place}").format(place=draft.place),
        _("名额：{places}").format(places=capacity),
        _("报名截止：{time}").format(time=local_time(draft.signup_deadline, zone)),
        _("报名范围：{units}").format(units="、".join(unit_path(ctx.session, unit) for unit in units)),
    ]
    if draft.allocation is Allocation.LOTTERY:
        lines.append(
            _("分配方式：报名截止后抽签，中签者 {hours} 小时内确认参加").format(hours=draft.confirm_hours)
        )
    if draft.priority_until is not None:
        group = _(ROLE_LABELS[Role(draft.priority_role)]) if draft.priority_role else _("优先名单上的会员")
        lines.append(
            _("优先报名：{until}前只有{group}可以报名").format(
                until=local_time(draft.priority_until, zone), group=group
            )
        )
    if draft.question:
        asked = draft.question + (
            _("（{choices}）").format(choices="、".join(draft.choices)) if draft.choices else ""
        )
        lines.append(_("报名时回答：{question}").format(question=asked))
    lines.append("")
    if data.get("announce"):
        count = count_members_in(ctx.session, draft.unit_ids)
        lines.append(
            _.ngettext(
                "发布后通知可以报名的 {count} 位会员。", "发布后通知可以报名的 {count} 位会员。", count
            ).format(count=count)
        )
    else:
        lines.append(_("发布后不另行通知，会员在“活动报名”里可以看到。"))
    return "\n".join(lines)


@dataclass(frozen=True)
class ActivityConfirm(Confirm):
    """The summary; a yes is checked once more, since time passed while the cadre read it."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        try:
            check_activity(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
        except InvalidInput as error:
            goto = self.fixes.get(error.code)
            raise Invalid.from_error(error, goto=goto) from None
        return value


def _publish(ctx: Context, data: Data) -> list[Reply]:
    activity = create_activity(ctx.session, actor=_actor(ctx), draft=_draft(ctx, data), now=ctx.now)
    assert activity.id is not None
    units = units_text(ctx.session, activity.id)
    if data.get("announce"):
        told = announce_activity(ctx.session, actor=_actor(ctx), activity_id=activity.id, now=ctx.now)
        text = ctx.t.ngettext(
            "好的，活动“{title}”已发布，正在通知{units}的 {count} 位会员。",
            "好的，活动“{title}”已发布，正在通知{units}的 {count} 位会员。",
            told,
        ).format(title=activity.title, units=units, count=told)
    else:
        text = ctx.t("好的，活动“{title}”已发布，{units}的会员现在可以在“活动报名”里报名了。").format(
            title=activity.title, units=units
        )
    return show_menu(ctx, intro=[Reply(text)])


ORGANISE_ACTIVITY = Flow(
    name="organise_activity",
    steps=(
        Ask("title", N_("请输入活动名称，例如“职工篮球赛”："), max_length=TITLE_MAX, label=N_("活动名称")),
        Choose("kind", N_("这是哪一类活动？"), options=_kind_options, label=N_("类别")),
        Ask(
            "description",
            N_("请介绍一下活动：内容、要求、需要带什么："),
            max_length=DESCRIPTION_MAX,
            label=N_("活动介绍"),
        ),
        Ask("place", N_("活动在哪里举行？"), max_length=PLACE_MAX, label=N_("地点")),
        Choose(
            "held",
            N_("活动是一次举行，还是分几批举行（例如疗养）？"),
            options=_held_options,
            label=N_("举行"),
        ),
        BatchesStep(
            "batches",
            N_("请每行写一批的开始时间和名额，例如：\n{first} 30\n{second} 30"),
            skip_if=lambda data: data.get("held") != "batches",
            label=N_("批次"),
        ),
        MomentStep(
            "starts_at",
            N_("活动什么时候开始？请输入日期和时间，例如“{example}”："),
            check=_check_start,
            example=_a_week_ahead,
            unreadable=_UNREADABLE_TIME,
            skip_if=_batched,
            label=N_("时间"),
        ),
        MomentStep(
            "ends_at",
            N_("活动什么时候结束？例如“{example}”："),
            check=_check_end,
            example=_a_week_ahead_evening,
            unreadable=_UNREADABLE_TIME,
            optional=True,
            skip_if=_batched,
            label=N_("结束时间"),
        ),
        MomentStep(
            "deadline",
            N_("报名截止到什么时候？请输入日期和时间，例如“{example}”："),
            check=_check_deadline,
            example=_a_week_ahead,
            unreadable=_UNREADABLE_TIME,
            label=N_("报名截止"),
        ),
        CapacityStep(
            "capacity",
            N_("有多少个名额？请回复人数；不限名额请回复“不限”。"),
            skip_if=_batched,
            label=N_("名额"),
        ),
        Choose(
            "allocation",
            N_("名额怎么分配？"),
            options=_allocation_options,
            skip_if=lambda data: data.get("capacity") is None or _batched(data),
            label=N_("分配方式"),
        ),
        Choose(
            "priority",
            N_("有优先报名的人吗？例如疗养优先劳模："),
            options=_priority_options,
            label=N_("优先"),
        ),
        MomentStep(
            "priority_until",
            N_("优先报名到什么时候？之后所有会员都可以报名。例如“{example}”："),
            check=_check_priority_until,
            example=_a_week_ahead,
            unreadable=_UNREADABLE_TIME,
            skip_if=lambda data: data.get("priority") in (None, "none"),
            label=N_("优先截止"),
        ),
        Choose("scope", N_("哪些会员可以报名？"), options=_scope_options, label=N_("报名范围")),
        UnitsStep(
            "units",
            N_("请回复可以报名的单位编号，可以选多个，用空格隔开，例如“1 3”："),
            skip_if=lambda data: data.get("scope") != "units",
            scope=units_in_scope,
            check=_require_activity_units,
            label=N_("报名范围"),
        ),
        Ask(
            "question",
            N_("报名时要会员回答一个问题吗？例如“衣服尺码”“参赛项目”（最多 30 个字）："),
            max_length=QUESTION_MAX,
            optional=True,
            validate=_check_question,
            label=N_("报名问题"),
        ),
        Ask(
            "choices",
            N_("有固定选项吗？用“、”隔开，例如“S、M、L、XL”；自由填写请回复“跳过”："),
            max_length=CHOICES_TEXT_MAX,
            optional=True,
            validate=_check_choices,
            skip_if=lambda data: not data.get("question"),
            label=N_("选项"),
        ),
        YesNo(
            "announce",
            N_("发布时要通知可以报名的 {count} 位会员吗？"),
            params=_announce_question,
            label=N_("发布通知"),
        ),
        ActivityConfirm(
            summary=_summary,
            question=N_("确认后会员就可以报名了。"),
            fixes={
                "activity.start_past": "starts_at",
                "activity.deadline_past": "deadline",
                "activity.deadline_after_start": "deadline",
                "activity.end_before_start": "ends_at",
                "activity.priority_after_deadline": "priority_until",
            },
        ),
    ),
    on_done=_publish,
)


def _organise(ctx: Context, arg: str) -> list[Reply]:
    activity_scope(ctx.session, _actor(ctx))  # refuses members who may not organise, with the reason
    return ctx.dialogs.start(ctx, ORGANISE_ACTIVITY)


ORGANISE = Feature(
    name="organise_activity",
    rank=80,
    section=MenuSection.ACTIVITIES,
    label=N_("发起活动"),
    summary=N_("为您负责的单位发起活动，会员可以在“活动报名”里报名"),
    words=("/organise", "发起活动", "發起活動", "组织活动", "組織活動", "organise"),
    run=_organise,
    available=can_manage_activities,
)
