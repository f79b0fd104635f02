"""我发的通知: a cadre sees how their notices went out and were read, and withdraws one not yet sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.notices.compose import can_send_notices
from handlers.notices.render import NOTICE_TAGS, figure, list_label, local_time, report_lines
from models.errors import N_
from models.members import Member
from models.notices import (
    Notice,
    NoticeStatus,
    authored_notices,
    can_withdraw,
    is_going_out,
    managed_notice,
    notice_report,
    withdraw_notice,
)


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _state_label(ctx: Context, notice: Notice) -> str:
    if notice.status is NoticeStatus.WITHDRAWN:
        return ctx.t("已撤回")
    if notice.send_at > ctx.now:
        return ctx.t("定于 {time} 发送").format(time=local_time(notice.send_at, ctx.config.timezone))
    if is_going_out(ctx.session, notice):
        return ctx.t("发送中")  # also while pushes wait out the quiet hours
    return ctx.t("已发出")


@dataclass(frozen=True)
class SentStep(PagedList[Notice]):
    """A page of the cadre's own notices, each with where it stands."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Notice], int]:
        return authored_notices(ctx.session, actor=_actor(ctx), offset=offset, limit=limit)

    def item(self, ctx: Context, item: Notice) -> Option:
        label = ctx.t("{label}（{state}）").format(label=list_label(ctx, item), state=_state_label(ctx, item))
        return Option(f"n:{item.id}", label, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Notice]) -> str:
        return ctx.t("我发的通知（第 {page}/{pages} 页，共 {count} 条），请选择一条查看情况：").format(
            page=page.number, pages=page.pages, count=page.total
        )


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
        ctx, NOTICE_ACTIONS, data={"notice_id": notice_id}, intro=[_report_reply(ctx, notice_id)]
    )


def _sent_picked(ctx: Context, data: Data) -> list[Reply]:
    _, _, value = str(data["pick"]).partition(":")
    return _show_notice_actions(ctx, int(value))


SENT_NOTICES = paged_flow(
    name="sent_notices",
    steps=(SentStep("pick", N_("请选择一条通知：")),),
    on_pick=_sent_picked,
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
        return ctx.dialogs.start(ctx, SENT_NOTICES, data={"page": 1})
    if action == "withdraw":
        if not data.get("sure"):
            return [Reply(ctx.t("好的，这条通知会照常发送。")), *_show_notice_actions(ctx, notice_id)]
        count = withdraw_notice(ctx.session, actor=_actor(ctx), notice_id=notice_id, now=ctx.now)
        text = ctx.t.ngettext(
            "已撤回这条通知，{count} 位会员不会收到它。", "已撤回这条通知，{count} 位会员不会收到它。", count
        ).format(count=figure(count))
        return show_menu(ctx, intro=[Reply(text)])
    return _show_notice_actions(ctx, notice_id)


NOTICE_ACTIONS = Flow(
    name="notice_action",
    steps=(
        Choose("action", N_("接下来要做什么？"), options=_action_options),
        YesNo(
            "sure",
            N_("确定要撤回这条通知吗？撤回后会员不会收到它，也不会在“通知公告”里看到。"),
            skip_if=lambda data: data.get("action") != "withdraw",
            keeps=N_("好的，这条通知会照常发送。"),
        ),
    ),
    on_done=_acted,
    browse=True,
)


def _sent(ctx: Context, arg: str) -> list[Reply]:
    _, total = authored_notices(ctx.session, actor=_actor(ctx), limit=0)
    if total == 0:
        return show_menu(ctx, intro=[Reply(ctx.t("您还没有发过通知。回复“发通知”可以写一条。"))])
    return ctx.dialogs.start(ctx, SENT_NOTICES, data={"page": 1})


SENT = Feature(
    name="sent_notices",
    rank=70,
    section=MenuSection.NOTICES,
    label=N_("我发的通知"),
    summary=N_("查看发送和阅读情况，撤回还没发出的通知"),
    words=("/sent", "我发的通知", "我發的通知", "已发通知", "sent"),
    run=_sent,
    available=can_send_notices,
)
