"""``python -m bot console`` and ``python -m bot demo``: the bot in a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.app import App
from bot.channels.console import ConsoleChannel
from bot.delivery.runner import worker_in_background
from bot.demo_data import DEMO_ADMIN_NO, DEMO_CADRE_NO, DEMO_MEMBER_NO, seed_demo
from bot.settings import Settings
from handlers.core.messages import Incoming
from models.accounts import Channel, bind_account, touch_account, unbind_account
from models.base import utcnow
from models.errors import DomainError
from models.members import get_member_by_employee_no

DEMO_ROLES = {"member": DEMO_MEMBER_NO, "cadre": DEMO_CADRE_NO, "admin": DEMO_ADMIN_NO}
VISITOR_KEY = "visitor"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    console = subparsers.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument(
        "--as", dest="employee_no", metavar="工号", help="act as this member (already bound)"
    )
    console.set_defaults(func=_console)
    demo = subparsers.add_parser("demo", help="load the demo union and chat as one of its people")
    demo.add_argument(
        "--role", choices=sorted(DEMO_ROLES), default="member", help="who to be (default: member)"
    )
    demo.set_defaults(func=_demo)
    for parser in (console, demo):
        parser.add_argument(
            "--log-stderr",
            action="store_true",
            help="print the log in this terminal, between the messages (default: data/unionbot.log)",
        )
        parser.set_defaults(log_file=log_file)


def log_file(settings: Settings, args: argparse.Namespace) -> Path | None:
    """The terminal is the chat window: the log goes to a file, unless asked for with --log-stderr."""
    return None if args.log_stderr else settings.log_path


def console_account(app: App, employee_no: str | None) -> str:
    """The console account key acting as ``employee_no``, bound to that member.

    Whoever runs the console has the database in hand anyway, so the console
    binds without the phone check. Without a 工号 the key is an unbound
    visitor, to try binding as a member would.

    Raises:
        DomainError: no active member has that 工号.
    """
    now = utcnow()
    with app.sessions() as session:
        if employee_no is None:
            account = touch_account(session, channel=Channel.CONSOLE, external_id=VISITOR_KEY, now=now)
            unbind_account(session, account=account)
            return VISITOR_KEY
        member = get_member_by_employee_no(session, employee_no)
        key = f"as:{member.employee_no}"
        account = touch_account(session, channel=Channel.CONSOLE, external_id=key, now=now)
        if account.member_id != member.id:
            bind_account(session, account=account, member=member, now=now, replace=True)
        return key


def _open_console(app: App, employee_no: str | None, banner: str | None = None) -> int:
    _ = app.translator
    terminal = Console(highlight=False)
    try:
        key = console_account(app, employee_no)
    except DomainError as error:
        terminal.print(_.error(error), markup=False)
        return 1

    def switch(target: str | None) -> str | None:
        try:
            return console_account(app, target)
        except DomainError as error:
            terminal.print(_.error(error), markup=False)
            return None

    if banner:
        terminal.print(banner, markup=False)
    channel = ConsoleChannel(
        app.bot,
        console=terminal,
        read_line=lambda prompt: terminal.input(prompt, markup=False),
        translator=_,
        account_key=key,
        switch_member=switch,
    )
    channel.run(greeting=Incoming(Channel.CONSOLE, key, text="/start"))
    return 0


def _log_line(app: App, args: argparse.Namespace) -> list[str]:
    """Where the log went, so someone looking for it (a warning, an incident number) finds it."""
    if args.log_stderr:
        return []
    _ = app.translator
    return [_("运行日志记在 {path}，不会出现在对话里。").format(path=app.settings.log_path)]


def _console(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    banner = _("终端模式：回复“菜单”查看功能；/photo 文件路径 发送照片；/as 工号 切换身份；/quit 退出。")
    return _open_console(app, args.employee_no, "\n".join([banner, *_log_line(app, args)]))


def _demo(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    seeded = seed_demo(app.sessions, app.core_config, app.registry)
    employee_no = DEMO_ROLES[args.role]
    with app.sessions() as session:
        visitor = get_member_by_employee_no(session, DEMO_MEMBER_NO)
        last4 = (visitor.phone or "")[-4:]
    lines = [
        _("已载入演示工会：厂工会下设三个单位，约 40 名会员。")
        if seeded
        else _("演示工会已在 ./data 中，继续使用。"),
        _("试试回复“菜单”“我的”“语言”，答错了也没关系。"),
        _("/as {cadre} 切换为工会干部，/as {admin} 切换为管理员，/as {member} 切换为普通会员。").format(
            cadre=DEMO_CADRE_NO, admin=DEMO_ADMIN_NO, member=DEMO_MEMBER_NO
        ),
        _("只输入 /as 可以体验绑定：工号 {member}，手机后四位 {last4}。").format(
            member=DEMO_MEMBER_NO, last4=last4
        ),
        _("/photo 文件路径 发送照片，/quit 退出。"),
        *_log_line(app, args),
    ]
    with worker_in_background(app):
        return _open_console(app, employee_no, "\n".join(lines))
