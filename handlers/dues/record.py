"""会费登记: a cadre records dues — one member's payment, a whole unit's month, or a correction.

* 登记一名会员: 工号, the month (the member's unpaid months are offered), the
  amount (全额 for what is still owed), then the summary to confirm.
* 按单位登记整月: "mark all of 甲班 paid for 2026-12 except …": the unit, the
  month, the 工号 of those who did not pay; the summary counts who will be
  marked and the total before anything is written.
* 更正一笔记录: the member, one of their recent payments, then 撤销 or another
  amount. The payment is never changed: a reversal cancels it and the right
  amount is recorded anew (models.dues.ledger).
* 调整月会费: the member, the first month at the new amount, the amount (0
  exempts); the months before keep theirs (the rate history).

Every rule (scope, months, amounts) is the model's; the form only asks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from handlers.core.context import Context
from handlers.core.dialogs import Ask, Choose, Confirm, Data, Flow, Invalid, Option, Step, Yuan
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.parsing import normalise, parse_index, parse_number
from handlers.core.steps import UnitsStep
from handlers.dues.text import yuan
from models.dues.ledger import (
    correct_dues_entry,
    find_member_in_scope,
    member_dues,
    month_standing,
    recent_payments,
    record_dues_payment,
    record_unit_paid,
    set_dues_rate,
    unit_in_scope,
    unit_outstanding,
    units_in_dues_scope,
)
from models.dues.months import month_key, next_month, parse_month, previous_month
from models.dues.tables import DuesEntry, DuesPolicy
from models.errors import N_, DomainError, InvalidInput
from models.members import MAX_MONTHLY_DUES_FEN, Member, get_member_by_employee_no
from models.roles import Permission
from models.units import Unit, get_unit, unit_path

FULL_WORDS = frozenset({"全额", "全額", "全部", "足额", "足額", "全交", "full", "all"})
_SEPARATORS = re.compile(r"[\s,，、;；]+")
# The member's unpaid months offered as buttons; any other month is typed.
MONTHS_OFFERED = 6


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _current(ctx: Context) -> int:
    return ctx.config.policy(DuesPolicy).month(ctx.now)


def _member(ctx: Context, data: Data) -> Member:
    return get_member_by_employee_no(ctx.session, str(data["employee_no"]))


def _unit(ctx: Context, data: Data) -> Unit:
    return get_unit(ctx.session, int(data["unit"][0]))


# ----------------------------------------------------------------------------- steps


def _mode_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("member", N_("登记一名会员"), aliases=("一名会员", "个人")),
        Option("unit", N_("按单位登记整月"), aliases=("按单位", "整个单位", "全组")),
        Option("correct", N_("更正一笔记录"), aliases=("更正", "冲销", "改错")),
        Option("rate", N_("调整月会费"), aliases=("调整", "月会费", "改月会费")),
    ]


def _check_member(ctx: Context, text: Any, data: Data) -> None:
    try:
        member = find_member_in_scope(ctx.session, actor=_actor(ctx), employee_no=str(text))
    except DomainError as error:
        raise Invalid.from_error(error) from None
    if data.get("mode") == "correct" and not recent_payments(ctx.session, actor=_actor(ctx), member=member):
        raise Invalid(N_("{name} 还没有可以更正的缴费记录。请换一个工号。"), name=member.name)


def _units_scope(session: Session, actor: Member) -> Sequence[Unit]:
    return units_in_dues_scope(session, actor)


def _check_unit(ctx: Context, chosen: tuple[int, ...]) -> None:
    if len(chosen) != 1:
        raise Invalid(N_("一次登记一个单位，请只回复一个编号或名称。"))
    try:
        unit_in_scope(ctx.session, actor=_actor(ctx), unit_id=chosen[0])
    except DomainError as error:
        raise Invalid.from_error(error) from None


def _month_options(ctx: Context, data: Data) -> Sequence[Option]:
    current = _current(ctx)
    if data.get("mode") == "unit":
        months = [current, previous_month(current)]
    else:
        owed = [
            line.month
            for line in reversed(member_dues(ctx.session, _member(ctx, data), current=current).unpaid)
        ]
        months = owed[:MONTHS_OFFERED] or [current]
    return [Option(str(month), month_key(month), literal=True) for month in months]


@dataclass(frozen=True)
class MonthStep(Choose):
    """A month from the buttons, or typed ("2026-11", "2026年11月"); stored as 202611."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply(ctx.t(self.question).format(example=month_key(_current(ctx))), buttons=reply.buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            month = int(Choose.accept(self, ctx, flow, data))
        except Invalid:
            text = ctx.incoming.text
            if ctx.incoming.button is not None or text is None or parse_index(text) is not None:
                raise
            try:
                month = parse_month(text)
            except InvalidInput as error:
                raise Invalid.from_error(error) from None
        if data.get("mode") == "member":
            member = _member(ctx, data)
            due, paid = month_standing(ctx.session, member, month)
            if due <= 0:
                raise Invalid(
                    N_("{name} {month} 无需缴纳会费，请换一个月份。"),
                    name=member.name,
                    month=month_key(month),
                )
            if paid >= due:
                raise Invalid(
                    N_("{name} {month} 的会费已经缴清，请换一个月份。"),
                    name=member.name,
                    month=month_key(month),
                )
        return month


