"""The command line: ``python -m bot <command>``.

Each command module adds its subcommands with a ``register(subparsers)``
function and sets ``func(app, args) -> exit code`` on them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import (
    cli_activities,
    cli_audit,
    cli_calendar,
    cli_console,
    cli_db,
    cli_digest,
    cli_dues,
    cli_jobs,
    cli_keys,
    cli_members,
    cli_outbox,
    cli_run,
    cli_suggestions,
    cli_wechat,
)
from bot.app import App, configure_calendar, configure_logging
from bot.settings import SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="工会助手 (Union Assistant): the union's chat bot."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_run.register(subparsers)
    cli_console.register(subparsers)
    cli_db.register(subparsers)
    cli_members.register(subparsers)
    cli_wechat.register(subparsers)
    cli_outbox.register(subparsers)
    cli_suggestions.register(subparsers)
    cli_calendar.register(subparsers)
    cli_activities.register(subparsers)
    cli_jobs.register(subparsers)
    cli_keys.register(subparsers)
    cli_audit.register(subparsers)
    cli_dues.register(subparsers)
    cli_digest.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    # A command may send the log elsewhere than stderr (the terminal chat: to a file); it says so first.
    log_file = args.log_file(settings, args) if hasattr(args, "log_file") else None
    configure_logging(settings, log_file=log_file)
    configure_calendar(settings)
    app = App(settings)
    try:
        code: int = args.func(app, args)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    return code
