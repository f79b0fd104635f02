"""会费统计: a dues cadre sees the collection rate of each unit for a month, the arrears, and the workbook.

The cadre picks a unit (when they look after several) and a month (本月, 上月,
or typed "2026-11"); the answer is one line per unit directly below — the rate
and what is still owed on the month — the total, and the members who owe, with
their months. 导出Excel sends the last twelve months' rates and every arrear.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Invalid, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.parsing import parse_index
from handlers.dues.text import months_text, rate_text, yuan
from handlers.dues.workbook import MIME_TYPE, file_name, save_workbook
from models.dues.figures import Tally, arrears, rates_report
from models.dues.ledger import dues_scope
from models.dues.months import Month, add_months, month_key, months_between, parse_month, previous_month
from models.dues.tables import DuesPolicy
from models.errors import N_, InvalidInput
from models.members import Member
from models.roles import Permission
from models.units import get_unit, unit_path

ARREARS_SHOWN = 10
# The workbook's rates: a year up to the chosen month.
WORKBOOK_MONTHS = 12


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _current(ctx: Context) -> Month:
    return ctx.config.policy(DuesPolicy).month(ctx.now)


def can_see_figures(ctx: Context) -> bool:
    return ctx.member is not None and ctx.member.is_active and ctx.grants.holds(Permission.RECORD_DUES)


def _unit_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(str(unit.id), unit_path(ctx.session, unit), literal=True)
        for unit in dues_scope(ctx.session, _actor(ctx))
    ]


def _month_options(ctx: Context, data: Data) -> Sequence[Option]:
    current = _current(ctx)
    return [
        Option(str(current), N_("本月"), aliases=("这个月", "this month")),
        Option(str(previous_month(current)), N_("上月"), aliases=("上个月", "last month")),
    ]


def _or_typed_month(step: Choose, ctx: Context, flow: str, data: Data) -> Any:
    try:
        return Choose.accept(step, ctx, flow, data)
    except Invalid:
        text = ctx.incoming.text
        if ctx.incoming.button is not None or text is None or parse_index(text) is not None:
            raise
        try:
            return str(parse_month(text))
        except InvalidInput as error:
            raise Invalid.from_error(error) from None


@dataclass(frozen=True)
class MonthStep(Choose):
    """本月, 上月, or any month typed ("2026-10")."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        example = month_key(add_months(_current(ctx), -2))
        return Reply(ctx.t(self.question).format(example=example), buttons=reply.buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        return _or_typed_month(self, ctx, flow, data)


def _line(ctx: Context, name: str, tally: Tally) -> str:
    return ctx.t("{unit}：{rate}，欠缴 {owed}").format(
        unit=name, rate=rate_text(ctx.t, tally), owed=yuan(ctx.t, tally.owed_fen)
    )


def figures_text(ctx: Context, *, unit_id: int, month: Month) -> str:
    """The month's rates by unit, the total, then who owes (up to that month)."""
    _ = ctx.t
    unit = get_unit(ctx.session, unit_id)
    report = rates_report(ctx.session, actor=_actor(ctx), unit=unit, months=[month])
    lines = [_("【会费统计】{unit}，{month}").format(unit=report.unit_path, month=month_key(month))]
    for row in report.rows:
        name = row.path.rsplit("/", 1)[-1]
        if row.own:
            name = _("{unit}（本级）").format(unit=name)
        lines.append(_line(ctx, name, row.total()))
    lines.append(_line(ctx, _("合计"), report.total.get(month, Tally())))
    owing = arrears(ctx.session, actor=_actor(ctx), unit=unit, up_to=month)
    lines.append("")
    if not owing:
        lines.append(_("截至 {month} 没有欠缴的会员。").format(month=month_key(month)))
    else:
        total = sum(arrear.owed_fen for arrear in owing)
        lines.append(
            _.ngettext(
                "截至 {month} 欠缴会员 {count} 人，共 {total}：",
                "截至 {month} 欠缴会员 {count} 人，共 {total}：",
                len(owing),
            ).format(month=month_key(month), count=len(owing), total=yuan(_, total))
        )
        lines.extend(
            _("{name}（{employee_no}，{unit}）：{months}，共 {total}").format(
                name=arrear.name,
                employee_no=arrear.employee_no,
                unit=arrear.unit_path,
                months=months_text([m for m, _owed in arrear.months]),
                total=yuan(_, arrear.owed_fen),
            )
            for arrear in owing[:ARREARS_SHOWN]
        )
        if len(owing) > ARREARS_SHOWN:
            lines.append(_("……其余请导出Excel查看。"))
    lines.append("")
    lines.append(_("收缴率 = 已缴清的人次 ÷ 应缴人次。"))
    return "\n".join(lines)


def show_figures(ctx: Context, *, unit_id: int, month: Month) -> list[Reply]:
    text = figures_text(ctx, unit_id=unit_id, month=month)
    return ctx.dialogs.start(ctx, RESULT, data={"unit": unit_id, "month": month}, intro=[Reply(text)])


def export_figures(ctx: Context, *, unit_id: int, month: Month) -> Reply:
    """The workbook as a file reply; a fresh file for every export, so two cadres never share one.

    Raises:
        PermissionDenied: the unit lies outside the cadre's dues scope.
    """
    unit = get_unit(ctx.session, unit_id)
    months = list(months_between(add_months(month, 1 - WORKBOOK_MONTHS), month))
    report = rates_report(ctx.session, actor=_actor(ctx), unit=unit, months=months)
    owing = arrears(ctx.session, actor=_actor(ctx), unit=unit, up_to=month)
    path = ctx.config.export_dir / f"dues-{month_key(month)}-{secrets.token_hex(8)}.xlsx"
    save_workbook(report, owing, path=path, t=ctx.t)
    text = ctx.t("{unit}截至 {month} 的会费统计表：近 12 个月收缴率、欠缴明细两张表。").format(
        unit=report.unit_path, month=month_key(month)
    )
    return Reply(text, file=OutgoingFile(str(path), name=file_name(ctx.t, month), mime_type=MIME_TYPE))


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    return show_figures(ctx, unit_id=int(data["unit"]), month=int(data["month"]))


FIGURES = Flow(
    name="dues_figures",
    steps=(
        Choose("unit", N_("要看哪个单位的会费统计？"), options=_unit_options, skip_if=lambda d: "unit" in d),
        MonthStep(
            "month", N_("要看哪个月？请选择，或直接输入月份，例如 {example}。"), options=_month_options
        ),
    ),
    on_done=_chosen,
)


def _result_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("export", N_("导出Excel"), aliases=("导出", "導出", "excel", "export")),
        Option("again", N_("换个月份"), aliases=("換個月份", "another month")),
    ]