def _owed(ctx: Context, data: Data) -> int:
    due, paid = month_standing(ctx.session, _member(ctx, data), int(data["month"]))
    return due - paid


@dataclass(frozen=True)
class AmountStep(Step):
    """The amount paid, in yuan; 全额 for all that is still owed (what is usually paid)."""

    key: str
    question: str
    owed: Callable[[Context, Data], int]  # the fen still owed
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        owed = self.owed(ctx, data)
        return Reply(ctx.t(self.question).format(owed=yuan(ctx.t, owed)), buttons=())

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if text is None:
            raise Invalid(N_("请用文字回复。"))
        owed = self.owed(ctx, data)
        if normalise(text).strip(" 。.!！") in FULL_WORDS:
            return owed
        value = parse_number(text.removesuffix("元"))
        if value is None:
            raise Invalid(N_("没看懂这个金额。请输入元数，例如“25”或“25.50”；全额缴纳请回复“全额”。"))
        fen = value * 100
        if fen != fen.to_integral_value():
            raise Invalid(N_("金额最多保留两位小数（精确到分）。"))
        if fen <= 0:
            raise Invalid(N_("缴纳金额应大于 0。"))
        if fen > owed:
            raise Invalid(N_("金额不能超过还应缴的 {owed}，请重新输入。"), owed=yuan(ctx.t, owed))
        return int(fen)


def _except_ids(ctx: Context, data: Data) -> list[int]:
    """The members the cadre said did not pay, checked to be in the unit."""
    text = data.get("except")
    if not text:
        return []
    unit = _unit(ctx, data)
    found = []
    for word in _SEPARATORS.split(unicodedata.normalize("NFKC", str(text)).strip()):
        if not word:
            continue
        member = get_member_by_employee_no(ctx.session, word)
        member_unit = get_unit(ctx.session, member.unit_id)
        if not unit.contains(member_unit):
            raise InvalidInput(
                "dues.except_elsewhere",
                N_("工号 {employee_no} 的{name}不在{unit}。"),
                employee_no=member.employee_no,
                name=member.name,
                unit=unit_path(ctx.session, unit),
            )
        assert member.id is not None
        found.append(member.id)
    return found


def _check_except(ctx: Context, text: Any, data: Data) -> None:
    try:
        _except_ids(ctx, {**data, "except": text})
    except DomainError as error:
        raise Invalid.from_error(error) from None


def _entry_options(ctx: Context, data: Data) -> Sequence[Option]:
    """The member's recent payments, each with when and by whom it was recorded."""
    zone = ctx.config.timezone
    entries = recent_payments(ctx.session, actor=_actor(ctx), member=_member(ctx, data))
    recorders = {entry.recorded_by_id for entry in entries if entry.recorded_by_id is not None}
    names = dict(
        ctx.session.exec(select(Member.id, Member.name).where(col(Member.id).in_(recorders))).all()
        if recorders
        else []
    )
    return [
        Option(
            str(entry.id),
            ctx.t("{month} {amount}（{date} {who}登记）").format(
                month=month_key(entry.month),
                amount=yuan(ctx.t, entry.amount_fen),
                date=entry.recorded_at.astimezone(zone).date().isoformat(),
                who=names.get(entry.recorded_by_id, "") if entry.recorded_by_id else ctx.t("工会办公室"),
            ),
            literal=True,
        )
        for entry in entries
    ]


def _from_options(ctx: Context, data: Data) -> Sequence[Option]:
    current = _current(ctx)
    return [Option(str(month), month_key(month), literal=True) for month in (next_month(current), current)]


