"""``python -m bot db upgrade``."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import App


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply every pending migration")
    upgrade.set_defaults(func=_upgrade)


def _upgrade(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    app.prepare()
    print(_("数据库已是最新结构。"))
    return 0
