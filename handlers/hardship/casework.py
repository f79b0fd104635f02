"""帮扶办理: the cadre's queue of hardship cases and every step a case goes through.

A cadre with ``HANDLE_HARDSHIP`` opens 帮扶办理 and sees the open cases of the
units they answer for, overdue and urgent first, with how many are open, urgent
and late. Opening one (each opening is audited) shows it in full — the story,
the household, the visits' "四清", the decisions and the help given — and the
steps its stage allows. Each step is a short form ending in a summary to
confirm, written with the version the cadre saw (:mod:`handlers.core.actions`):
when a colleague acted meanwhile, the cadre is told and sees the case as it now
stands. What the cadre writes about the family is sealed in the form's row as
soon as it is typed, as the member's own answers are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from handlers.core.actions import Seen, VersionedActions, stale, view_data
from handlers.core.context import Context
from handlers.core.dialogs import Ask, Choose, Confirm, Data, DateStep, Flow, Invalid, Option, Yuan
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.core.parsing import normalise, parse_index
from handlers.hardship.report import ManyChoices, SealedAsk, can_handle, opened
from models.errors import N_
from models.facts import Fact
from models.hardship import (
    CATEGORY_LABELS,
    DEADLINE_LABELS,
    HELP_LABELS,
    STATUS_LABELS,
    Action,
    CaseStatus,
    CaseView,
    Conflict,
    DecisionRecord,
    HardshipCase,
    HardshipPolicy,
    HelpKind,
    VisitRecord,
    allowed_actions,
    close_case,
    decide_case,
    keep_under_review,
    open_case,
    record_contact,
    record_disbursement,
    record_visit,
)
from models.hardship.cases import (
    FOUR_CLEAR_MAX,
    FUND_MAX,
    GOODS_MAX,
    NOTE_MAX,
    REASON_MAX,
    VISITORS_MAX,
    wrong_stage,
)
from models.hardship.photos import view_copy
from models.hardship.queries import QueueCounts, QueueEntry, case_queue, parse_case_number, queue_counts
from models.members import Member, format_yuan
from models.roles import RoleGrant
from models.units import Unit, unit_path

STALE = "stale"
PHOTOS = "photos"
PHOTO_COUNT = "photo_count"
"""Form data key: how many document photos the case shown has, so its steps offer 查看证明材料."""
KEPT = ("page",)

ACTION_LABELS: dict[Action, str] = {
    Action.CONTACT: N_("记录联系"),
    Action.VISIT: N_("记录走访"),
    Action.DECIDE: N_("帮扶决定"),
    Action.DISBURSE: N_("登记发放"),
    Action.REVIEW: N_("动态管理"),
    Action.CLOSE: N_("办结"),
}


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _policy(ctx: Context) -> HardshipPolicy:
    return ctx.config.policy(HardshipPolicy)


def _today(ctx: Context) -> date:
    return _policy(ctx).today(ctx.now)


def _yuan(ctx: Context, fen: int) -> str:
    return ctx.t("{amount} 元").format(amount=format_yuan(fen))


def _due(ctx: Context, case: HardshipCase) -> str:
    if case.due_on is None or case.deadline is None:
        return ""
    text = ctx.t("{step}期限：{date}").format(
        step=ctx.t(DEADLINE_LABELS[case.deadline]), date=case.due_on.isoformat()
    )
    late = (_today(ctx) - case.due_on).days
    if late > 0:
        text += ctx.t.ngettext("（已超期 {days} 天）", "（已超期 {days} 天）", late).format(days=late)
    return text


# --------------------------------------------------------------------------- the queue


def _entry(ctx: Context, number: int, entry: QueueEntry) -> str:
    case = entry.case
    state = [ctx.t("紧急")] if case.urgent else []
    state.append(ctx.t(STATUS_LABELS[case.status]))
    if due := _due(ctx, case):
        state.append(due)
    return "\n".join(
        [
            ctx.t("{index}. {number} {name}（{unit}）").format(
                index=number,
                number=case.number,
                name=entry.member_name,
                unit=unit_path(ctx.session, entry.unit),
            ),
            "   " + "　".join(state),
        ]
    )


# 帮扶办理 asks whether anything is open, then shows the counts and a page: each read once per message.
_QUEUE_COUNTS = Fact[tuple[Any, ...], QueueCounts](
    "hardship queue counts", {HardshipCase: None, RoleGrant: None}
)
_QUEUE_PAGES = Fact[tuple[Any, ...], tuple[int, Sequence[QueueEntry]]](
    "hardship queue pages", {HardshipCase: None, RoleGrant: None, Unit: None}
)


def _counts(ctx: Context) -> QueueCounts:
    today = _today(ctx)
    return _QUEUE_COUNTS.recall(
        ctx.session,
        (_actor(ctx).id, today),
        lambda: queue_counts(ctx.session, actor=_actor(ctx), today=today),
    )


@dataclass(frozen=True)
class QueueStep(PagedList[QueueEntry]):
    """A page of the queue: the counts first, then each case with its urgency, stage and deadline."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[QueueEntry], int]:
        total, rows = _QUEUE_PAGES.recall(
            ctx.session,
            (_actor(ctx).id, _today(ctx), offset, limit),
            lambda: case_queue(ctx.session, actor=_actor(ctx), today=_today(ctx), offset=offset, limit=limit),
        )
        return rows, total

    def item(self, ctx: Context, item: QueueEntry) -> Option:
        return Option(f"c:{item.case.id}", f"{item.case.number} {item.member_name}", literal=True)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        """A choice of the page, or a case by its number (KN-2026-000012, KN12)."""
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            text = ctx.incoming.text or ""
            case_id = parse_case_number(text) if parse_index(text) is None else None
            if case_id is None:
                raise
            return f"c:{case_id}"

    def text(self, ctx: Context, data: Data, page: Page[QueueEntry]) -> str:
        _ = ctx.t
        counts = _counts(ctx)
        lines = [
            _("待办帮扶申请 {open} 件，其中紧急 {urgent} 件，超期 {overdue} 件。").format(
                open=counts.open, urgent=counts.urgent, overdue=counts.overdue
            )
        ]
        if page.total:
            lines.append(_("第 {page}/{pages} 页：").format(page=page.number, pages=page.pages))
            lines += [_entry(ctx, number, row) for number, row in enumerate(page.items, start=1)]
            lines.append(_("请选择要办理的申请（也可以直接回复编号）："))
        return "\n".join(lines)


