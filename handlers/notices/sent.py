"""我发的通知: a cadre sees how their notices went out and were read, and acts on one.

A notice not yet sent can be withdrawn. One that went out shows who has not read
it (未阅名单, with 工号 and unit, and what became of the push to each), and the
cadre may remind them: the count comes first, the reminder only after a yes, and
each round goes once however often it is confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.notices.compose import can_send_notices
from handlers.notices.render import NOTICE_TAGS, figure, list_label, local_time, report_lines
from models.errors import N_, InvalidInput
from models.members import Member
from models.notices import (
    Notice,
    NoticeStatus,
    Recipient,
    authored_notices,
    can_withdraw,
    is_going_out,
    managed_notice,
    notice_report,
    plan_reminder,
    remind_unread,
    unread_recipient,
    unread_recipients,
    withdraw_notice,
)
from models.outbox import OUTCOME_LABELS

# Names on one page of the unread list: a screen of them, with the page links and two choices below.
UNREAD_PAGE_SIZE = 10
REMIND_OPTION = Option("remind", N_("提醒未阅的人"), aliases=("提醒未閱的人", "提醒", "remind"))


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
        *report_lines(ctx.t, report, ctx.config.timezone),
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


def _has_unread(ctx: Context, notice: Notice) -> bool:
    """Whether the notice went out and someone has not read it: when the unread list means something."""
    if notice.status is NoticeStatus.WITHDRAWN or notice.send_at > ctx.now:
        return False
    assert notice.id is not None
    return unread_recipients(ctx.session, actor=_actor(ctx), notice_id=notice.id, limit=0)[1] > 0


def _action_options(ctx: Context, data: Data) -> Sequence[Option]:
    notice = managed_notice(ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]))
    options = []
    if can_withdraw(ctx.session, notice, ctx.now):
        options.append(Option("withdraw", N_("撤回这条通知")))
    if _has_unread(ctx, notice):
        options.append(Option("unread", N_("未阅名单"), aliases=("未閱名單", "who has not read it")))
        if not is_going_out(ctx.session, notice):
            options.append(REMIND_OPTION)
    options += [Option("refresh", N_("刷新")), Option("list", N_("返回列表"))]
    return options


def _acted(ctx: Context, data: Data) -> list[Reply]:
    notice_id = int(data["notice_id"])
    action = data["action"]
    if action == "list":
        return ctx.dialogs.start(ctx, SENT_NOTICES, data={"page": 1})
    if action == "unread":
        return _show_unread(ctx, notice_id, 1)
    if action == "remind":
        return _ask_reminder(ctx, notice_id, page=None)
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


# -- 未阅名单 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnreadStep(PagedList[Recipient]):
    """A page of the members who have not read the notice, each with 工号 and unit."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Recipient], int]:
        return unread_recipients(
            ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]), offset=offset, limit=limit
        )

    def item(self, ctx: Context, item: Recipient) -> Option:
        label = ctx.t("{name}（{employee_no}，{unit}）").format(
            name=item.name, employee_no=item.employee_no, unit=item.unit
        )
        return Option(f"m:{item.member_id}", label, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Recipient]) -> str:
        if page.total == 0:
            return ctx.t("收到这条通知的会员都已阅读。")
        return ctx.t.ngettext(
            "还有 {count} 位会员没有阅读（第 {page}/{pages} 页）。选择一位可以查看通知推送的情况：",
            "还有 {count} 位会员没有阅读（第 {page}/{pages} 页）。选择一位可以查看通知推送的情况：",
            page.total,
        ).format(count=figure(page.total), page=page.number, pages=page.pages)


def _unread_options(ctx: Context, data: Data) -> Sequence[Option]:
    notice = managed_notice(ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]))
    _, unread = unread_recipients(ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]), limit=0)
    remind = [REMIND_OPTION] if unread and not is_going_out(ctx.session, notice) else []
    return [*remind, Option("back", N_("返回"), aliases=("返回通知", "back"))]


def _show_unread(ctx: Context, notice_id: int, page: int, intro: Sequence[Reply] = ()) -> list[Reply]:
    return ctx.dialogs.start(ctx, UNREAD, data={"notice_id": notice_id, "page": page}, intro=intro)


def _recipient_reply(ctx: Context, notice_id: int, member_id: int) -> Reply:
    """One member who has not read the notice, and how the notice was pushed to them."""
    recipient, outcome = unread_recipient(
        ctx.session, actor=_actor(ctx), notice_id=notice_id, member_id=member_id
    )
    lines = [
        ctx.t("{name}（工号 {employee_no}，{unit}）还没有阅读这条通知。").format(
            name=recipient.name, employee_no=recipient.employee_no, unit=recipient.unit
        ),
        ctx.t("通知推送：{outcome}").format(
            outcome=ctx.t(OUTCOME_LABELS[outcome]) if outcome is not None else ctx.t("没有推送记录")
        ),
    ]
    return Reply("\n".join(lines))


def _unread_picked(ctx: Context, data: Data) -> list[Reply]:
    notice_id, page = int(data["notice_id"]), int(data.get("page", 1))
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "back":
        return _show_notice_actions(ctx, notice_id)
    if kind == "remind":
        return _ask_reminder(ctx, notice_id, page=page)
    return _show_unread(ctx, notice_id, page, intro=[_recipient_reply(ctx, notice_id, int(value))])


