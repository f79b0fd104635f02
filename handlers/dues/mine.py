"""我的会费: a member's own dues — the months paid and unpaid, what is owed, the last payment."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.features import Feature
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.dues.text import months_text, yuan
from models.dues.ledger import member_dues
from models.dues.months import month_key
from models.dues.tables import DuesPolicy
from models.errors import N_

# A year at a glance; older months count in what is owed all the same.
MONTHS_SHOWN = 12


def dues_text(ctx: Context) -> str:
    member = ctx.member
    assert member is not None
    _ = ctx.t
    current = ctx.config.policy(DuesPolicy).month(ctx.now)
    dues = member_dues(ctx.session, member, current=current)
    lines = [_("【我的会费】"), _("月会费：{amount}").format(amount=yuan(_, dues.rate_fen))]
    if not dues.months:
        lines.append(_("目前还没有您的会费记录。"))
        return "\n".join(lines)
    unpaid = dues.unpaid
    if unpaid:
        count = len(unpaid)
        lines.append(
            _.ngettext(
                "未缴：{count} 个月（{months}），共 {total}。",
                "未缴：{count} 个月（{months}），共 {total}。",
                count,
            ).format(
                count=count,
                months=months_text([line.month for line in reversed(unpaid)]),
                total=yuan(_, dues.owed_fen),
            )
        )
    else:
        lines.append(_("会费都已缴清，谢谢您对工会工作的支持！"))
    last = dues.last_payment
    if last is not None:
        lines.append(
            _("最近一次缴纳：{month} 的会费 {amount}，登记于 {date}。").format(
                month=month_key(last.month),
                amount=yuan(_, last.amount_fen),
                date=last.recorded_at.astimezone(ctx.config.timezone).date().isoformat(),
            )
        )
    lines.append("")
    lines.append(_("近期明细："))
    for line in dues.months[:MONTHS_SHOWN]:
        if line.owed_fen == 0:
            text = _("{month}：已缴 {paid}")
        elif line.paid_fen > 0:
            text = _("{month}：应缴 {due}，已缴 {paid}，还差 {owed}")
        else:
            text = _("{month}：应缴 {due}，未缴")
        lines.append(
            text.format(
                month=month_key(line.month),
                due=yuan(_, line.due_fen),
                paid=yuan(_, line.paid_fen),
                owed=yuan(_, line.owed_fen),
            )
        )
    if unpaid:
        lines.append("")
        lines.append(_("会费可以交给本组的会费收缴员或工会小组长，登记后这里就会更新。"))
    return "\n".join(lines)


def _mine(ctx: Context, arg: str) -> list[Reply]:
    return show_menu(ctx, intro=[Reply(dues_text(ctx))])


MY_DUES = Feature(
    name="my_dues",
    rank=35,
    label=N_("我的会费"),
    summary=N_("查看已缴和未缴的月份、欠缴金额和最近一次缴纳"),
    words=(
        "/dues",
        "我的会费",
        "我的會費",
        "会费",
        "會費",
        "交会费",
        "交會費",
        "缴会费",
        "繳會費",
        "缴纳会费",
        "会费缴纳",
        "會費繳納",
        "查会费",
        "my dues",
        "dues",
    ),
    phrases=("交会费", "交會費", "缴会费", "繳會費", "缴纳会费", "会费交", "会费缴", "會費繳", "我的会费"),
    run=_mine,
)