def _queue(ctx: Context, data: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    if _counts(ctx).open == 0:
        return show_menu(ctx, intro=[*intro, Reply(ctx.t("您负责的单位目前没有待办理的帮扶申请。"))])
    return ctx.dialogs.start(ctx, QUEUE, data={"page": data.get("page", 1)}, intro=intro)


def _picked(ctx: Context, data: Data) -> list[Reply]:
    _kind, _, value = str(data["pick"]).partition(":")
    return _open(ctx, int(value), {"page": data.get("page", 1)})


QUEUE = paged_flow(
    name="hardship_queue",
    steps=(QueueStep("pick", N_("请选择要办理的申请："), options=()),),
    on_pick=_picked,
    quiet_timeout=True,
    browse=True,
)


# --------------------------------------------------------------------------- one case


def _visit_lines(ctx: Context, view: CaseView) -> list[str]:
    _ = ctx.t
    lines: list[str] = []
    for visit in view.visits:
        lines.append(
            _("走访（{date}，{visitors}）：").format(
                date=visit.visited_on.isoformat(), visitors=visit.visitors
            )
        )
        lines.append(_("  家庭情况：{text}").format(text=visit.family or ""))
        lines.append(_("  思想状况：{text}").format(text=visit.mind or ""))
        lines.append(_("  困难原因：{text}").format(text=visit.cause or ""))
        lines.append(_("  生活需求：{text}").format(text=visit.needs or ""))
        if visit.notes:
            lines.append(_("  备注：{text}").format(text=visit.notes))
    return lines


def _what(ctx: Context, amount_fen: int | None, goods: str | None) -> str:
    parts = []
    if amount_fen is not None:
        parts.append(_yuan(ctx, amount_fen))
    if goods:
        parts.append(goods)
    return "，".join(parts) or "—"


def _name(ctx: Context, member_id: int) -> str:
    member = ctx.session.get(Member, member_id)
    return member.name if member is not None else ""


def view_text(ctx: Context, view: CaseView) -> str:
    """The case in full as its cadre reads it."""
    _ = ctx.t
    case = view.case
    household = case.household_size
    income = case.income_fen
    lines = [
        _("【{number}】{category}{urgent}").format(
            number=case.number,
            category=_(CATEGORY_LABELS[case.category]),
            urgent=_("（紧急）") if case.urgent else "",
        ),
    ]
    if view.member is not None:
        lines.append(
            _("申请人：{name}（工号 {employee_no}），{unit}").format(
                name=view.member.name,
                employee_no=view.member.employee_no,
                unit=unit_path(ctx.session, view.unit),
            )
        )
    else:
        lines.append(_("单位：{unit}").format(unit=unit_path(ctx.session, view.unit)))
    if view.filed_by is not None:
        lines.append(_("代为申报：{name}").format(name=view.filed_by.name))
    if case.erased_at is not None:
        lines.append(_("个人信息已按保存期限删除。"))
    else:
        lines += [
            _("情况说明：{story}").format(story=case.story or ""),
            _("家庭人口：{count} 人，家庭月收入：{income}").format(
                count=household if household is not None else "—",
                income=_yuan(ctx, income) if income is not None else "—",
            ),
            _("联系方式：{contact}").format(contact=case.contact_way or ""),
        ]
    lines.append(
        _("希望得到的帮助：{kinds}").format(kinds="、".join(_(HELP_LABELS[kind]) for kind in case.help_kinds))
    )
    if view.photos:
        count = len(view.photos)
        lines.append(
            _.ngettext("证明材料照片：{count} 张", "证明材料照片：{count} 张", count).format(count=count)
        )
    state = _("状态：{state}").format(state=_(STATUS_LABELS[case.status]))
    if due := _due(ctx, case):
        state += "　" + due
    lines.append(state)
    if case.contacted_at is not None:
        contacted = case.contacted_at.astimezone(_policy(ctx).zone).date().isoformat()
        lines.append(_("首次联系：{date}").format(date=contacted))
        if case.contact_note:
            lines.append(_("  联系情况：{note}").format(note=case.contact_note))
    lines += _visit_lines(ctx, view)
    for decision in view.decisions:
        kinds = "、".join(_(HELP_LABELS[HelpKind(kind)]) for kind in decision.kinds)
        lines.append(
            _("帮扶决定（{date}）：{kinds}，{what}，来源：{fund}").format(
                date=decision.decided_at.astimezone(_policy(ctx).zone).date().isoformat(),
                kinds=kinds,
                what=_what(ctx, decision.amount_fen, decision.goods),
                fund=decision.fund,
            )
        )
        if decision.reason:
            lines.append(_("  理由：{reason}").format(reason=decision.reason))
    if view.disbursements:
        lines.append(_("已发放："))
        lines += [
            _("· {date} {what}（{fund}，{handler}经办）").format(
                date=given.given_on.isoformat(),
                what=_what(ctx, given.amount_fen, given.goods),
                fund=given.fund,
                handler=_name(ctx, given.handled_by_id),
            )
            for given in view.disbursements
        ]
    if case.close_note:
        lines.append(_("办结说明：{note}").format(note=case.close_note))
    return "\n".join(lines)


def _photos(ctx: Context, view: CaseView) -> list[Reply]:
    replies = []
    for index, photo in enumerate(view.photos, start=1):
        copy = view_copy(photo.path) if photo.path else None
        if copy is None:
            continue
        replies.append(
            Reply(
                ctx.t("证明材料 {index}/{count}").format(index=index, count=len(view.photos)),
                image=OutgoingFile(str(copy), Path(copy).name, photo.mime_type),
            )
        )
    return replies


def _view(ctx: Context, case_id: int) -> CaseView:
    return open_case(ctx.session, actor=_actor(ctx), case_id=case_id, channel=ctx.incoming.channel)


def _open(ctx: Context, case_id: int, queue: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    view = _view(ctx, case_id)
    data = {**queue, **view_data(case_id, view.case.version), PHOTO_COUNT: len(view.photos)}
    return ctx.dialogs.start(ctx, CASE_VIEW, data=data, intro=[*intro, Reply(view_text(ctx, view))])


def _reopen(ctx: Context, data: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    return _open(ctx, int(data["id"]), {key: data[key] for key in KEPT if key in data}, intro)


def _case(ctx: Context, data: Data) -> HardshipCase:
    case = ctx.session.get(HardshipCase, int(data["id"]))
    assert case is not None
    return case


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    case = _case(ctx, data)
    options = [Option(action.value, ACTION_LABELS[action]) for action in allowed_actions(case)]
    if data.get(PHOTO_COUNT):
        options.append(Option(PHOTOS, N_("查看证明材料"), aliases=("查看照片", "照片", "photos")))
    options.append(Option("list", N_("返回列表")))
    return options


@dataclass(frozen=True)
class ActionStep(Choose):
    """The steps the stage allows; a colleague's step since the view was shown is said first."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        case = _case(ctx, data)
        moved = stale(data, case.version)
        try:
            action = super().accept(ctx, flow, data)
        except Invalid:
            said = normalise(ctx.incoming.text or "")
            named = any(
                said in {normalise(label), normalise(ctx.t(label))} for label in ACTION_LABELS.values()
            )
            if not named:
                raise
            if moved:
                return STALE
            raise Invalid.from_error(wrong_stage(case)) from None
        if action not in ("list", PHOTOS) and moved:
            return STALE
        return action


def _acted(ctx: Context, data: Data) -> list[Reply]:
    action = data["action"]
    if action == "list":
        return _queue(ctx, data)
    if action == PHOTOS:
        view = _view(ctx, int(data["id"]))
        kept = {key: value for key, value in data.items() if key != "action"}
        return ctx.dialogs.start(ctx, CASE_VIEW, data=kept, intro=_photos(ctx, view))
    if action == STALE:
        case = _case(ctx, data)
        moved = ctx.t("这件申请刚刚被其他干部处理过，现在是“{status}”。以下是最新情况，请重新选择。").format(
            status=ctx.t(STATUS_LABELS[case.status])
        )
        return _reopen(ctx, data, [Reply(moved)])
    return STEPS.start(ctx, FORMS[Action(action)], data)


CASE_VIEW = Flow(
    name="hardship_case",
    steps=(ActionStep("action", N_("请选择要办理的事项："), options=_action_options),),
    on_done=_acted,
    browse=True,
)


# --------------------------------------------------------------------------- the steps


def _title(ctx: Context, data: Data) -> str:
    return ctx.t("【{number}】").format(number=_case(ctx, data).number)


STEPS = VersionedActions[HardshipCase](
    conflict=Conflict,
    reopen=_reopen,
    leave=_queue,
    finished=lambda case: case.status is CaseStatus.CLOSED,
    heading=_title,
    keep=KEPT,
)


def _channel(ctx: Context) -> str:
    return ctx.incoming.channel


# 记录联系


def _contact(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    return record_contact(
        ctx.session,
        actor=_actor(ctx),
        case_id=seen.id,
        expected_version=seen.version,
        note=opened(data["note"]),
        policy=_policy(ctx),
        now=ctx.now,
        channel=_channel(ctx),
    )


CONTACT = STEPS.flow(
    "hardship_contact",
    asks=(
        SealedAsk(
            "note",
            N_("请简要记录这次联系的情况（不超过 1000 字）："),
            max_length=NOTE_MAX,
            label=N_("联系情况"),
        ),
    ),
    confirm=Confirm(
        summary=STEPS.summary(
            N_("记录首次联系："),
            lambda ctx, data: [ctx.t("联系情况：{note}").format(note=opened(data["note"]))],
        )
    ),
    act=_contact,
    said=lambda ctx, data, case: ctx.t("已记录首次联系。请在 {date} 前完成走访。").format(
        date=case.visit_due_on.isoformat()
    ),
)


# 记录走访


def _visit_lines_of(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    lines = [
        _("走访日期：{date}").format(date=data["visited_on"]),
        _("走访人：{visitors}").format(visitors=data["visitors"]),
        _("家庭情况：{text}").format(text=opened(data["family"])),
        _("思想状况：{text}").format(text=opened(data["mind"])),
        _("困难原因：{text}").format(text=opened(data["cause"])),
        _("生活需求：{text}").format(text=opened(data["needs"])),
    ]
    if data.get("notes"):
        lines.append(_("备注：{text}").format(text=opened(data["notes"])))
    return lines


def _visit(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    return record_visit(
        ctx.session,
        actor=_actor(ctx),
        case_id=seen.id,
        expected_version=seen.version,
        visit=VisitRecord(
            visited_on=date.fromisoformat(data["visited_on"]),
            visitors=data["visitors"],
            family=opened(data["family"]),
            mind=opened(data["mind"]),
            cause=opened(data["cause"]),
            needs=opened(data["needs"]),
            notes=opened(data["notes"]) if data.get("notes") else None,
        ),
        policy=_policy(ctx),
        now=ctx.now,
        channel=_channel(ctx),
    )


def _four(key: str, question: str, label: str) -> SealedAsk:
    return SealedAsk(key, question, max_length=FOUR_CLEAR_MAX, label=label)


VISIT = STEPS.flow(
    "hardship_visit",
    asks=(
        DateStep(
            "visited_on",
            N_("哪天走访的？（例如“今天”或“12月5日”）"),
            latest=lambda today: today,
            label=N_("走访日期"),
        ),
        Ask("visitors", N_("走访人是谁？（几位请用顿号隔开）"), max_length=VISITORS_MAX, label=N_("走访人")),
        _four("family", N_("请写下家庭情况（家庭成员、住房、收入来源等，不超过 500 字）："), N_("家庭情况")),
        _four("mind", N_("请写下思想状况（本人和家人的情绪、想法）："), N_("思想状况")),
        _four("cause", N_("请写下困难原因："), N_("困难原因")),
        _four("needs", N_("请写下生活需求（最需要哪些帮助）："), N_("生活需求")),
        SealedAsk("notes", N_("还有什么要记下的吗？"), max_length=NOTE_MAX, optional=True, label=N_("备注")),
    ),
    confirm=Confirm(summary=STEPS.summary(N_("记录走访："), _visit_lines_of)),
    act=_visit,
    said=lambda ctx, data, case: ctx.t("走访已记录。请在 {date} 前作出帮扶决定。").format(
        date=case.due_on.isoformat() if case.due_on else ""
    ),
)


# 帮扶决定

HELP_OPTIONS = tuple(Option(kind.value, label) for kind, label in HELP_LABELS.items())


def _goods(data: Data) -> str | None:
    goods = data.get("goods")
    return str(goods) if goods else None


def _decide_lines(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    kinds = "、".join(_(HELP_LABELS[HelpKind(kind)]) for kind in data["kinds"])
    return [
        _("帮扶方式：{kinds}").format(kinds=kinds),
        _("金额或物品：{what}").format(what=_what(ctx, data.get("amount"), _goods(data))),
        _("资金来源：{fund}").format(fund=data["fund"]),
        _("理由：{reason}").format(reason=opened(data["reason"])),
    ]


def _decide(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    return decide_case(
        ctx.session,
        actor=_actor(ctx),
        case_id=seen.id,
        expected_version=seen.version,
        decision=DecisionRecord(
            kinds=[HelpKind(kind) for kind in data["kinds"]],
            amount_fen=data.get("amount"),
            goods=_goods(data),
            fund=data["fund"],
            reason=opened(data["reason"]),
        ),
        policy=_policy(ctx),
        now=ctx.now,
        channel=_channel(ctx),
    )


DECIDE = STEPS.flow(
    "hardship_decide",
    asks=(
        ManyChoices("kinds", N_("决定给予哪些帮扶？"), options=HELP_OPTIONS, label=N_("帮扶方式")),
        Yuan("amount", N_("金额多少元？"), optional=True, label=N_("金额")),
        Ask("goods", N_("发放什么物品？"), max_length=GOODS_MAX, optional=True, label=N_("物品")),
        Ask(
            "fund",
            N_("从哪项资金中列支？（例如“困难职工帮扶资金”）"),
            max_length=FUND_MAX,
            label=N_("资金来源"),
        ),
        SealedAsk("reason", N_("决定的理由："), max_length=REASON_MAX, label=N_("理由")),
    ),
    confirm=Confirm(summary=STEPS.summary(N_("帮扶决定："), _decide_lines)),
    act=_decide,
    said=lambda ctx, data, case: ctx.t("帮扶决定已记录，已通知申请人有新进展。"),
)


# 登记发放


def _disburse_lines(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    return [
        _("发放日期：{date}").format(date=data["given_on"]),
        _("金额或物品：{what}").format(what=_what(ctx, data.get("amount"), _goods(data))),
        _("资金来源：{fund}").format(fund=data["fund"]),
    ]


def _disburse(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    case = _case(ctx, data)
    assert case.member_id is not None
    record_disbursement(
        ctx.session,
        actor=_actor(ctx),
        member_id=case.member_id,
        case_id=seen.id,
        campaign_id=None,
        given_on=date.fromisoformat(data["given_on"]),
        amount_fen=data.get("amount"),
        goods=_goods(data),
        fund=data["fund"],
        now=ctx.now,
        expected_version=seen.version,
        channel=_channel(ctx),
        policy=_policy(ctx),
    )
    return _case(ctx, data)


DISBURSE = STEPS.flow(
    "hardship_disburse",
    asks=(
        DateStep(
            "given_on", N_("哪天发放的？（例如“今天”）"), latest=lambda today: today, label=N_("发放日期")
        ),
        Yuan("amount", N_("发放金额多少元？"), optional=True, label=N_("金额")),
        Ask("goods", N_("发放了什么物品？"), max_length=GOODS_MAX, optional=True, label=N_("物品")),
        Ask("fund", N_("从哪项资金中列支？"), max_length=FUND_MAX, label=N_("资金来源")),
    ),
    confirm=Confirm(summary=STEPS.summary(N_("登记发放："), _disburse_lines)),
    act=_disburse,
    said=lambda ctx, data, case: ctx.t("发放已登记，已通知申请人有新进展。"),
)


# 动态管理


def _review(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    return keep_under_review(
        ctx.session,
        actor=_actor(ctx),
        case_id=seen.id,
        expected_version=seen.version,
        next_review_on=date.fromisoformat(data["next_review_on"]),
        policy=_policy(ctx),
        now=ctx.now,
        channel=_channel(ctx),
    )


REVIEW = STEPS.flow(
    "hardship_review",
    asks=(
        DateStep(
            "next_review_on",
            N_("转入动态管理。下次回访定在哪天？（例如“6月1日”）"),
            earliest=lambda today: today + timedelta(days=1),
            label=N_("下次回访"),
        ),
    ),
    confirm=Confirm(
        summary=STEPS.summary(
            N_("转入动态管理："),
            lambda ctx, data: [ctx.t("下次回访：{date}").format(date=data["next_review_on"])],
        )
    ),
    act=_review,
    said=lambda ctx, data, case: ctx.t("已转入动态管理，回访前一个工作日会提醒您。"),
)


# 办结


def _close(ctx: Context, data: Data, seen: Seen) -> HardshipCase:
    return close_case(
        ctx.session,
        actor=_actor(ctx),
        case_id=seen.id,
        expected_version=seen.version,
        note=opened(data["note"]),
        now=ctx.now,
        channel=_channel(ctx),
    )


CLOSE = STEPS.flow(
    "hardship_close",
    asks=(
        SealedAsk(
            "note",
            N_("请写明办结的原因（例如“困难已解决”“不符合条件”）："),
            max_length=NOTE_MAX,
            label=N_("办结说明"),
        ),
    ),
    confirm=Confirm(
        summary=STEPS.summary(
            N_("办结："), lambda ctx, data: [ctx.t("办结说明：{note}").format(note=opened(data["note"]))]
        )
    ),
    act=_close,
    said=lambda ctx, data, case: ctx.t("{number} 已办结。").format(number=case.number),
)

FORMS: dict[Action, Flow] = {
    Action.CONTACT: CONTACT,
    Action.VISIT: VISIT,
    Action.DECIDE: DECIDE,
    Action.DISBURSE: DISBURSE,
    Action.REVIEW: REVIEW,
    Action.CLOSE: CLOSE,
}


def _casework(ctx: Context, arg: str) -> list[Reply]:
    case_id = parse_case_number(arg) if arg.strip() else None
    if case_id is not None:
        return _open(ctx, case_id, {"page": 1})
    return _queue(ctx, {})


FLOWS: tuple[Flow, ...] = (QUEUE, CASE_VIEW, CONTACT, VISIT, DECIDE, DISBURSE, REVIEW, CLOSE)

CASEWORK = Feature(
    name="hardship_casework",
    rank=105,
    section=MenuSection.HARDSHIP,
    label=N_("帮扶办理"),
    summary=N_("联系、走访、决定和发放您负责单位的困难帮扶申请"),
    words=("/cases", "帮扶办理", "幫扶辦理", "办理帮扶", "辦理幫扶", "hardship cases"),
    run=_casework,
    available=can_handle,
)
