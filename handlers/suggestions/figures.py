"""建议统计: a reviewing cadre sees the suggestion figures of their units in chat, and as .xlsx.

The cadre picks a period (本月, 本季度, 上季度, 今年, or types "2026Q3"); the
answer is one compact line per unit below theirs — submitted, per 100 members,
adopted and rate, implemented, value created, days to answer, overdue — then
the total and the top proposers (named suggestions only). 导出Excel sends the
same figures with the full register as a workbook, written afresh for each
export under :attr:`CoreConfig.export_dir`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.steps import FiguresResultStep, PeriodStep
from handlers.core.workbook import MIME_TYPE
from handlers.suggestions.workbook import file_name, period_title, row_name, save_report
from models.errors import N_, InvalidInput
from models.members import Member
from models.periods import Period, parse_period
from models.suggestions import SuggestionPolicy, review_scope, reviews_suggestions
from models.suggestions.figures import (
    FiguresReport,
    RowKind,
    UnitFigures,
    figures_report,
    money_text,
)
from models.units import unit_path

# One chat message holds about 4,000 characters: a union with more units reads the rest in the workbook.
ROWS_SHOWN = 30
RANKING_SHOWN = 5


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def can_see_figures(ctx: Context) -> bool:
    return ctx.member is not None and reviews_suggestions(ctx.session, ctx.member)


def _today(ctx: Context) -> date:
    return ctx.config.policy(SuggestionPolicy).today(ctx.now)


# ----------------------------------------------------------------------------- choosing


def _unit_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(str(unit.id), unit_path(ctx.session, unit), literal=True)
        for unit in review_scope(ctx.session, _actor(ctx))
    ]


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    return show_figures(ctx, unit_id=int(data["unit"]), period=parse_period(str(data["period"])))


FIGURES = Flow(
    name="suggestion_figures",
    steps=(
        Choose("unit", N_("要看哪个单位的建议统计？"), options=_unit_options, skip_if=lambda d: "unit" in d),
        PeriodStep(
            "period", N_("要看哪个时段？请选择，或直接输入，例如 {quarter}（季度）、{month}（月份）。")
        ),
    ),
    on_done=_chosen,
)


# ----------------------------------------------------------------------------- the table


def _value(ctx: Context, fen: int) -> str:
    return money_text(fen, ctx.t)


def _percent(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.1"))


def figures_line(ctx: Context, row: UnitFigures) -> str:
    """One unit in one line, as a cadre reads it out at a meeting.

    "一车间：提出 12 条（每百人 8.0），采纳 5 条（41.7%），实施 3 条，
    创效 12.50 万元，平均 4.5 天答复，超期 1 条"
    """
    _ = ctx.t
    per_100, rate, days = row.per_100_members, row.adoption_rate, row.average_answer_days
    return _(
        "{unit}：提出 {submitted} 条{per_head}，采纳 {adopted} 条{rate}，实施 {implemented} 条，"
        "创效 {value}，{answer}，超期 {overdue} 条"
    ).format(
        unit=row_name(_, row),
        submitted=row.submitted,
        per_head=_("（每百人 {count}）").format(count=per_100) if per_100 is not None else "",
        adopted=row.adopted,
        rate=_("（{percent}%）").format(percent=_percent(rate)) if rate is not None else "",
        implemented=row.implemented,
        value=_value(ctx, row.value_fen),
        answer=_("平均 {days} 天答复").format(days=days) if days is not None else _("暂无答复"),
        overdue=row.overdue,
    )


def figures_text(ctx: Context, report: FiguresReport) -> str:
    """The table as chat lines: the units, the total, then the top proposers."""
    _ = ctx.t
    lines = [
        _("【建议统计】{unit}，{period}").format(unit=report.unit_path, period=period_title(_, report.period))
    ]
    units = [row for row in report.rows if row.kind is not RowKind.TOTAL]
    if len(units) > 1 or (units and units[0].kind is RowKind.CHILD):
        lines.extend(figures_line(ctx, row) for row in units[:ROWS_SHOWN])
        if len(units) > ROWS_SHOWN:
            more = len(units) - ROWS_SHOWN
            lines.append(
                _.ngettext(
                    "……还有 {count} 个单位，请导出Excel查看。",
                    "……还有 {count} 个单位，请导出Excel查看。",
                    more,
                ).format(count=more)
            )
    lines.append(figures_line(ctx, report.total))
    if report.proposers:
        lines.append("")
        lines.append(_("个人排行（不含匿名建议）："))
        lines.extend(
            _("{rank}. {name}（{unit}）：提出 {submitted} 条，采纳 {adopted} 条").format(
                rank=person.rank,
                name=person.name,
                unit=person.unit_path,
                submitted=person.submitted,
                adopted=person.adopted,
            )
            for person in report.proposers[:RANKING_SHOWN]
        )
    lines.append("")
    lines.append(_("超期条数截至 {today}；采纳率 = 采纳数 ÷ 提出数。").format(today=report.today.isoformat()))
    return "\n".join(lines)


def show_figures(ctx: Context, *, unit_id: int, period: Period) -> list[Reply]:
    """The figures in chat, with the ways on: export, another period.

    Raises:
        PermissionDenied: the unit lies outside the cadre's review scope.
    """
    report = figures_report(
        ctx.session,
        actor=_actor(ctx),
        unit_id=unit_id,
        period=period,
        today=_today(ctx),
        policy=ctx.config.policy(SuggestionPolicy),
        ranking_size=RANKING_SHOWN,
    )
    data = {"unit": unit_id, "period": period.key}
    return ctx.dialogs.start(ctx, RESULT, data=data, intro=[Reply(figures_text(ctx, report))])


def export_figures(ctx: Context, *, unit_id: int, period: Period) -> Reply:
    """The workbook as a file reply; each export gets a fresh file, so two cadres never share one.

    Raises:
        PermissionDenied: the unit lies outside the cadre's review scope.
    """
    report = figures_report(
        ctx.session,
        actor=_actor(ctx),
        unit_id=unit_id,
        period=period,
        today=_today(ctx),
        policy=ctx.config.policy(SuggestionPolicy),
        with_lines=True,
    )
    path = ctx.config.export_dir / f"suggestion-figures-{period.key}-{secrets.token_hex(8)}.xlsx"
    save_report(report, path=path, t=ctx.t)
    text = ctx.t("{unit}{period}的建议统计表：汇总、明细、个人排行三张表。").format(
        unit=report.unit_path, period=period_title(ctx.t, period)
    )
    name = file_name(ctx.t, period)
    return Reply(text, file=OutgoingFile(str(path), name=name, mime_type=MIME_TYPE))


def _result(ctx: Context, data: Data) -> list[Reply]:
    unit_id, period = int(data["unit"]), parse_period(str(data["period"]))
    action = str(data["action"])
    if action == "export":
        return [export_figures(ctx, unit_id=unit_id, period=period)]
    if action.startswith("period:"):
        return show_figures(ctx, unit_id=unit_id, period=parse_period(action.removeprefix("period:")))
    return ctx.dialogs.start(ctx, FIGURES, data={"unit": unit_id})


RESULT = Flow(
    name="suggestion_figures_result",
    steps=(FiguresResultStep("action", N_("需要导出Excel，或换个时段看看吗？")),),
    on_done=_result,
    browse=True,
)


# ----------------------------------------------------------------------------- feature


def _figures(ctx: Context, arg: str) -> list[Reply]:
    units = review_scope(ctx.session, _actor(ctx))
    data: Data = {"unit": units[0].id} if len(units) == 1 else {}
    if arg.strip() and "unit" in data:
        try:
            period = parse_period(arg)
        except InvalidInput:
            period = None
        if period is not None:
            return show_figures(ctx, unit_id=int(data["unit"]), period=period)
    return ctx.dialogs.start(ctx, FIGURES, data=data)


FLOWS: tuple[Flow, ...] = (FIGURES, RESULT)

FEATURE = Feature(
    name="suggestion_figures",
    rank=120,
    section=MenuSection.SUGGESTIONS,
    label=N_("建议统计"),
    summary=N_("各单位合理化建议的提出、采纳、实施、创效情况，可导出Excel"),
    words=("/stats", "建议统计", "建議統計", "统计", "統計", "stats", "suggestion figures"),
    run=_figures,
    available=can_see_figures,
)
