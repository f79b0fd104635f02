"""``python -m bot activities draw ID --verify | priority ID FILE``: checking a lottery, a priority list.

``draw --verify`` re-runs an activity's draw from its published seed and its
entrants and says whether the recorded order is the one the seed gives (exit 0)
or not (exit 1). ``priority`` imports the members who sign up first (劳模 for a
疗养): a .xlsx or .csv with a 工号 column (or 工号s in the first column), all
checked before anything is written.
Exit codes: 0 done, 1 a draw that does not hold or a bad file, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlmodel import select

from bot.app import App
from models.activities.lottery import set_priority_list, verify_draw
from models.errors import InvalidInput
from models.members import Member, clean_employee_no


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    activities = subparsers.add_parser(
        "activities", help="activities: verify a lottery, import a priority list"
    )
    actions = activities.add_subparsers(dest="action", required=True, metavar="ACTION")
    draw = actions.add_parser("draw", help="re-run an activity's draw from its seed and compare")
    draw.add_argument("activity", type=int, metavar="ID")
    draw.add_argument("--verify", action="store_true", required=True, help="compare with the recorded order")
    draw.set_defaults(func=_verify)
    priority = actions.add_parser("priority", help="import the members who may sign up first")
    priority.add_argument("activity", type=int, metavar="ID")
    priority.add_argument("file", type=Path, metavar="FILE", help=".xlsx or .csv with a 工号 column")
    priority.set_defaults(func=_priority)


def _verify(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    with app.sessions() as session:
        try:
            check = verify_draw(session, activity_id=args.activity)
        except InvalidInput as error:
            print(_.error(error))
            return 1
        numbers = dict(session.exec(select(Member.id, Member.employee_no)).all())
    print(_("抽签种子：{seed}").format(seed=check.seed))
    print(_("参加抽签：{count} 人").format(count=len(check.recorded)))
    print(_("按种子重抽的顺序（工号）：{order}").format(order=" ".join(numbers[m] for m in check.recomputed)))
    if check.holds:
        print(_("与记录的抽签结果一致。"))
        return 0
    recorded = " ".join(numbers[m] for m in check.recorded)
    print(_("与记录的抽签结果不一致！记录的顺序：{order}").format(order=recorded))
    return 1


def _employee_nos(path: Path) -> list[str]:
    """The 工号s of a file: its 工号 column, or its first column; header and blank cells skipped."""
    if path.suffix.lower() == ".xlsx":
        sheet = load_workbook(path, read_only=True).active
        assert sheet is not None
        rows = [
            ["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        data = path.read_bytes()
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else _decode(data)
        rows = list(csv.reader(io.StringIO(text)))
    column = 0
    if rows and "工号" in [cell.strip() for cell in rows[0]]:
        column = [cell.strip() for cell in rows[0]].index("工号")
        rows = rows[1:]
    numbers = []
    for row in rows:
        if column < len(row) and row[column].strip() and row[column].strip() != "工号":
            numbers.append(clean_employee_no(row[column]))
    return numbers


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gbk")


def _priority(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    try:
        numbers = _employee_nos(args.file)
    except InvalidInput as error:
        print(_.error(error))
        return 1
    except (OSError, ValueError) as error:
        print(_("读不了这个文件：{error}").format(error=error))
        return 1
    with app.sessions() as session:
        try:
            count = set_priority_list(session, activity_id=args.activity, employee_nos=numbers)
        except InvalidInput as error:
            session.rollback()
            print(_.error(error))
            return 1
    print(_("已导入优先名单：{count} 人。").format(count=count))
    return 0
