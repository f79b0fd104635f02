"""``python -m bot suggestions export``: the suggestion figures of a period as an .xlsx workbook.

The 厂工会 office files these figures each month, quarter and year. Like every
command here it runs as whoever holds the server and its database — the
union office — so it acts as :attr:`System.COMMAND_LINE`, over the whole
tree: the root unit unless ``--unit`` names another.
Exit codes: 0 written, 1 not found, 2 wrong use of the command (a wrong period).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.app import App
from handlers.core.i18n import Translator
from handlers.suggestions.workbook import file_name, period_title, save_report
from models.base import utcnow
from models.errors import DomainError, InvalidInput
from models.periods import Period, parse_period
from models.suggestions import SuggestionPolicy
from models.suggestions.figures import System, figures_report, money_text
from models.units import find_unit


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    suggestions = subparsers.add_parser("suggestions", help="合理化建议: figures per unit and period")
    actions = suggestions.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write the figures, the register and the personal ranking of a period to .xlsx"
    )
    period = export.add_mutually_exclusive_group(required=True)
    period.add_argument("--quarter", metavar="YYYYQn", help="a quarter, e.g. 2026Q4")
    period.add_argument("--month", metavar="YYYY-MM", help="a month, e.g. 2026-11")
    period.add_argument("--year", metavar="YYYY", help="a year, e.g. 2026")
    export.add_argument("--unit", metavar="PATH", help="this unit and those below it, e.g. 厂工会/一车间")
    export.add_argument(
        "--output", type=Path, metavar="FILE", help="where to write; default 建议统计-<period>.xlsx here"
    )
    export.set_defaults(func=_export)


def _export(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    try:
        period = parse_period(args.quarter or args.month or args.year)
    except InvalidInput as error:
        print(_.error(error), file=sys.stderr)
        return 2
    try:
        return _write(app, args, period, _)
    except DomainError as error:
        print(_.error(error), file=sys.stderr)
        return 1


def _write(app: App, args: argparse.Namespace, period: Period, _: Translator) -> int:
    policy = app.core_config.policy(SuggestionPolicy)
    today = policy.today(utcnow())
    with app.sessions() as session:
        unit_id = find_unit(session, args.unit).id if args.unit else None
        report = figures_report(
            session,
            actor=System.COMMAND_LINE,
            unit_id=unit_id,
            period=period,
            today=today,
            policy=policy,
            with_lines=True,
        )
    path: Path = args.output or Path(file_name(_, period))
    if path.suffix.lower() != ".xlsx":
        path = path.with_name(path.name + ".xlsx")
    save_report(report, path=path, t=_)
    total = report.total
    print(_("已写入 {file}").format(file=path))
    print(
        _(
            "{unit}，{period}：提出 {submitted} 条，采纳 {adopted} 条，实施 {implemented} 条，创效 {value}。"
        ).format(
            unit=report.unit_path,
            period=period_title(_, period),
            submitted=total.submitted,
            adopted=total.adopted,
            implemented=total.implemented,
            value=money_text(total.value_fen, _),
        )
    )
    return 0
