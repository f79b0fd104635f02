"""帮扶统计: a hardship cadre (or an admin) reads the figures of a unit and period in chat, or as .xlsx.

One line per unit below the chosen one (cases, urgent, closed, money given),
the total, then the cases by category and stage, the median working days to the
first contact, the visit and the help, and the money by fund and by campaign.
Nobody is named; a reader sees only the units they handle (or administer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Invalid, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.parsing import parse_index
from handlers.core.pushes import Renderer
from handlers.hardship.sheets import (
    DECIMAL_FORMAT,
    MIME_TYPE,
    YUAN_FORMAT,
    Sheet,
    first_sheet,
    new_workbook,
    save,
    yuan,
)
from models.audit import record_audit
from models.errors import N_, InvalidInput
from models.hardship import CATEGORY_LABELS, STATUS_LABELS, CaseStatus, HardshipPolicy
from models.hardship.figures import (
    HardshipFigures,
    UnitFigures,
    figures_scope,
    hardship_figures,
    may_see_figures,
)
from models.members import Member, format_yuan
from models.periods import Period, parse_period
from models.units import unit_path


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _policy(ctx: Context) -> HardshipPolicy:
    return ctx.config.policy(HardshipPolicy)


def can_see(ctx: Context) -> bool:
    return ctx.member is not None and may_see_figures(ctx.session, ctx.member)


def period_title(t: Any, period: Period) -> str:
    msgid, params = period.title
    return str(t(msgid)).format(**params)


def _days(ctx: Context, value: Decimal | None) -> str:
    return ctx.t("{days} 个工作日").format(days=value) if value is not None else ctx.t("暂无")


def _unit_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(str(unit.id), unit_path(ctx.session, unit), literal=True)
        for unit in figures_scope(ctx.session, _actor(ctx))
    ]


def _period_options(ctx: Context, data: Data) -> Sequence[Option]:
    today = _policy(ctx).today(ctx.now)
    options = []
    for period in (
        Period.month_of(today),
        Period.month_of(today).previous(),
        Period.quarter_of(today),
        Period.year_of(today),
    ):
        options.append(Option(period.key, period_title(ctx.t, period), literal=True))
    return options


@dataclass(frozen=True)
class PeriodStep(Choose):
    """A period offered, or typed as 2026Q3, 2026-10 or 2026."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            text = ctx.incoming.text
            if text is None or parse_index(text) is not None:
                raise
            try:
                return parse_period(text).key
            except InvalidInput as error:
                raise Invalid.from_error(error) from None


def _unit_line(ctx: Context, row: UnitFigures) -> str:
    name = ctx.t("{unit}（本级）").format(unit=row.name) if row.own else row.name
    return ctx.t("{unit}：受理 {cases} 件（紧急 {urgent} 件），已办结 {closed} 件，发放 {amount} 元").format(
        unit=name, cases=row.cases, urgent=row.urgent, closed=row.closed, amount=format_yuan(row.given_fen)
    )


def figures_text(ctx: Context, figures: HardshipFigures) -> str:
    _ = ctx.t
    lines = [
        _("【帮扶统计】{unit}，{period}").format(
            unit=figures.unit_path, period=period_title(_, figures.period)
        )
    ]
    lines += [_unit_line(ctx, row) for row in figures.rows]
    total = figures.total
    lines.append(
        _("合计：受理 {cases} 件（紧急 {urgent} 件），已办结 {closed} 件，发放 {amount} 元").format(
            cases=total.cases, urgent=total.urgent, closed=total.closed, amount=format_yuan(total.given_fen)
        )
    )
    if figures.by_category:
        lines.append("")
        lines.append(_("按类别和阶段："))
        for category, stages in sorted(
            figures.by_category.items(), key=lambda item: list(CATEGORY_LABELS).index(item[0])
        ):
            parts = _("，").join(
                _("{stage} {count}").format(stage=_(STATUS_LABELS[status]), count=stages[status])
                for status in CaseStatus
                if stages.get(status)
            )
            lines.append(_("{category}：{parts}").format(category=_(CATEGORY_LABELS[category]), parts=parts))
    lines.append("")
    lines.append(
        _("办理时效（中位数）：首次联系 {contact}，走访 {visit}，发放帮扶 {help}").format(
            contact=_days(ctx, figures.median_contact),
            visit=_days(ctx, figures.median_visit),
            help=_days(ctx, figures.median_help),
        )
    )
    if figures.by_fund:
        lines.append(
            _("按资金来源：{parts}").format(
                parts=_("，").join(f"{fund} {format_yuan(fen)}" for fund, fen in figures.by_fund.items())
            )
        )
    if figures.by_campaign:
        lines.append(
            _("按活动：{parts}").format(
                parts=_("，").join(
                    f"{name or _('个案帮扶')} {format_yuan(fen)}" for name, fen, _goods in figures.by_campaign
                )
            )
        )
    return "\n".join(lines)


def _figures(ctx: Context, data: Data) -> HardshipFigures:
    return hardship_figures(
        ctx.session,
        actor=_actor(ctx),
        unit_id=int(data["unit"]),
        period=parse_period(str(data["period"])),
        policy=_policy(ctx),
    )


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    figures = _figures(ctx, data)
    kept = {"unit": data["unit"], "period": data["period"]}
    return ctx.dialogs.start(ctx, RESULT, data=kept, intro=[Reply(figures_text(ctx, figures))])


