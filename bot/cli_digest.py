"""``python -m bot digest show 2026-11 [--unit 厂工会/一车间/甲班] [--output x.png]``: one ranking digest.

Prints the level's table as members read it and writes its chart: the union's first
level, or the level of ``--unit`` with that unit highlighted. It reads the digest the
job kept (the monthly job computes a month once, on its day); a period never computed
is named as such. Like every command here it runs as the union office, over the whole
union. Exit codes: 0 shown, 1 no such digest or unit, 2 wrong use (a wrong period).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from bot.app import App
from handlers.rankings.text import level_chart
from models.errors import DomainError, InvalidInput
from models.rankings.digests import get_digest
from models.rankings.periods import parse_period
from models.units import find_unit


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    digest = subparsers.add_parser("digest", help="排行榜: the units' ranking of a month or a quarter")
    actions = digest.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print a digest's table and write its chart")
    show.add_argument("period", metavar="PERIOD", help="a month or a quarter, e.g. 2026-11 or 2026-Q4")
    show.add_argument(
        "--unit", metavar="PATH", help="this unit's level, the unit highlighted, e.g. 厂工会/一车间"
    )
    show.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="where to write the chart; default 排行榜-<period>.png here",
    )
    show.set_defaults(func=_show)


def _show(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    try:
        period = parse_period(args.period)
    except InvalidInput as error:
        print(_.error(error), file=sys.stderr)
        return 2
    try:
        with app.sessions() as session:
            digest = get_digest(session, period)
            unit_id = find_unit(session, args.unit).id if args.unit else None
            shown = level_chart(session, _, digest, unit_id)
    except DomainError as error:
        print(_.error(error), file=sys.stderr)
        return 1
    print(shown.text)
    if shown.chart is not None:
        output: Path = args.output or Path(f"排行榜-{period.key}.png")
        shutil.copyfile(shown.chart, output)
        print(_("图表已保存：{path}").format(path=output))
    return 0
