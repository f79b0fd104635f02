"""The suggestion figures as an .xlsx workbook: the form a 厂工会 files and forwards.

Three sheets: 汇总 (the table per unit), 明细 (every suggestion of the period)
and 个人排行 (the personal ranking, named suggestions only). Headers are msgids
translated with the reader's translator, so the official Chinese form comes
out for a Chinese union and a readable one for anyone else.

Everything members wrote goes in as text, never as a formula: a title such as
"=HYPERLINK(…)" must not run when the office opens the file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session

from handlers.core.workbook import (
    DATE_FORMAT,
    DECIMAL_FORMAT,
    PERCENT_FORMAT,
    YUAN_FORMAT,
    Sheet,
    save_workbook,
)
from models.errors import N_
from models.periods import Period
from models.suggestions import AWARD_LABELS, STATUS_LABELS, SuggestionPolicy
from models.suggestions.figures import (
    Actor,
    FiguresReport,
    RowKind,
    UnitFigures,
    figures_report,
    yuan,
)

Translate = Callable[[str], str]


FILE_STEM = N_("建议统计")

SUMMARY_SHEET = N_("汇总")
LINES_SHEET = N_("明细")
RANKING_SHEET = N_("个人排行")

SUMMARY_HEADERS = (
    N_("单位"),
    N_("提出建议（条）"),
    N_("会员人数"),
    N_("每百人建议数"),
    N_("采纳（条）"),
    N_("采纳率"),
    N_("实施（条）"),
    N_("创效（元）"),
    N_("平均答复天数"),
    N_("超期（条）"),
)
LINES_HEADERS = (
    N_("编号"),
    N_("单位"),
    N_("类别"),
    N_("标题"),
    N_("提出人"),
    N_("工号"),
    N_("状态"),
    N_("提交日期"),
    N_("决定日期"),
    N_("是否采纳"),
    N_("创效（元）"),
    N_("奖项"),
    N_("奖金（元）"),
)
RANKING_HEADERS = (
    N_("名次"),
    N_("姓名"),
    N_("工号"),
    N_("单位"),
    N_("提出建议（条）"),
    N_("采纳（条）"),
    N_("实施（条）"),
    N_("创效（元）"),
)


def period_title(t: Translate, period: Period) -> str:
    """ "2026年第4季度", in the reader's language."""
    msgid, params = period.title
    return t(msgid).format(**params)


def file_name(t: Translate, period: Period) -> str:
    """The name a reader sees: 建议统计-2026Q4.xlsx."""
    return f"{t(FILE_STEM)}-{period.key}.xlsx"


def row_name(t: Translate, row: UnitFigures) -> str:
    """A table row's unit: its name, "一车间（本级）" for the chosen unit's own, "合计" for the total."""
    if row.kind is RowKind.TOTAL:
        return t("合计")
    if row.kind is RowKind.OWN:
        return t("{unit}（本级）").format(unit=row.name)
    return row.name


def _summary(sheet: Sheet, report: FiguresReport, t: Translate) -> None:
    formats = (None, None, None, DECIMAL_FORMAT, None, PERCENT_FORMAT, None, YUAN_FORMAT, DECIMAL_FORMAT)
    for row in report.rows:
        sheet.add(
            (
                row_name(t, row),
                row.submitted,
                row.members,
                row.per_100_members,
                row.adopted,
                row.adoption_rate,
                row.implemented,
                yuan(row.value_fen),
                row.average_answer_days,
                row.overdue,
            ),
            formats,
            bold=row.kind is RowKind.TOTAL,
        )
    sheet.next_row += 1
    notes = (
        t("超期：截至 {today} 仍未在期限内办理的建议，不限提交时间。").format(today=report.today.isoformat()),
        t("采纳率 = 本期采纳数 ÷ 本期提出数；合并到其他建议的不单独计数。"),
        t("创效为本期实施完成的建议所创造的效益。"),
    )
    for note in notes:
        sheet.add((note,))


def _money(fen: int | None) -> Decimal | None:
    return yuan(fen) if fen is not None else None


def _lines(sheet: Sheet, report: FiguresReport, t: Translate) -> None:
    yes_no = {True: t("是"), False: t("否"), None: ""}
    formats = (None,) * 7 + (DATE_FORMAT, DATE_FORMAT, None, YUAN_FORMAT, None, YUAN_FORMAT)
    for line in report.lines:
        sheet.add(
            (
                line.number,
                line.unit_path,
                t(line.category),
                line.title,
                line.proposer if line.proposer is not None else t("匿名"),
                line.employee_no or "",
                t(STATUS_LABELS[line.status]),
                line.submitted_on,
                line.decided_on,
                yes_no[line.adopted],
                _money(line.value_fen),
                t(AWARD_LABELS[line.award]) if line.award is not None else "",
                _money(line.prize_fen),
            ),
            formats,
        )


def _ranking(sheet: Sheet, report: FiguresReport) -> None:
    formats = (None,) * 7 + (YUAN_FORMAT,)
    for person in report.proposers:
        sheet.add(
            (
                person.rank,
                person.name,
                person.employee_no,
                person.unit_path,
                person.submitted,
                person.adopted,
                person.implemented,
                yuan(person.value_fen),
            ),
            formats,
        )


def build_workbook(report: FiguresReport, t: Translate) -> Workbook:
    """The three sheets of a report, in memory."""
    workbook = Workbook()
    title = t("{unit} 合理化建议统计（{period}）").format(
        unit=report.unit_path, period=period_title(t, report.period)
    )
    summary = workbook.active
    assert summary is not None
    summary.title = t(SUMMARY_SHEET)
    summary_sheet = Sheet(summary, title, [t(h) for h in SUMMARY_HEADERS])
    _summary(summary_sheet, report, t)
    lines_sheet = Sheet(workbook.create_sheet(t(LINES_SHEET)), title, [t(h) for h in LINES_HEADERS])
    _lines(lines_sheet, report, t)
    ranking_sheet = Sheet(workbook.create_sheet(t(RANKING_SHEET)), title, [t(h) for h in RANKING_HEADERS])
    _ranking(ranking_sheet, report)
    for sheet in (summary_sheet, lines_sheet, ranking_sheet):
        sheet.finish()
    return workbook


def save_report(report: FiguresReport, *, path: Path, t: Translate) -> Path:
    """Write the workbook whole or not at all: a half-written file is never left under ``path``."""
    return save_workbook(build_workbook(report, t), path)


def write_workbook(
    session: Session,
    *,
    actor: Actor,
    period: Period,
    unit_id: int | None,
    policy: SuggestionPolicy,
    path: Path,
    today: date,
    t: Translate,
) -> Path:
    """The figures, register and ranking of one unit and period, as an .xlsx file at ``path``.

    Raises:
        PermissionDenied, NotFound, InvalidInput: see :func:`models.suggestion_figures.figures_scope`.
    """
    report = figures_report(
        session, actor=actor, unit_id=unit_id, period=period, today=today, policy=policy, with_lines=True
    )
    return save_report(report, path=path, t=t)