def _fix_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("amount", N_("改成另一个金额"), aliases=("改金额",)),
        Option("reverse", N_("撤销这笔记录"), aliases=("撤销", "冲销")),
    ]


def _entry(ctx: Context, data: Data) -> DuesEntry:
    entry = ctx.session.get(DuesEntry, int(data["entry"]))
    assert entry is not None
    return entry


def _entry_owed(ctx: Context, data: Data) -> int:
    """What the entry's month would still owe once the entry is reversed."""
    entry = _entry(ctx, data)
    due, paid = month_standing(ctx.session, _member(ctx, data), entry.month)
    return due - paid + entry.amount_fen


# ----------------------------------------------------------------------------- summary and done


def _summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    mode = data["mode"]
    if mode == "member":
        member = _member(ctx, data)
        return _("会员：{name}（{employee_no}）\n月份：{month}\n金额：{amount}").format(
            name=member.name,
            employee_no=member.employee_no,
            month=month_key(int(data["month"])),
            amount=yuan(_, int(data["amount"])),
        )
    if mode == "unit":
        unit, month = _unit(ctx, data), int(data["month"])
        skipped = set(_except_ids(ctx, data))
        owed = unit_outstanding(ctx.session, actor=_actor(ctx), unit=unit, month=month, current=_current(ctx))
        marked = [item for item in owed if item.member_id not in skipped]
        lines = [
            _("将登记{unit} {count} 名会员 {month} 的会费已缴清，共 {total}。").format(
                unit=unit_path(ctx.session, unit),
                count=len(marked),
                month=month_key(month),
                total=yuan(_, sum(item.owed_fen for item in marked)),
            )
        ]
        left = [item for item in owed if item.member_id in skipped]
        if left:
            lines.append(
                _("未缴、不登记：{names}").format(
                    names="、".join(f"{i.name}（{i.employee_no}）" for i in left)
                )
            )
        return "\n".join(lines)
    if mode == "rate":
        member, month = _member(ctx, data), int(data["from_month"])
        due, _paid = month_standing(ctx.session, member, month)
        return _("会员：{name}（{employee_no}）\n自 {month} 起月会费：{amount}（原为 {old}）").format(
            name=member.name,
            employee_no=member.employee_no,
            month=month_key(month),
            amount=yuan(_, int(data["rate"])),
            old=yuan(_, due),
        )
    member, entry = _member(ctx, data), _entry(ctx, data)
    was = _("{name}（{employee_no}）{month} 的 {amount}").format(
        name=member.name,
        employee_no=member.employee_no,
        month=month_key(entry.month),
        amount=yuan(_, entry.amount_fen),
    )
    if data.get("fix") == "reverse":
        return _("撤销：{entry}").format(entry=was)
    return _("更正：{entry}，改为 {amount}").format(entry=was, amount=yuan(_, int(data["new_amount"])))


def _done(ctx: Context, data: Data) -> list[Reply]:
    _ = ctx.t
    actor, current = _actor(ctx), _current(ctx)
    mode = data["mode"]
    if mode == "member":
        member = _member(ctx, data)
        entry = record_dues_payment(
            ctx.session,
            actor=actor,
            member=member,
            month=int(data["month"]),
            amount_fen=int(data["amount"]),
            now=ctx.now,
            current=current,
        )
        due, paid = month_standing(ctx.session, member, entry.month)
        text = _("已登记：{name} {month} 缴纳 {amount}。").format(
            name=member.name, month=month_key(entry.month), amount=yuan(_, entry.amount_fen)
        )
        if paid < due:
            text += _("该月还差 {owed}。").format(owed=yuan(_, due - paid))
    elif mode == "unit":
        unit, month = _unit(ctx, data), int(data["month"])
        done = record_unit_paid(
            ctx.session,
            actor=actor,
            unit=unit,
            month=month,
            except_ids=_except_ids(ctx, data),
            now=ctx.now,
            current=current,
        )
        if done.members == 0:
            text = _("{unit} {month} 没有需要登记的会员：都已缴清。").format(
                unit=unit_path(ctx.session, unit), month=month_key(month)
            )
        else:
            text = _.ngettext(
                "已登记：{unit} {count} 名会员 {month} 的会费，共 {total}。",
                "已登记：{unit} {count} 名会员 {month} 的会费，共 {total}。",
                done.members,
            ).format(
                unit=unit_path(ctx.session, unit),
                count=done.members,
                month=month_key(month),
                total=yuan(_, done.total_fen),
            )
    elif mode == "rate":
        member, month = _member(ctx, data), int(data["from_month"])
        rate = set_dues_rate(
            ctx.session,
            actor=actor,
            member=member,
            from_month=month,
            amount_fen=int(data["rate"]),
            now=ctx.now,
        )
        text = _("已调整：{name} 自 {month} 起月会费为 {amount}，之前的月份不变。").format(
            name=member.name, month=month_key(rate.from_month), amount=yuan(_, rate.amount_fen)
        )
    else:
        amount = int(data["new_amount"]) if data.get("fix") == "amount" else None
        reversal, replacement = correct_dues_entry(
            ctx.session,
            actor=actor,
            entry_id=int(data["entry"]),
            amount_fen=amount,
            now=ctx.now,
            current=current,
        )
        text = _("已冲销 {month} 的 {amount}。").format(
            month=month_key(reversal.month), amount=yuan(_, -reversal.amount_fen)
        )
        if replacement is not None:
            text += _("并重新登记为 {amount}。").format(amount=yuan(_, replacement.amount_fen))
        text += _("原记录保留在账上，可以查到是谁、何时更正的。")
    return show_menu(ctx, intro=[Reply(text)])


