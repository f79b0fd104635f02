"""我的建议: where a member's suggestions stand, and the news of each step as it is taken.

Every step of a suggestion's handling reaches its proposer as a push
(:func:`render_update`); 我的建议 lists their suggestions a page at a time, then
those they backed (附议), and opens one: their own to its whole history, where an
anonymous proposer may also reveal their name; one they backed to what it
proposes and where it stands, never naming an anonymous proposer. A merged
suggestion names the one it went into and opens it, so "已合并" is no dead end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Invalid, Option, YesNo
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.core.parsing import parse_index
from handlers.core.pushes import Push
from handlers.suggestions.form import day_text, yuan_text
from models.errors import N_, InvalidInput
from models.members import Member
from models.outbox import PushRow
from models.suggestions import (
    AWARD_LABELS,
    FEASIBILITY_LABELS,
    STATUS_LABELS,
    Award,
    EventKind,
    Feasibility,
    MemberView,
    MyEntry,
    Stage,
    Suggestion,
    SuggestionEvent,
    SuggestionPolicy,
    history,
    local_date,
    member_view,
    my_suggestions,
    parse_suggestion_number,
    reveal_name,
    visible_by_number,
)

# A member reads the last few steps; the whole history of a long case would fill the screen.
HISTORY_SHOWN = 10


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def event_line(t: Translator, event: SuggestionEvent) -> str:
    """One step of a suggestion's history in the member's words (also the body of its push)."""
    params = event.params
    text = event.text or ""
    match event.kind:
        case EventKind.SUBMITTED:
            return t("提交建议")
        case EventKind.REGISTERED:
            return t("已登记，类别：{category}，承办部门：{department}").format(
                category=t(params.get("category", "")), department=params.get("department", "")
            )
        case EventKind.FIRST_REVIEW:
            return t("初评意见：{text}").format(text=text)
        case EventKind.PANEL_REVIEW:
            feasibility = t(FEASIBILITY_LABELS[Feasibility(params["feasibility"])])
            return t("评审意见（{feasibility}）：{text}").format(feasibility=feasibility, text=text)
        case EventKind.ADOPTED:
            return t("建议被采纳：{text}").format(text=text)
        case EventKind.NOT_ADOPTED:
            return t("建议未被采纳，理由：{text}").format(text=text)
        case EventKind.IMPLEMENTATION_STARTED:
            return t("开始实施（{date}）：{text}").format(date=params.get("on", ""), text=text)
        case EventKind.EFFECT_RECORDED:
            return t("实施完成（{date}），创效 {amount}：{text}").format(
                date=params.get("on", ""), amount=yuan_text(t, int(params.get("value_fen") or 0)), text=text
            )
        case EventKind.AWARDED:
            return t("评为“{award}”，奖金 {amount}").format(
                award=t(AWARD_LABELS[Award(params["award"])]),
                amount=yuan_text(t, int(params.get("prize_fen") or 0)),
            )
        case EventKind.MERGED:
            return t("与 {number} 合并办理：{text}").format(number=params.get("into", ""), text=text)
        case EventKind.REPLIED:
            return t("答复：{text}").format(text=text)
        case EventKind.CLOSED:
            return t("办结")
        case EventKind.NAME_REVEALED:
            return t("公开了提出人姓名")
    return text


def render_update(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The proposer hears of each step: what happened, with the opinion or the reply written."""
    event = session.get(SuggestionEvent, int(row.params.get("event", 0)))
    suggestion = session.get(Suggestion, row.subject_id) if row.subject_id is not None else None
    if event is None or suggestion is None:
        return None
    text = t("您的建议 {number}“{title}”有新进展：\n{step}\n回复“我的建议”可以查看详情。").format(
        number=suggestion.number, title=suggestion.title, step=event_line(t, event)
    )
    return Push(title=t("建议办理进展"), reply=Reply(text), body=text)


def _status(ctx: Context, suggestion: Suggestion, merged_into: Suggestion | None) -> str:
    """Where it stands; a merged one says where it went."""
    if merged_into is not None:
        return ctx.t("已合并到 {number}“{title}”").format(number=merged_into.number, title=merged_into.title)
    return ctx.t(STATUS_LABELS[suggestion.status])


