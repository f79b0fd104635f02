"""``python -m bot db upgrade`` and ``python -m bot db revision "what changed"``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from alembic.util import CommandError

from bot import database
from bot.app import App


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply every pending migration")
    upgrade.set_defaults(func=_upgrade)
    revision = actions.add_parser(
        "revision",
        help="write the next numbered migration from what the models changed",
        description="Compares the models with a scratch database brought to head and writes "
        "models/migrations/versions/NNNN_<message>.py; read it before committing.",
    )
    revision.add_argument("message", help='what changed, e.g. "dues payments"; it names the file')
    revision.set_defaults(func=_revision)


def _upgrade(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    app.prepare()
    print(_("数据库已是最新结构。"))
    return 0


def _revision(app: App, args: argparse.Namespace) -> int:
    # A tool for whoever changes the models: Alembic names the file it writes, or says why not.
    try:
        database.revision(args.message)
    except CommandError as error:
        print(error, file=sys.stderr)
        return 2
    return 0