FIGURES = Flow(
    name="hardship_figures",
    steps=(
        Choose("unit", N_("要看哪个单位的帮扶统计？"), options=_unit_options, skip_if=lambda d: "unit" in d),
        PeriodStep(
            "period", N_("要看哪个时段？请选择，或输入例如 2026Q4、2026-11。"), options=_period_options
        ),
    ),
    on_done=_chosen,
)


SUMMARY_HEADERS = (N_("单位"), N_("受理（件）"), N_("紧急（件）"), N_("已办结（件）"), N_("发放金额（元）"))


def export_figures(ctx: Context, data: Data) -> Reply:
    """The figures as a workbook: per unit, by category and stage, the money; the export is audited."""
    _ = ctx.t
    figures = _figures(ctx, data)
    record_audit(
        ctx.session,
        actor=_actor(ctx),
        action="hardship.figures.export",
        subject=f"unit:{data['unit']}:{data['period']}",
        channel=ctx.incoming.channel,
    )
    title = _("{unit} 帮扶统计（{period}）").format(
        unit=figures.unit_path, period=period_title(_, figures.period)
    )
    workbook = new_workbook()
    summary = Sheet(first_sheet(workbook, _("汇总")), title, [_(h) for h in SUMMARY_HEADERS])
    for row in (*figures.rows, figures.total):
        name = (
            _("合计")
            if row is figures.total
            else (_("{unit}（本级）").format(unit=row.name) if row.own else row.name)
        )
        summary.add(
            (name, row.cases, row.urgent, row.closed, yuan(row.given_fen)),
            (None, None, None, None, YUAN_FORMAT),
            bold=row is figures.total,
        )
    summary.next_row += 1
    for label, value in (
        (_("首次联系（工作日，中位数）"), figures.median_contact),
        (_("走访（工作日，中位数）"), figures.median_visit),
        (_("发放帮扶（工作日，中位数）"), figures.median_help),
    ):
        summary.add((label, value), (None, DECIMAL_FORMAT))
    stages = list(CaseStatus)
    matrix = Sheet(
        workbook.create_sheet(_("类别与阶段")),
        title,
        [_("类别"), *(_(STATUS_LABELS[s]) for s in stages), _("合计")],
    )
    for category, label in CATEGORY_LABELS.items():
        counts = figures.by_category.get(category)
        if counts:
            matrix.add((_(label), *(counts.get(s, 0) for s in stages), sum(counts.values())))
    money = Sheet(
        workbook.create_sheet(_("资金")), title, [_("资金来源或活动"), _("金额（元）"), _("物品（份）")]
    )
    for fund, fen in figures.by_fund.items():
        money.add((fund, yuan(fen)), (None, YUAN_FORMAT))
    money.next_row += 1
    for campaign, fen, goods in figures.by_campaign:
        money.add((campaign or _("个案帮扶"), yuan(fen), goods), (None, YUAN_FORMAT))
    for sheet in (summary, matrix, money):
        sheet.finish()
    path = save(workbook, ctx.config.export_dir, f"hardship-figures-{data['period']}")
    name = _("帮扶统计-{period}.xlsx").format(period=data["period"])
    text = _("{unit}{period}的帮扶统计表。").format(
        unit=figures.unit_path, period=period_title(_, figures.period)
    )
    return Reply(text, file=OutgoingFile(str(path), name=name, mime_type=MIME_TYPE))


def _result_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("export", N_("导出Excel"), aliases=("导出", "導出", "excel", "export")),
        Option("again", N_("换个时段"), aliases=("換個時段", "another period")),
    ]


def _result(ctx: Context, data: Data) -> list[Reply]:
    kept = {"unit": data["unit"], "period": data["period"]}
    if data["action"] == "export":
        return ctx.dialogs.start(ctx, RESULT, data=kept, intro=[export_figures(ctx, data)])
    return ctx.dialogs.start(ctx, FIGURES, data={"unit": data["unit"]})


RESULT = Flow(
    name="hardship_figures_result",
    steps=(Choose("action", N_("需要导出Excel，或换个时段看看吗？"), options=_result_options),),
    on_done=_result,
    browse=True,
)


def _start(ctx: Context, arg: str) -> list[Reply]:
    units = figures_scope(ctx.session, _actor(ctx))
    data: Data = {"unit": units[0].id} if len(units) == 1 else {}
    return ctx.dialogs.start(ctx, FIGURES, data=data)


FIGURES_FEATURE = Feature(
    name="hardship_figures",
    rank=265,
    section=MenuSection.HARDSHIP,
    label=N_("帮扶统计"),
    summary=N_("各单位帮扶申请的类别、进度、时效和发放金额，可导出Excel"),
    words=("/hardship_stats", "帮扶统计", "幫扶統計", "hardship figures"),
    run=_start,
    available=can_see,
)

FEATURES: tuple[Feature, ...] = (FIGURES_FEATURE,)
FLOWS: tuple[Flow, ...] = (FIGURES, RESULT)
RENDERERS: dict[str, Renderer] = {}
PRODUCES: tuple[str, ...] = ()
