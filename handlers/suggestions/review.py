"""建议办理: the cadre's side of suggestions — the review queue and every step a suggestion goes through.

A cadre with ``REVIEW_SUGGESTIONS`` opens 建议办理 and sees, page by page, the
open suggestions of the units they answer for, overdue ones first, with how
many wait to be registered or decided. Opening one shows it in full (the
proposer only when named, an anonymous one's unit no closer than a crowd), its
history, its photos the first time (查看照片 sends them again), and the steps
its stage allows (:func:`models.suggestions.allowed_actions`) — never one the rules
would refuse. Each step is a short form ending in a summary to confirm; the
cadre's answers are written with the version they saw, so when a colleague
acted meanwhile the cadre is told so and sees the suggestion as it now stands
instead of overwriting the colleague's work (:mod:`handlers.core.actions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from handlers.core.actions import Seen, VersionedActions, stale, view_data
from handlers.core.context import Context
from handlers.core.dialogs import (
    SKIP_WORDS,
    Ask,
    Choose,
    Confirm,
    Data,
    DateStep,
    Flow,
    Invalid,
    Option,
    YesNo,
    Yuan,
    step_payload,
)
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.paging import PAGE_SIZE, Page, PagedList, paged_flow
from handlers.core.parsing import normalise, parse_index
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.facts import Fact
from models.members import Member, format_yuan
from models.roles import RoleGrant
from models.suggestions import (
    AWARD_LABELS,
    DEPARTMENT_MAX,
    FEASIBILITY_LABELS,
    OPINION_MAX,
    PHOTOS_MAX,
    REPLY_MAX,
    STATUS_LABELS,
    Action,
    Award,
    CadreView,
    Conflict,
    EventKind,
    Feasibility,
    Suggestion,
    SuggestionEvent,
    SuggestionPolicy,
    SuggestionStatus,
    allowed_actions,
    award_suggestion,
    cadre_view,
    close_blockers,
    close_suggestion,
    decide_suggestion,
    first_review,
    implemented,
    merge_suggestion,
    merge_target,
    panel_review,
    parse_suggestion_number,
    photos_of,
    queue_counts,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    review_queue,
    reviewable_by_number,
    reviewers_for,
    reviews_suggestions,
    start_implementation,
    suggestion_number,
    wrong_stage,
)
from models.units import Unit, unit_path

# The latest steps tell a cadre where things stand; the full history is the proposer's 我的建议.
HISTORY_SHOWN = 6
ALL = "all"
STALE = "stale"
# The list's status filters: the "三及时" stages a cadre works through, and everything still open.
GROUPS: dict[str, tuple[str, tuple[SuggestionStatus, ...]]] = {
    "register": (N_("待登记"), (SuggestionStatus.SUBMITTED,)),
    "decide": (
        N_("待决定"),
        (SuggestionStatus.REGISTERED, SuggestionStatus.FIRST_REVIEWED, SuggestionStatus.PANEL_REVIEWED),
    ),
    "implement": (N_("待实施"), (SuggestionStatus.ADOPTED,)),
    "implementing": (N_("实施中"), (SuggestionStatus.IMPLEMENTING,)),
    ALL: (N_("全部"), ()),
}
EVENT_LABELS: dict[EventKind, str] = {
    EventKind.SUBMITTED: N_("提交建议"),
    EventKind.REGISTERED: N_("登记分类"),
    EventKind.FIRST_REVIEW: N_("初评"),
    EventKind.PANEL_REVIEW: N_("评审"),
    EventKind.ADOPTED: N_("决定采纳"),
    EventKind.NOT_ADOPTED: N_("决定不采纳"),
    EventKind.IMPLEMENTATION_STARTED: N_("开始实施"),
    EventKind.EFFECT_RECORDED: N_("记录实施效果"),
    EventKind.AWARDED: N_("评奖"),
    EventKind.MERGED: N_("合并"),
    EventKind.REPLIED: N_("答复提出人"),
    EventKind.CLOSED: N_("办结"),
    EventKind.NAME_REVEALED: N_("提出人公开了姓名"),
}
# What each step a cadre may take is called on its button; the form each opens is in FORMS, below them.
ACTION_LABELS: dict[Action, str] = {
    Action.REGISTER: N_("登记分类"),
    Action.FIRST_REVIEW: N_("初评"),
    Action.PANEL_REVIEW: N_("评审"),
    Action.DECIDE: N_("决定"),
    Action.START: N_("开始实施"),
    Action.EFFECT: N_("实施效果"),
    Action.AWARD: N_("评奖"),
    Action.MERGE: N_("合并"),
    Action.REPLY: N_("答复提出人"),
    Action.CLOSE: N_("办结"),
}
# Where the list was when the cadre opened a suggestion: 返回列表 goes back there.
QUEUE_KEYS = ("group", "category", "page")
PHOTOS_SENT = "photos_sent"
"""Form data key of the suggestion whose photos this cadre was last sent (:func:`_open`)."""
# What the cadre's way through the queue carries from list to suggestion to step and back.
KEPT = (*QUEUE_KEYS, PHOTOS_SENT)
PHOTOS = "photos"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def can_review(ctx: Context) -> bool:
    return ctx.member is not None and reviews_suggestions(ctx.session, ctx.member)


def _today(ctx: Context) -> date:
    return ctx.config.policy(SuggestionPolicy).today(ctx.now)


def _yuan(ctx: Context, fen: int) -> str:
    return ctx.t("{amount} 元").format(amount=format_yuan(fen))


def _queue_of(data: Data) -> Data:
    return {key: data[key] for key in KEPT if key in data}


def _due(ctx: Context, suggestion: Suggestion) -> str:
    """The deadline, and how late it is: what the queue is sorted by and cadres are held to."""
    if suggestion.due_on is None:
        return ""
    text = ctx.t("期限：{date}").format(date=suggestion.due_on.isoformat())
    late = (_today(ctx) - suggestion.due_on).days
    if late > 0:
        text += ctx.t.ngettext("（已超期 {days} 天）", "（已超期 {days} 天）", late).format(days=late)
    return text


# --------------------------------------------------------------------------- the queue


def _statuses(data: Data) -> list[SuggestionStatus] | None:
    return list(GROUPS[data.get("group", ALL)][1]) or None


def _filters(ctx: Context, data: Data) -> Sequence[Option]:
    """The other groups and the category filter, after the page."""
    group = data.get("group", ALL)
    options = [Option(f"g:{key}", label) for key, (label, _) in GROUPS.items() if key != group]
    options.append(Option("c", N_("按类别筛选"), aliases=("按類別篩選", "类别", "類別", "by category")))
    return options


def _counts(ctx: Context) -> str:
    counts = queue_counts(ctx.session, actor=_actor(ctx), today=_today(ctx))
    return ctx.t("待登记 {register} 条，待决定 {decide} 条，超期 {overdue} 条").format(
        register=counts.waiting(GROUPS["register"][1]),
        decide=counts.waiting(GROUPS["decide"][1]),
        overdue=counts.overdue,
    )


def _entry(ctx: Context, number: int, suggestion: Suggestion) -> str:
    state = ctx.t(STATUS_LABELS[suggestion.status])
    due = _due(ctx, suggestion)
    return "\n".join(
        [
            ctx.t("{number}. {title}（{code}）").format(
                number=number, title=suggestion.title, code=suggestion.number
            ),
            "   " + ("　".join([state, due]) if due else state),
        ]
    )


# 建议办理 asks whether the queue is empty, then shows its first page: one read per message.
_QUEUE_PAGES = Fact[tuple[Any, ...], tuple[int, Sequence[Suggestion]]](
    "suggestion queue pages", {Suggestion: None, RoleGrant: None, Unit: None}
)


def _queue_rows(
    ctx: Context, statuses: list[SuggestionStatus] | None, category: str | None, offset: int, limit: int
) -> tuple[int, Sequence[Suggestion]]:
    today = _today(ctx)
    return _QUEUE_PAGES.recall(
        ctx.session,
        (_actor(ctx).id, today, tuple(statuses or ()), category, offset, limit),
        lambda: review_queue(
            ctx.session,
            actor=_actor(ctx),
            today=today,
            statuses=statuses,
            category=category,
            offset=offset,
            limit=limit,
        ),
    )


@dataclass(frozen=True)
class QueueStep(PagedList[Suggestion]):
    """A page of the queue: the counts first, then each suggestion with its stage and deadline."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Suggestion], int]:
        total, rows = _queue_rows(ctx, _statuses(data), data.get("category"), offset, limit)
        return rows, total

    def item(self, ctx: Context, item: Suggestion) -> Option:
        return Option(f"s:{item.id}", item.title, literal=True)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        """A choice of the page, or a suggestion of the cadre's units by its number (JY-2026-000005, JY5)."""
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            text = ctx.incoming.text or ""
            number = (
                parse_suggestion_number(text, year=_today(ctx).year) if parse_index(text) is None else None
            )
            if number is None:
                raise
            found = reviewable_by_number(ctx.session, actor=_actor(ctx), number=number)
            if found is None:
                raise Invalid(N_("找不到编号为 {number} 的建议。"), number=number) from None
            return f"s:{found}"

    def text(self, ctx: Context, data: Data, page: Page[Suggestion]) -> str:
        _ = ctx.t
        shown = _(GROUPS[data.get("group", ALL)][0])
        category = data.get("category")
        if category:
            shown = _("{group} · {category}").format(group=shown, category=_(category))
        lines = [_counts(ctx)]
        if page.total == 0:
            lines.append(_("“{shown}”下没有建议。可以换个筛选条件看看。").format(shown=shown))
        else:
            lines.append(
                _("{shown}（第 {page}/{pages} 页，共 {count} 条）：").format(
                    shown=shown, page=page.number, pages=page.pages, count=page.total
                )
            )
            # Numbered as the choices below are, so "1" opens the first one shown.
            lines += [_entry(ctx, number, row) for number, row in enumerate(page.items, start=1)]
            lines.append(_("请选择要办理的建议："))
        return "\n".join(lines)