@dataclass(frozen=True)
class MineStep(PagedList[MyEntry]):
    """A page of the member's suggestions, each with where it stands; then the ones they backed.

    Besides its position, a suggestion may be picked by its number (JY-2026-000005, JY5).
    """

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[MyEntry], int]:
        found = my_suggestions(ctx.session, member=_actor(ctx), offset=offset, limit=limit)
        return found.entries, found.total

    def item(self, ctx: Context, item: MyEntry) -> Option:
        return Option(
            f"s:{item.suggestion.id}", f"{item.suggestion.number} {item.suggestion.title}", literal=True
        )

    def text(self, ctx: Context, data: Data, page: Page[MyEntry]) -> str:
        _ = ctx.t
        counts = my_suggestions(ctx.session, member=_actor(ctx), limit=0)
        lines = [
            _("我的建议（第 {page}/{pages} 页，共 {count} 条）：").format(
                page=page.number, pages=page.pages, count=page.total
            )
        ]
        heading: bool | None = None
        for number, entry in enumerate(page.items, start=1):
            if counts.backed and entry.own is not heading:
                heading = entry.own
                if entry.own:
                    lines.append(_("【我提的建议】共 {count} 条").format(count=counts.own))
                else:
                    lines.append(_("【我附议的建议】共 {count} 条").format(count=counts.backed))
            row = entry.suggestion
            lines.append(f"{number}. {row.number} {row.title}")
            lines.append("   " + _("状态：{status}").format(status=_status(ctx, row, entry.merged_into)))
        lines.append(_("请选择要查看的建议："))
        return "\n".join(lines)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            text = ctx.incoming.text or ""
            year = ctx.config.policy(SuggestionPolicy).today(ctx.now).year
            number = parse_suggestion_number(text, year=year) if parse_index(text) is None else None
            found = visible_by_number(ctx.session, member=_actor(ctx), number=number) if number else None
            if found is None:
                raise
            return f"s:{found}"


def _history_lines(ctx: Context, suggestion: Suggestion) -> list[str]:
    _ = ctx.t
    zone = ctx.config.timezone
    assert suggestion.id is not None
    events = history(ctx.session, suggestion.id)
    lines = [_("办理经过：")]
    if len(events) > HISTORY_SHOWN:
        lines.append(_("（前面还有 {count} 步，这里只列出最近的）").format(count=len(events) - HISTORY_SHOWN))
    for event in events[-HISTORY_SHOWN:]:
        lines.append(f"{event.at.astimezone(zone).strftime('%m-%d')} {event_line(_, event)}")
    return lines


def _deadline(ctx: Context, suggestion: Suggestion, status: str) -> str:
    """The status with the date the union owes the next step by, as the proposer was promised."""
    _ = ctx.t
    if suggestion.due_on is None:
        return status
    if suggestion.stage is Stage.REGISTER:
        return _("{status}（应在 {date} 前登记）").format(status=status, date=day_text(_, suggestion.due_on))
    if suggestion.stage is Stage.DECIDE:
        return _("{status}（应在 {date} 前作出决定）").format(
            status=status, date=day_text(_, suggestion.due_on)
        )
    if suggestion.stage is Stage.IMPLEMENT:
        return _("{status}（应在 {date} 前开始实施）").format(
            status=status, date=day_text(_, suggestion.due_on)
        )
    return status


def _detail(ctx: Context, view: MemberView) -> str:
    _ = ctx.t
    suggestion = view.suggestion
    zone = ctx.config.timezone
    lines = [
        _("【我的建议】{number}").format(number=suggestion.number),
        _("标题：{title}").format(title=suggestion.title),
        _("类别：{category}").format(category=_(suggestion.category)),
        _("提交时间：{date}").format(date=suggestion.submitted_at.astimezone(zone).strftime("%Y-%m-%d")),
    ]
    if suggestion.anonymous:
        lines.append(_("提交方式：匿名（评审人员看不到您的姓名）"))
    status = _deadline(ctx, suggestion, _status(ctx, suggestion, view.merged_into))
    lines.append(_("状态：{status}").format(status=status))
    if view.merged_into is not None:
        lines.append(_("您已转为那条建议的附议人，它的进展可以在“我附议的建议”里查看。"))
    if suggestion.opinion:
        lines.append(_("最新意见：{text}").format(text=suggestion.opinion))
    if suggestion.reply:
        lines.append(_("工会答复：{text}").format(text=suggestion.reply))
    lines += _history_lines(ctx, suggestion)
    return "\n".join(lines)