def _is(mode: str) -> Callable[[Data], bool]:
    return lambda data: data.get("mode") != mode


RECORD = Flow(
    name="dues_record",
    steps=(
        Choose("mode", N_("要登记哪一种？"), options=_mode_options),
        Ask(
            "employee_no",
            N_("请输入会员的工号："),
            max_length=32,
            validate=_check_member,
            skip_if=lambda data: data.get("mode") == "unit",
            label=N_("会员"),
        ),
        UnitsStep(
            "unit",
            N_("请回复要登记的单位编号或名称："),
            scope=_units_scope,
            check=_check_unit,
            skip_if=_is("unit"),
            label=N_("单位"),
        ),
        MonthStep(
            "month",
            N_("登记哪个月的会费？请选择，或直接输入月份，例如 {example}。"),
            options=_month_options,
            skip_if=lambda data: data.get("mode") not in ("member", "unit"),
            label=N_("月份"),
        ),
        MonthStep(
            "from_month",
            N_("新的月会费从哪个月开始？请选择，或直接输入月份，例如 {example}。"),
            options=_from_options,
            skip_if=_is("rate"),
            label=N_("月份"),
        ),
        Yuan(
            "rate",
            N_("新的月会费是多少元？免缴请回复 0。"),
            maximum_fen=MAX_MONTHLY_DUES_FEN,
            skip_if=_is("rate"),
            label=N_("月会费"),
        ),
        AmountStep(
            "amount",
            N_("实缴多少元？还应缴 {owed}；全额缴纳请回复“全额”。"),
            owed=_owed,
            skip_if=_is("member"),
            label=N_("金额"),
        ),
        Ask(
            "except",
            N_("有没交的会员吗？请回复他们的工号，用空格隔开；都交了请回复“没有”。"),
            optional=True,
            max_length=2000,
            validate=_check_except,
            skip_if=_is("unit"),
            label=N_("未缴会员"),
        ),
        Choose(
            "entry", N_("要更正哪一笔？"), options=_entry_options, skip_if=_is("correct"), label=N_("记录")
        ),
        Choose("fix", N_("要怎样更正？"), options=_fix_options, skip_if=_is("correct")),
        AmountStep(
            "new_amount",
            N_("正确的金额是多少元？最多 {owed}；全额请回复“全额”。"),
            owed=_entry_owed,
            skip_if=lambda data: data.get("mode") != "correct" or data.get("fix") != "amount",
            label=N_("金额"),
        ),
        Confirm(summary=_summary, question=N_("请核对以上内容，确认后记入会费账。")),
    ),
    on_done=_done,
)


def _record(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, RECORD)


def can_record(ctx: Context) -> bool:
    return ctx.member is not None and ctx.grants.holds(Permission.RECORD_DUES) and ctx.member.is_active


RECORD_DUES = Feature(
    name="dues_record",
    rank=125,
    section=MenuSection.SERVICES,
    label=N_("会费登记"),
    summary=N_("登记会员缴纳的会费：一名会员、整个单位一个月，更正一笔记录，或调整月会费"),
    words=("会费登记", "會費登記", "登记会费", "登記會費", "record dues"),
    run=_record,
    available=can_record,
)