def _queue(ctx: Context, data: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    queue = {"group": ALL, "page": 1, **_queue_of(data)}
    return ctx.dialogs.start(ctx, REVIEW_QUEUE, data=queue, intro=intro)


def _picked(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    queue = _queue_of(data)
    if kind == "g":
        return _queue(ctx, {**queue, "group": value, "page": 1})
    if kind == "c":
        return ctx.dialogs.start(ctx, QUEUE_CATEGORY, data=queue)
    return _open(ctx, int(value), queue)


REVIEW_QUEUE = paged_flow(
    name="suggestion_queue",
    steps=(QueueStep("pick", N_("请选择要办理的建议："), options=_filters),),
    on_pick=_picked,
    quiet_timeout=True,
    browse=True,
)


def _category_options(ctx: Context, data: Data) -> Sequence[Option]:
    options = [Option(ALL, N_("全部类别"), aliases=("全部類別", "all categories"))]
    return [*options, *_categories(ctx, data)]


def _categories(ctx: Context, data: Data) -> Sequence[Option]:
    """The union's categories; the value is the position, since a category may be too long for a button."""
    return [
        Option(str(index), category)
        for index, category in enumerate(ctx.config.policy(SuggestionPolicy).categories)
    ]


def _category(ctx: Context, value: str) -> str:
    return ctx.config.policy(SuggestionPolicy).categories[int(value)]


def _category_picked(ctx: Context, data: Data) -> list[Reply]:
    pick = data["category_pick"]
    category = None if pick == ALL else _category(ctx, pick)
    return _queue(ctx, {**_queue_of(data), "category": category, "page": 1})


QUEUE_CATEGORY = Flow(
    name="suggestion_queue_category",
    steps=(Choose("category_pick", N_("只看哪一类建议？"), options=_category_options),),
    on_done=_category_picked,
    quiet_timeout=True,
    browse=True,
)


# --------------------------------------------------------------------------- one suggestion


def _name(member: Member | None) -> str:
    return member.name if member is not None else ""


def _history_line(ctx: Context, event: SuggestionEvent) -> str:
    when = event.at.astimezone(ctx.config.policy(SuggestionPolicy).zone).strftime("%m-%d %H:%M")
    what = ctx.t(EVENT_LABELS[event.kind])
    actor = ctx.session.get(Member, event.actor_id) if event.actor_id is not None else None
    if actor is not None:
        return ctx.t("· {time} {what}（{actor}）").format(time=when, what=what, actor=actor.name)
    return ctx.t("· {time} {what}").format(time=when, what=what)


def _panel_lines(ctx: Context, view: CadreView) -> list[str]:
    """The latest panel review's verdict: kept in the history, where the decision is weighed against it."""
    reviews = [event for event in view.events if event.kind is EventKind.PANEL_REVIEW]
    if not reviews:
        return []
    params = reviews[-1].params
    lines = [
        ctx.t("可行性：{feasibility}").format(
            feasibility=ctx.t(FEASIBILITY_LABELS[Feasibility(params["feasibility"])])
        )
    ]
    if params.get("cost_fen") is not None:
        lines.append(_amount_line(ctx, N_("预计投入：{amount}"), params["cost_fen"]))
    if params.get("benefit_fen") is not None:
        lines.append(_amount_line(ctx, N_("预计效益：{amount}"), params["benefit_fen"]))
    return lines


def view_text(ctx: Context, view: CadreView) -> str:
    """A suggestion in full as its cadre reads it; an anonymous proposer is only ever "匿名"."""
    _ = ctx.t
    suggestion = view.suggestion
    if view.proposer is None:
        proposer = _("匿名")
    else:
        proposer = _("{name}（工号 {employee_no}）").format(
            name=view.proposer.name, employee_no=view.proposer.employee_no
        )
    lines = [
        _("【{number}】{title}").format(number=suggestion.number, title=suggestion.title),
        _("类别：{category}").format(category=_(suggestion.category)),
        _("单位：{unit}").format(unit=unit_path(ctx.session, view.unit)),
        _("提出人：{proposer}").format(proposer=proposer),
        _("问题和建议措施：{measure}").format(measure=suggestion.measure),
    ]
    if suggestion.benefit:
        lines.append(_("预期效益：{benefit}").format(benefit=suggestion.benefit))
    if suggestion.benefit_fen is not None:
        lines.append(_("预计创效：{amount}").format(amount=_yuan(ctx, suggestion.benefit_fen)))
    lines.append(_("附议：{count} 人").format(count=view.supporters))
    if view.photos:
        count = len(view.photos)
        lines.append(_.ngettext("照片：{count} 张", "照片：{count} 张", count).format(count=count))
    state = _(STATUS_LABELS[suggestion.status])
    due = _due(ctx, suggestion)
    lines.append(_("状态：{state}").format(state=state) + ("　" + due if due else ""))
    if suggestion.department:
        lines.append(
            _("承办：{department}（{reviewer}）").format(
                department=suggestion.department, reviewer=_name(view.reviewer)
            )
            if view.reviewer is not None
            else _("承办：{department}").format(department=suggestion.department)
        )
    lines += _panel_lines(ctx, view)
    if suggestion.value_fen is not None:
        lines.append(_("实施效果：创效 {amount}").format(amount=_yuan(ctx, suggestion.value_fen)))
    if suggestion.award is not None:
        lines.append(
            _("评奖：{award}，奖金 {amount}").format(
                award=_(AWARD_LABELS[suggestion.award]), amount=_yuan(ctx, suggestion.prize_fen or 0)
            )
        )
    if suggestion.opinion:
        lines.append(_("处理意见：{opinion}").format(opinion=suggestion.opinion))
    if suggestion.reply:
        lines.append(_("答复：{reply}").format(reply=suggestion.reply))
    lines.append(_("办理记录："))
    lines += [_history_line(ctx, event) for event in view.events[-HISTORY_SHOWN:]]
    return "\n".join(lines)


def _photos(ctx: Context, view: CadreView) -> list[Reply]:
    photos = view.photos[:PHOTOS_MAX]
    return [
        Reply(
            ctx.t("照片 {index}/{count}").format(index=index, count=len(photos)),
            image=OutgoingFile(photo.ref, Path(photo.ref).name, photo.mime_type),
        )
        for index, photo in enumerate(photos, start=1)
    ]


def _view(ctx: Context, suggestion_id: int) -> CadreView:
    policy = ctx.config.policy(SuggestionPolicy)
    return cadre_view(ctx.session, actor=_actor(ctx), suggestion_id=suggestion_id, policy=policy)


def _open(ctx: Context, suggestion_id: int, queue: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    """The suggestion as it stands now, then its steps; the version seen is kept for the form.

    Its photos come with the first view only: after each step, or back from the list,
    the cadre still has them above and gets the text alone (查看照片 sends them again).
    """
    view = _view(ctx, suggestion_id)
    data = {**queue, **view_data(suggestion_id, view.suggestion.version)}
    shown = [*intro, Reply(view_text(ctx, view))]
    if view.photos and queue.get(PHOTOS_SENT) != suggestion_id:
        shown += _photos(ctx, view)
        data[PHOTOS_SENT] = suggestion_id
    return ctx.dialogs.start(ctx, SUGGESTION_VIEW, data=data, intro=shown)


def _reopen(ctx: Context, data: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    """The suggestion of a step's form as it now stands, the list it was opened from kept for 返回列表."""
    return _open(ctx, int(data["id"]), _queue_of(data), intro)


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    suggestion = _view(ctx, int(data["id"])).suggestion
    allowed = allowed_actions(ctx.session, _actor(ctx), suggestion, ctx.config.policy(SuggestionPolicy))
    options = [Option(action.value, ACTION_LABELS[action]) for action in allowed]
    if photos_of(ctx.session, int(data["id"])):
        options.append(Option(PHOTOS, N_("查看照片"), aliases=("看照片", "照片", "photos", "show photos")))
    options.append(Option("list", N_("返回列表")))
    return options


@dataclass(frozen=True)
class ActionStep(Choose):
    """The steps the rules allow now (:func:`allowed_actions`). 办结 says what "五有" still misses."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        suggestion = _view(ctx, int(data["id"])).suggestion
        # A colleague acted since this view was shown: whatever was chosen, show what changed first.
        moved = stale(data, suggestion.version)
        try:
            action = super().accept(ctx, flow, data)
        except Invalid:
            if self._named_action(ctx, flow) is None:
                raise
            if moved:
                return STALE
            # A step the stage does not allow, typed by its name: say why rather than "which number?".
            raise Invalid.from_error(wrong_stage(suggestion)) from None
        if action not in ("list", PHOTOS) and moved:
            return STALE
        if action == Action.CLOSE and (missing := close_blockers(suggestion)):
            raise Invalid.from_error(missing[0])
        return action

    def _named_action(self, ctx: Context, flow: str) -> Action | None:
        payload = ctx.incoming.button
        if payload is not None:
            value = payload.rpartition(":")[2]
            named = payload == step_payload(flow, self.key, value) and value in ACTION_LABELS
            return Action(value) if named else None
        said = normalise(ctx.incoming.text or "")
        for action, label in ACTION_LABELS.items():
            if said in {normalise(label), normalise(ctx.t(label))}:
                return action
        return None


def _acted(ctx: Context, data: Data) -> list[Reply]:
    action = data["action"]
    if action == "list":
        return _queue(ctx, data)
    if action == PHOTOS:
        # Asked for: sent again, and the same steps offered under them.
        view = _view(ctx, int(data["id"]))
        kept = {key: value for key, value in data.items() if key != "action"}
        return ctx.dialogs.start(ctx, SUGGESTION_VIEW, data=kept, intro=_photos(ctx, view))
    if action == STALE:
        suggestion = _view(ctx, int(data["id"])).suggestion
        moved = ctx.t("这条建议刚刚被其他干部处理过，现在是“{status}”。以下是最新情况，请重新选择。").format(
            status=ctx.t(STATUS_LABELS[suggestion.status])
        )
        return _reopen(ctx, data, [Reply(moved)])
    return STEPS.start(ctx, FORMS[Action(action)], data)


SUGGESTION_VIEW = Flow(
    name="suggestion_view",
    steps=(ActionStep("action", N_("请选择要办理的事项："), options=_action_options),),
    on_done=_acted,
    browse=True,
)


# --------------------------------------------------------------------------- the forms


def _title(ctx: Context, data: Data) -> str:
    suggestion = _view(ctx, int(data["id"])).suggestion
    return ctx.t("【{number}】{title}").format(number=suggestion.number, title=suggestion.title)


def _off_the_list(suggestion: Suggestion) -> bool:
    return suggestion.status in (SuggestionStatus.CLOSED, SuggestionStatus.MERGED)


# Every step below: its questions, a summary to confirm, then the write with the version the cadre saw.
STEPS = VersionedActions[Suggestion](
    conflict=Conflict,
    reopen=_reopen,
    leave=_queue,
    finished=_off_the_list,
    heading=_title,
    keep=KEPT,
)


def _amount_line(ctx: Context, label: str, fen: int | None) -> str:
    amount = ctx.t("未填写") if fen is None else _yuan(ctx, fen)
    return ctx.t(label).format(amount=amount)


# 登记分类


@dataclass(frozen=True)
class CategoryStep(Choose):
    """Confirm or change the category the proposer chose."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        current = _view(ctx, int(data["id"])).suggestion.category
        return Reply(ctx.t(self.question).format(category=ctx.t(current)), buttons=reply.buttons)


def _reviewer_options(ctx: Context, data: Data) -> Sequence[Option]:
    actor = _actor(ctx)
    return [
        Option(str(member.id), N_("我自己"), aliases=("自己", "我", "myself"))
        if member.id == actor.id
        else Option(
            str(member.id),
            ctx.t("{name}（{employee_no}）").format(name=member.name, employee_no=member.employee_no),
            literal=True,
        )
        for member in reviewers_for(ctx.session, actor=actor, suggestion_id=int(data["id"]))
    ]


def _reviewer_name(ctx: Context, data: Data) -> str:
    for member in reviewers_for(ctx.session, actor=_actor(ctx), suggestion_id=int(data["id"])):
        if str(member.id) == data["reviewer"]:
            return member.name
    return ""


def _register_lines(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    return [
        _("类别：{category}").format(category=_(_category(ctx, data["new_category"]))),
        _("承办部门：{department}").format(department=data["department"].strip()),
        _("承办干部：{name}").format(name=_reviewer_name(ctx, data)),
    ]


def _register(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return register_suggestion(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        category=_category(ctx, data["new_category"]),
        department=data["department"],
        reviewer_id=int(data["reviewer"]),
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


def _registered(ctx: Context, data: Data, suggestion: Suggestion) -> str:
    assert suggestion.due_on is not None
    return ctx.t("已登记，由{department}承办。请在 {date} 前作出采纳与否的决定。").format(
        department=suggestion.department, date=suggestion.due_on.isoformat()
    )


REGISTER = STEPS.flow(
    "suggestion_register",
    asks=(
        CategoryStep(
            "new_category", N_("提出人选的类别是“{category}”。请确认或改选类别："), options=_categories
        ),
        Ask("department", N_("请输入承办部门，例如“设备科”："), max_length=DEPARTMENT_MAX),
        Choose("reviewer", N_("由哪位干部负责办理？"), options=_reviewer_options),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对登记信息："), _register_lines),
        question=N_("确认后登记，并开始计算决定期限。"),
    ),
    act=_register,
    said=_registered,
)


# 初评


def _first_lines(ctx: Context, data: Data) -> list[str]:
    return [ctx.t("初评意见：{opinion}").format(opinion=data["opinion"].strip())]


def _first_review(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return first_review(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        opinion=data["opinion"],
        now=ctx.now,
    )


FIRST_REVIEW = STEPS.flow(
    "suggestion_first_review",
    asks=(Ask("opinion", N_("请写下初评意见："), max_length=OPINION_MAX),),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对初评意见："), _first_lines), question=N_("确认后记录初评意见。")
    ),
    act=_first_review,
    said=lambda ctx, data, suggestion: ctx.t("初评意见已记录，提出人会收到通知。"),
)


# 评审


def _feasibility_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(value.value, label) for value, label in FEASIBILITY_LABELS.items()]


def _panel_review_lines(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    return [
        _("可行性：{feasibility}").format(
            feasibility=_(FEASIBILITY_LABELS[Feasibility(data["feasibility"])])
        ),
        _amount_line(ctx, N_("预计投入：{amount}"), data.get("cost")),
        _amount_line(ctx, N_("预计效益：{amount}"), data.get("benefit")),
        _("评审意见：{opinion}").format(opinion=data["opinion"].strip()),
    ]


def _panel_review(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return panel_review(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        feasibility=Feasibility(data["feasibility"]),
        cost_fen=data.get("cost"),
        benefit_fen=data.get("benefit"),
        opinion=data["opinion"],
        now=ctx.now,
    )


PANEL_REVIEW = STEPS.flow(
    "suggestion_panel_review",
    asks=(
        Choose("feasibility", N_("评审认为这条建议可行吗？"), options=_feasibility_options),
        Yuan("cost", N_("预计需要投入多少钱？请输入元数，例如“2万”："), optional=True),
        Yuan("benefit", N_("预计每年能创效多少钱？请输入元数，例如“8.6万”："), optional=True),
        Ask("opinion", N_("请写下评审意见："), max_length=OPINION_MAX),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对评审结果："), _panel_review_lines),
        question=N_("确认后记录评审结果。"),
    ),
    act=_panel_review,
    said=lambda ctx, data, suggestion: ctx.t("评审结果已记录，接下来请作出决定。"),
)


# 决定


def _require_reason(ctx: Context, text: str, data: Data) -> None:
    if normalise(text) in SKIP_WORDS:
        raise Invalid(N_("请写明采纳或不采纳的理由：提出人有权知道。"))


def _decision_label(data: Data) -> str:
    return N_("采纳") if data["adopted"] == "yes" else N_("不采纳")


def _decide_lines(ctx: Context, data: Data) -> list[str]:
    return [
        ctx.t("决定：{decision}").format(decision=ctx.t(_decision_label(data))),
        ctx.t("理由：{reason}").format(reason=data["reason"].strip()),
    ]


def _decide(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return decide_suggestion(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        adopted=data["adopted"] == "yes",
        reason=data["reason"],
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


def _decided(ctx: Context, data: Data, suggestion: Suggestion) -> str:
    if data["adopted"] == "yes":
        assert suggestion.due_on is not None
        return ctx.t("已决定采纳，提出人会收到通知。请在 {date} 前开始实施。").format(
            date=suggestion.due_on.isoformat()
        )
    return ctx.t("已决定不采纳，理由会告知提出人。答复提出人后就可以办结了。")


DECIDE = STEPS.flow(
    "suggestion_decide",
    asks=(
        Choose(
            "adopted",
            N_("是否采纳这条建议？"),
            options=(
                Option("yes", N_("采纳"), aliases=("adopt",)),
                Option("no", N_("不采纳"), aliases=("reject",)),
            ),
        ),
        Ask(
            "reason",
            N_("请写明理由，提出人会看到："),
            max_length=OPINION_MAX,
            validate=_require_reason,
        ),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对决定："), _decide_lines), question=N_("确认后记录决定并通知提出人。")
    ),
    act=_decide,
    said=_decided,
)


# 开始实施


def _start_lines(ctx: Context, data: Data) -> list[str]:
    return [
        ctx.t("开始实施：{date}").format(date=data["started_on"]),
        ctx.t("实施情况：{notes}").format(notes=data["notes"].strip()),
    ]


def _start(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return start_implementation(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        started_on=date.fromisoformat(data["started_on"]),
        notes=data["notes"],
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


START = STEPS.flow(
    "suggestion_start",
    asks=(
        DateStep("started_on", N_("哪天开始实施的？例如“今天”或“11月20日”："), latest=lambda today: today),
        Ask("notes", N_("请简单写下实施情况："), max_length=OPINION_MAX),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对实施信息："), _start_lines), question=N_("确认后记录开始实施。")
    ),
    act=_start,
    said=lambda ctx, data, suggestion: ctx.t("已记录开始实施，提出人会收到通知。"),
)


# 实施效果


@dataclass(frozen=True)
class CompletionStep(DateStep):
    """The date the idea was in place: not in the future, not before implementation began."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        started = _view(ctx, int(data["id"])).suggestion.implementation_started_on
        if started is not None and date.fromisoformat(value) < started:
            raise Invalid(N_("完成日期不能早于开始实施的日期 {date}。"), date=started.isoformat())
        return value


def _effect_lines(ctx: Context, data: Data) -> list[str]:
    return [
        _amount_line(ctx, N_("创效：{amount}"), data["value"]),
        ctx.t("完成日期：{date}").format(date=data["implemented_on"]),
        ctx.t("实施效果：{notes}").format(notes=data["notes"].strip()),
    ]


def _record_effect(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return record_effect(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        value_fen=data["value"],
        implemented_on=date.fromisoformat(data["implemented_on"]),
        notes=data["notes"],
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


EFFECT = STEPS.flow(
    "suggestion_effect",
    asks=(
        Yuan("value", N_("这条建议创效多少钱？请输入元数，例如“8.6万”；没有直接效益请回复 0：")),
        CompletionStep("implemented_on", N_("哪天实施完成的？例如“今天”："), latest=lambda today: today),
        Ask("notes", N_("请简单写下实施效果："), max_length=OPINION_MAX),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对实施效果："), _effect_lines), question=N_("确认后记录实施效果。")
    ),
    act=_record_effect,
    said=lambda ctx, data, suggestion: ctx.t("已记录实施效果：创效 {amount}。").format(
        amount=_yuan(ctx, data["value"])
    ),
)


# 评奖


def _award_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(award.value, label) for award, label in AWARD_LABELS.items()]


def _award_warning(ctx: Context, data: Data) -> list[str]:
    """A word of caution before awarding an idea whose effect nobody has seen yet."""
    if implemented(_view(ctx, int(data["id"])).suggestion):
        return []
    return [ctx.t("注意：这条建议还没有实施完成，效果尚未核定。")]


@dataclass(frozen=True)
class AwardStep(Choose):
    """Which award, under the warning when the suggestion is not implemented yet."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply("\n".join([*_award_warning(ctx, data), reply.text]), buttons=reply.buttons)


def _award_lines(ctx: Context, data: Data) -> list[str]:
    return [
        ctx.t("奖项：{award}").format(award=ctx.t(AWARD_LABELS[Award(data["award"])])),
        _amount_line(ctx, N_("奖金：{amount}"), data["prize"]),
        *_award_warning(ctx, data),
    ]


def _award(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return award_suggestion(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        award=Award(data["award"]),
        prize_fen=data["prize"],
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


def _awarded(ctx: Context, data: Data, suggestion: Suggestion) -> str:
    return ctx.t("已评为“{award}”，奖金 {amount}。提出人会收到通知。").format(
        award=ctx.t(AWARD_LABELS[Award(data["award"])]), amount=_yuan(ctx, data["prize"])
    )


AWARD = STEPS.flow(
    "suggestion_award",
    asks=(
        AwardStep("award", N_("评为什么奖？"), options=_award_options),
        Yuan("prize", N_("奖金多少元？例如“500”；没有奖金请回复 0：")),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对评奖结果："), _award_lines), question=N_("确认后记录评奖结果。")
    ),
    act=_award,
    said=_awarded,
)


# 合并


@dataclass(frozen=True)
class MergeTargetStep(Ask):
    """The number of the suggestion to merge into, checked as the merge will check it; short forms welcome."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        example = suggestion_number(_today(ctx).year, 12)
        return Reply(ctx.t(self.question).format(example=example, short=12))


def _target(ctx: Context, data: Data, typed: str) -> Suggestion:
    return merge_target(
        ctx.session, actor=_actor(ctx), suggestion_id=int(data["id"]), number=typed, year=_today(ctx).year
    )


def _check_target(ctx: Context, text: str, data: Data) -> None:
    try:
        _target(ctx, data, text)
    except (NotFound, PermissionDenied, InvalidInput) as error:
        raise Invalid.from_error(error) from None


def _merge_lines(ctx: Context, data: Data) -> list[str]:
    target = _target(ctx, data, data["into"])
    return [
        ctx.t("合并到：【{number}】{title}").format(number=target.number, title=target.title),
        ctx.t("合并说明：{note}").format(note=data["note"].strip()),
        ctx.t("提出人和附议人都会转为那条建议的附议人，合并说明会作为答复发给提出人。"),
    ]


def _merge(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return merge_suggestion(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        into_number=data["into"],
        note=data["note"],
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )


def _merged(ctx: Context, data: Data, suggestion: Suggestion) -> str:
    target = ctx.session.get(Suggestion, suggestion.merged_into_id) if suggestion.merged_into_id else None
    into = target.number if target is not None else ""
    return ctx.t("已把 {number} 合并到 {into}。").format(number=suggestion.number, into=into)


MERGE = STEPS.flow(
    "suggestion_merge",
    asks=(
        MergeTargetStep(
            "into",
            N_("要合并到哪条建议？请输入它的编号，例如“{example}”；今年的建议只输入序号“{short}”也可以："),
            max_length=30,
            validate=_check_target,
        ),
        Ask("note", N_("请写一句合并说明，提出人会收到："), max_length=REPLY_MAX),
    ),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对合并信息："), _merge_lines),
        question=N_("确认后合并，这条建议随之办结。"),
    ),
    act=_merge,
    said=_merged,
)


# 答复提出人


def _reply_lines(ctx: Context, data: Data) -> list[str]:
    return [ctx.t("答复：{reply}").format(reply=data["text"].strip())]


def _reply(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return reply_to_proposer(
        ctx.session,
        actor=_actor(ctx),
        suggestion_id=seen.id,
        expected_version=seen.version,
        text=data["text"],
        now=ctx.now,
    )


REPLY = STEPS.flow(
    "suggestion_reply",
    asks=(Ask("text", N_("请写下给提出人的答复："), max_length=REPLY_MAX),),
    confirm=Confirm(
        summary=STEPS.summary(N_("请核对给提出人的答复："), _reply_lines), question=N_("确认后发给提出人。")
    ),
    act=_reply,
    said=lambda ctx, data, suggestion: ctx.t("答复已发给提出人。"),
)


# 办结


def _close_question(ctx: Context, data: Data) -> dict[str, Any]:
    suggestion = _view(ctx, int(data["id"])).suggestion
    return {"number": suggestion.number, "title": suggestion.title}


def _close(ctx: Context, data: Data, seen: Seen) -> Suggestion:
    return close_suggestion(
        ctx.session, actor=_actor(ctx), suggestion_id=seen.id, expected_version=seen.version, now=ctx.now
    )


CLOSE = STEPS.flow(
    "suggestion_close",
    confirm=YesNo(
        "sure",
        N_("确定办结【{number}】{title}吗？办结后它不再出现在待办列表里。"),
        params=_close_question,
    ),
    act=_close,
    said=lambda ctx, data, suggestion: ctx.t("{number} 已办结。").format(number=suggestion.number),
    declined=N_("好的，暂不办结。"),
)

# The form each step opens.
FORMS: dict[Action, Flow] = {
    Action.REGISTER: REGISTER,
    Action.FIRST_REVIEW: FIRST_REVIEW,
    Action.PANEL_REVIEW: PANEL_REVIEW,
    Action.DECIDE: DECIDE,
    Action.START: START,
    Action.EFFECT: EFFECT,
    Action.AWARD: AWARD,
    Action.MERGE: MERGE,
    Action.REPLY: REPLY,
    Action.CLOSE: CLOSE,
}


# --------------------------------------------------------------------------- the feature


def _review(ctx: Context, arg: str) -> list[Reply]:
    total, _ = _queue_rows(ctx, None, None, 0, PAGE_SIZE)  # the first page, which the queue then shows
    if total == 0:
        return show_menu(ctx, intro=[Reply(ctx.t("您负责的单位目前没有待办理的建议。"))])
    return _queue(ctx, {})


FLOWS: tuple[Flow, ...] = (
    REVIEW_QUEUE,
    QUEUE_CATEGORY,
    SUGGESTION_VIEW,
    REGISTER,
    FIRST_REVIEW,
    PANEL_REVIEW,
    DECIDE,
    START,
    EFFECT,
    AWARD,
    MERGE,
    REPLY,
    CLOSE,
)

REVIEW = Feature(
    name="review_suggestions",
    rank=100,
    section=MenuSection.SUGGESTIONS,
    label=N_("建议办理"),
    summary=N_("登记、评审、决定和答复您负责单位的合理化建议"),
    words=(
        "/review",
        "建议办理",
        "建議辦理",
        "建议审核",
        "建議審核",
        "审核建议",
        "審核建議",
        "办理建议",
        "辦理建議",
        "review suggestions",
    ),
    run=_review,
    available=can_review,
)