def _backed_detail(ctx: Context, view: MemberView) -> str:
    """A suggestion the member backed: what it proposes and where it stands, not its proposer's letters."""
    _ = ctx.t
    suggestion = view.suggestion
    proposer = view.proposer.name if view.proposer is not None else _("匿名")
    lines = [
        _("【我附议的建议】{number}").format(number=suggestion.number),
        _("标题：{title}").format(title=suggestion.title),
        _("类别：{category}").format(category=_(suggestion.category)),
        _("提出人：{proposer}").format(proposer=proposer),
        _("状态：{status}").format(
            status=_deadline(ctx, suggestion, _status(ctx, suggestion, view.merged_into))
        ),
        _("问题和建议措施：{measure}").format(measure=suggestion.measure),
        _("附议：{count} 人").format(count=view.supporters),
    ]
    if view.backed_at is not None:
        lines.append(
            _("您在 {date} 附议了这条建议。").format(
                date=day_text(_, local_date(view.backed_at, ctx.config.timezone))
            )
        )
    return "\n".join(lines)


def _mine_picked(ctx: Context, data: Data) -> list[Reply]:
    _, _, value = str(data["pick"]).partition(":")
    return _show(ctx, int(value), int(data.get("page", 1)))


def _show(ctx: Context, suggestion_id: int, page: int, intro: Sequence[Reply] = ()) -> list[Reply]:
    view = member_view(ctx.session, member=_actor(ctx), suggestion_id=suggestion_id)
    text = _detail(ctx, view) if view.own else _backed_detail(ctx, view)
    data = {"suggestion_id": suggestion_id, "page": page}
    return ctx.dialogs.start(ctx, DETAIL, data=data, intro=[*intro, Reply(text)])


MINE = paged_flow(
    name="my_suggestions",
    steps=(MineStep("pick", N_("请选择要查看的建议：")),),
    on_pick=_mine_picked,
    quiet_timeout=True,
    browse=True,
)


def _detail_options(ctx: Context, data: Data) -> Sequence[Option]:
    view = member_view(ctx.session, member=_actor(ctx), suggestion_id=int(data["suggestion_id"]))
    options = []
    if view.merged_into is not None:
        label = ctx.t("查看 {number}").format(number=view.merged_into.number)
        options.append(Option(f"open:{view.merged_into.id}", label, literal=True, aliases=("查看", "open")))
    if view.own and view.suggestion.anonymous:
        options.append(Option("reveal", N_("公开我的姓名"), aliases=("公開我的姓名", "reveal my name")))
    options.append(Option("list", N_("返回列表")))
    return options


def _detail_acted(ctx: Context, data: Data) -> list[Reply]:
    suggestion_id, page = int(data["suggestion_id"]), int(data.get("page", 1))
    action = str(data["action"])
    if action == "list":
        return ctx.dialogs.start(ctx, MINE, data={"page": page})
    if action.startswith("open:"):
        return _show(ctx, int(action.removeprefix("open:")), page)
    if not data.get("sure"):
        return _show(ctx, suggestion_id, page, intro=[Reply(ctx.t("好的，这条建议仍然匿名。"))])
    try:
        reveal_name(ctx.session, actor=_actor(ctx), suggestion_id=suggestion_id, now=ctx.now)
        text = ctx.t("已公开您的姓名，评审人员现在能看到是您提的建议。")
    except InvalidInput as error:
        text = ctx.t.error(error)
    return _show(ctx, suggestion_id, page, intro=[Reply(text)])


DETAIL = Flow(
    name="my_suggestion",
    steps=(
        Choose("action", N_("接下来要做什么？"), options=_detail_options),
        YesNo(
            "sure",
            N_("公开后，评审人员能看到是您提的这条建议，而且不能再改回匿名。确定公开吗？"),
            skip_if=lambda data: data.get("action") != "reveal",
        ),
    ),
    on_done=_detail_acted,
    browse=True,
)


def _mine(ctx: Context, arg: str) -> list[Reply]:
    if my_suggestions(ctx.session, member=_actor(ctx), limit=0).total == 0:
        text = ctx.t("您还没有提过建议。回复“提建议”，一分钟就能提一条。")
        return show_menu(ctx, intro=[Reply(text)])
    return ctx.dialogs.start(ctx, MINE, data={"page": 1})


FLOWS: tuple[Flow, ...] = (MINE, DETAIL)

MY_SUGGESTIONS = Feature(
    name="my_suggestions",
    rank=30,
    label=N_("我的建议"),
    summary=N_("查看您提的和附议的建议办到了哪一步，以及工会的答复"),
    words=("/my_suggestions", "我的建议", "我的建議", "my suggestions"),
    run=_mine,
)