@dataclass(frozen=True)
class ResultStep(Choose):
    """导出Excel or 换个月份; a month typed ("2026-10") shows that one at once."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = _or_typed_month(self, ctx, flow, data)
        return value if value in {"export", "again"} else f"month:{value}"


def _result(ctx: Context, data: Data) -> list[Reply]:
    unit_id, month, action = int(data["unit"]), int(data["month"]), str(data["action"])
    if action == "export":
        return [export_figures(ctx, unit_id=unit_id, month=month)]
    if action.startswith("month:"):
        return show_figures(ctx, unit_id=unit_id, month=int(action.removeprefix("month:")))
    return ctx.dialogs.start(ctx, FIGURES, data={"unit": unit_id})


RESULT = Flow(
    name="dues_figures_result",
    steps=(ResultStep("action", N_("需要导出Excel，或换个月份看看吗？"), options=_result_options),),
    on_done=_result,
    browse=True,
)


def _figures(ctx: Context, arg: str) -> list[Reply]:
    units = dues_scope(ctx.session, _actor(ctx))
    data: Data = {"unit": units[0].id} if len(units) == 1 else {}
    return ctx.dialogs.start(ctx, FIGURES, data=data)


FLOWS: tuple[Flow, ...] = (FIGURES, RESULT)

FEATURE = Feature(
    name="dues_figures",
    rank=126,
    section=MenuSection.SERVICES,
    label=N_("会费统计"),
    summary=N_("各单位每月的会费收缴率和欠缴情况，可导出Excel"),
    words=("会费统计", "會費統計", "收缴率", "收繳率", "dues figures"),
    run=_figures,
    available=can_see_figures,
)