# 返回 or 取消 typed at the list leads back to the notice it is about, as the 返回 button does.
UNREAD = replace(
    paged_flow(
        name="notice_unread",
        steps=(UnreadStep("pick", N_("请选择："), options=_unread_options, size=UNREAD_PAGE_SIZE),),
        on_pick=_unread_picked,
        quiet_timeout=True,
        browse=True,
    ),
    on_cancel=lambda ctx: [],
    cancel_to=lambda ctx, data: _show_notice_actions(ctx, int(data["notice_id"])),
)


# -- 提醒未阅的人 ------------------------------------------------------------------------------------


def _back_to(ctx: Context, notice_id: int, page: int | None, intro: Sequence[Reply]) -> list[Reply]:
    """Back where the reminder was asked for: the unread list at its page, or the notice."""
    if page is not None:
        return _show_unread(ctx, notice_id, page, intro=intro)
    return [*intro, *_show_notice_actions(ctx, notice_id)]


def _ask_reminder(ctx: Context, notice_id: int, *, page: int | None) -> list[Reply]:
    """The count first: how many will be reminded, and how many no account can reach."""
    try:
        plan = plan_reminder(
            ctx.session,
            actor=_actor(ctx),
            notice_id=notice_id,
            now=ctx.now,
            template_kinds=ctx.config.template_kinds,
        )
    except InvalidInput as error:  # everyone read it meanwhile, or it was withdrawn
        return _back_to(ctx, notice_id, page, [Reply(ctx.t.error(error))])
    if plan.unreachable == plan.members:
        nobody = ctx.t.ngettext(
            "还没有阅读的 {count} 位会员都没有可用账号，提醒发不到，请另行通知。",
            "还没有阅读的 {count} 位会员都没有可用账号，提醒发不到，请另行通知。",
            plan.members,
        ).format(count=figure(plan.members))
        return _back_to(ctx, notice_id, page, [Reply(nobody)])
    data = {
        "notice_id": notice_id,
        "round": plan.round,
        "members": plan.members,
        "unreachable": plan.unreachable,
        "from_page": page,
    }
    return ctx.dialogs.start(ctx, REMIND, data=data)


def _unreachable_line(ctx: Context, count: int) -> str:
    if not count:
        return ""
    return ctx.t.ngettext(
        "其中 {count} 位没有可用账号，收不到提醒，请另行通知。",
        "其中 {count} 位没有可用账号，收不到提醒，请另行通知。",
        count,
    ).format(count=figure(count))


def _reminder_question(ctx: Context, data: Data) -> dict[str, Any]:
    notice = managed_notice(ctx.session, actor=_actor(ctx), notice_id=int(data["notice_id"]))
    count = int(data["members"])
    who = ctx.t.ngettext(
        "通知“{title}”还有 {count} 位会员没有阅读，将给他们每人发一条提醒（第 {round} 次）。",
        "通知“{title}”还有 {count} 位会员没有阅读，将给他们每人发一条提醒（第 {round} 次）。",
        count,
    ).format(title=notice.title, count=figure(count), round=data["round"])
    return {"who": who, "unreachable": _unreachable_line(ctx, int(data["unreachable"]))}


def _reminded(ctx: Context, data: Data) -> list[Reply]:
    notice_id, page = int(data["notice_id"]), data.get("from_page")
    if not data["sure"]:
        return _back_to(ctx, notice_id, page, [Reply(ctx.t("好的，不发提醒。"))])
    try:
        done = remind_unread(
            ctx.session,
            actor=_actor(ctx),
            notice_id=notice_id,
            round_=int(data["round"]),
            now=ctx.now,
            template_kinds=ctx.config.template_kinds,
        )
    except InvalidInput as error:  # everyone read it meanwhile, or it was withdrawn
        return _back_to(ctx, notice_id, page, [Reply(ctx.t.error(error))])
    if done.already:
        text = ctx.t.ngettext(
            "第 {round} 次提醒已经发过了（{count} 人），不会重复发送。",
            "第 {round} 次提醒已经发过了（{count} 人），不会重复发送。",
            done.queued,
        ).format(round=done.round, count=figure(done.queued))
    else:
        reached = done.queued - done.unreachable
        sent = ctx.t.ngettext(
            "已发出第 {round} 次提醒，{count} 位未阅的会员会收到。",
            "已发出第 {round} 次提醒，{count} 位未阅的会员会收到。",
            reached,
        ).format(round=done.round, count=figure(reached))
        # One template for both sentences: languages with spaces between sentences put one there.
        text = (
            ctx.t("{sent}{unreachable}")
            .format(sent=sent, unreachable=_unreachable_line(ctx, done.unreachable))
            .strip()
        )
    return _back_to(ctx, notice_id, None, [Reply(text)])


REMIND = Flow(
    name="notice_remind",
    steps=(YesNo("sure", N_("{who}{unreachable}\n确定发送吗？"), params=_reminder_question),),
    on_done=_reminded,
    on_cancel=lambda ctx: [Reply(ctx.t("好的，不发提醒。"))],
    cancel_to=lambda ctx, data: _back_to(ctx, int(data["notice_id"]), data.get("from_page"), []),
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
