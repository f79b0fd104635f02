"""活动统计: who took part, per unit and period, in chat and as .xlsx; and the ranking's input.

The cadre picks a unit of their activities scope (when they have several) and a
period; the answer is one line for the unit and one per unit directly below it:
activities held, sign-ups, attended and the attendance rate, members who took
part and per 100 members (models.activities.figures defines each).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from sqlmodel import Session

from handlers.activities.organise import can_manage_activities
from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.module import Score, ScorePeriod
from handlers.core.steps import FiguresResultStep, PeriodStep
from handlers.core.workbook import DECIMAL_FORMAT, MIME_TYPE, Sheet, save_workbook
from models.activities import activity_scope
from models.activities.figures import Participation, participation_report, participation_scores
from models.errors import N_
from models.members import Member
from models.periods import Period, parse_period
from models.units import get_unit, unit_path

HEADERS = (
    N_("单位"),
    N_("活动（个）"),
    N_("报名（人次）"),
    N_("到场（人次）"),
    N_("到场率（%）"),
    N_("会员人数"),
    N_("参与人数"),
    N_("每百人参与"),
)


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _period_name(ctx: Context, period: Period) -> str:
    msgid, params = period.title
    return ctx.t(msgid).format(**params)


def _unit_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(str(unit.id), unit_path(ctx.session, unit), literal=True)
        for unit in activity_scope(ctx.session, _actor(ctx))
    ]


def _report(ctx: Context, unit_id: int, period: Period) -> tuple[str, list[Participation]]:
    unit = get_unit(ctx.session, unit_id)
    start, end = period.bounds(ctx.config.timezone)
    rows = participation_report(ctx.session, actor=_actor(ctx), unit=unit, start=start, end=end)
    return unit_path(ctx.session, unit), rows


def _line(ctx: Context, row: Participation, own: bool) -> str:
    _ = ctx.t
    rate, per_100 = row.attendance_rate, row.per_100
    return _(
        "{unit}：活动 {activities} 个，报名 {signups} 人次，"
        "到场 {attended} 人次{rate}，参与 {took_part} 人{per_100}"
    ).format(
        unit=_("合计") if own else row.unit.name,
        activities=row.activities,
        signups=row.signups,
        attended=row.attended,
        rate=_("（{percent}%）").format(percent=rate) if rate is not None else "",
        took_part=row.took_part,
        per_100=_("（每百人 {count}）").format(count=per_100) if per_100 is not None else "",
    )


def show_figures(ctx: Context, *, unit_id: int, period: Period) -> list[Reply]:
    path, rows = _report(ctx, unit_id, period)
    _ = ctx.t
    lines = [_("【活动统计】{unit}，{period}").format(unit=path, period=_period_name(ctx, period))]
    lines.extend(_line(ctx, row, own=False) for row in rows[1:])
    lines.append(_line(ctx, rows[0], own=True))
    lines.append("")
    lines.append(_("到场率 = 到场人次 ÷ 报名人次；参与人数：本期至少到场一次的会员。"))
    data = {"unit": unit_id, "period": period.key}
    return ctx.dialogs.start(ctx, RESULT, data=data, intro=[Reply("\n".join(lines))])


def export_figures(ctx: Context, *, unit_id: int, period: Period) -> Reply:
    """The table as a workbook, written afresh for each export."""
    path, rows = _report(ctx, unit_id, period)
    title = ctx.t("{unit}{period}活动统计").format(unit=path, period=_period_name(ctx, period))
    workbook = Workbook()
    active = workbook.active
    assert active is not None
    active.title = ctx.t("活动统计")
    sheet = Sheet(active, title, [ctx.t(header) for header in HEADERS])
    formats = (None, None, None, None, DECIMAL_FORMAT, None, None, DECIMAL_FORMAT)
    for index, row in enumerate([*rows[1:], rows[0]]):
        own = index == len(rows) - 1
        values = (
            ctx.t("合计") if own else row.unit.name,
            row.activities,
            row.signups,
            row.attended,
            row.attendance_rate,
            row.members,
            row.took_part,
            row.per_100,
        )
        sheet.add(values, formats, bold=own)
    sheet.finish()
    file = ctx.config.export_dir / f"activity-figures-{period.key}-{secrets.token_hex(8)}.xlsx"
    save_workbook(workbook, file)
    name = ctx.t("活动统计-{period}.xlsx").format(period=period.key)
    text = ctx.t("{unit}{period}的活动统计表。").format(unit=path, period=_period_name(ctx, period))
    return Reply(text, file=OutgoingFile(str(file), name=name, mime_type=MIME_TYPE))


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    return show_figures(ctx, unit_id=int(data["unit"]), period=parse_period(str(data["period"])))


FIGURES = Flow(
    name="activity_figures",
    steps=(
        Choose("unit", N_("要看哪个单位的活动统计？"), options=_unit_options, skip_if=lambda d: "unit" in d),
        PeriodStep(
            "period", N_("要看哪个时段？请选择，或直接输入，例如 {quarter}（季度）、{month}（月份）。")
        ),
    ),
    on_done=_chosen,
)


def _result(ctx: Context, data: Data) -> list[Reply]:
    unit_id, period = int(data["unit"]), parse_period(str(data["period"]))
    action = str(data["action"])
    if action == "export":
        return [export_figures(ctx, unit_id=unit_id, period=period)]
    if action.startswith("period:"):
        return show_figures(ctx, unit_id=unit_id, period=parse_period(action.removeprefix("period:")))
    return ctx.dialogs.start(ctx, FIGURES, data={"unit": unit_id})


RESULT = Flow(
    name="activity_figures_result",
    steps=(FiguresResultStep("action", N_("需要导出Excel，或换个时段看看吗？")),),
    on_done=_result,
    browse=True,
)


def _figures(ctx: Context, arg: str) -> list[Reply]:
    scope = activity_scope(ctx.session, _actor(ctx))
    data = {"unit": scope[0].id} if len(scope) == 1 else {}
    return ctx.dialogs.start(ctx, FIGURES, data=data)


ACTIVITY_FIGURES = Feature(
    name="activity_figures",
    rank=95,
    section=MenuSection.ACTIVITIES,
    label=N_("活动统计"),
    summary=N_("各单位的活动、报名、到场和参与情况，可导出Excel"),
    words=("/activity_figures", "活动统计", "活動統計", "activity figures"),
    run=_figures,
    available=can_manage_activities,
)


def _participation(
    session: Session, period: ScorePeriod, subtrees: Mapping[int, frozenset[int]]
) -> dict[int, float]:
    return participation_scores(session, start=period.start, end=period.end, subtrees=subtrees)


# The ranking's input: members who took part (attended at least once) per 100 members.
PARTICIPATION_SCORE = Score("activity_participation", N_("活动参与率"), _participation)
