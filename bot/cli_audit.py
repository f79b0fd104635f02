"""``python -m bot audit list``: who opened which hardship file, export or figure, newest first.

Run by whoever holds the server (the union office), like every command here, so
it reads the whole log. ``--member`` takes the 工号 of the one who opened;
``--since`` a date (the union's time zone) or a date and time.
Exit codes: 0 listed, 2 a date that does not read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.app import App
from handlers.core.i18n import Translator
from models.audit import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, list_audit
from models.errors import InvalidInput
from models.members import clean_employee_no

PIPE_WIDTH = 160


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    audit = subparsers.add_parser("audit", help="the audit log of sensitive records opened")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the newest entries first")
    listing.add_argument("--member", metavar="工号", help="only what this member opened")
    listing.add_argument("--since", metavar="YYYY-MM-DD[THH:MM]", help="only from then on")
    listing.add_argument(
        "--limit", type=int, default=LIST_LIMIT_DEFAULT, metavar="N", help=f"at most N (≤ {LIST_LIMIT_MAX})"
    )
    listing.set_defaults(func=_list)


def _since(app: App, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    parsed = datetime.fromisoformat(raw.strip())
    if parsed.tzinfo is None:
        if len(raw.strip()) <= len("2026-12-01"):
            parsed = datetime.combine(parsed.date(), time())
        parsed = parsed.replace(tzinfo=app.settings.zone)
    return parsed


def _list(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _: Translator = app.translator
    try:
        since = _since(app, args.since)
    except ValueError:
        print(
            _("看不懂这个时间“{value}”，请写成 2026-12-01 或 2026-12-01T08:30。").format(value=args.since),
            file=sys.stderr,
        )
        return 2
    try:
        employee_no = clean_employee_no(args.member) if args.member is not None else None
    except InvalidInput as error:
        print(_.error(error), file=sys.stderr)
        return 2
    with app.sessions() as session:
        rows = list_audit(session, actor=None, member_employee_no=employee_no, since=since, limit=args.limit)
    if not rows:
        print(_("没有查阅记录。"))
        return 0
    table = Table()
    for header in (_("时间"), _("工号"), _("姓名"), _("操作"), _("对象"), _("渠道"), _("结果")):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row.at.astimezone(app.settings.zone).strftime("%Y-%m-%d %H:%M:%S"),
            Text(row.actor_employee_no or _("系统")),
            Text(row.actor_name or ""),
            Text(row.action),
            Text(row.subject),
            Text(row.channel),
            _("允许") if row.allowed else _("拒绝"),
        )
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    console.print(table)
    return 0
