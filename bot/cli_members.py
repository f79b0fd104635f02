"""``python -m bot members …``: the roster from the command line.

The 厂工会 office keeps the roster (花名册) in a spreadsheet and imports it
again whenever it changes; the rest is what an admin needs before the bot can
be used: list who is there, hand out binding codes, give and take roles.
Exit codes: 0 done, 1 bad data or not found, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from bot.app import App
from bot.roster_files import UnsupportedFile, read_roster, write_roster
from handlers.core.i18n import Translator
from models.base import utcnow
from models.errors import N_, DomainError
from models.invites import create_invite, format_code
from models.members import STATUS_LABELS, get_member_by_employee_no
from models.names import hidden_character, visible
from models.roles import ROLE_LABELS, grant_role, parse_role, revoke_role
from models.roster import (
    Batches,
    ImportResult,
    ProgressCallback,
    RosterEntry,
    RosterRecord,
    import_roster,
    roster_records,
    rows_digest,
    unfinished_import,
    validate_rows,
)
from models.units import find_unit, unit_path

# Below this many rows an import takes a blink, and a bar would only flicker.
PROGRESS_MIN_ROWS = 1000
# Piped into a file, a table is not squeezed into 80 columns.
PIPE_WIDTH = 200

Action = Callable[[App, argparse.Namespace, Translator], int]

UNIT_HELP = "only this unit and those below it: a full path (厂工会/二车间) or a unique name (二车间)"
# How the 绑定 column names a channel; a member bound on none is 未绑定, someone to give an invite.
CHANNEL_LABELS = {"telegram": N_("Telegram"), "wechat": N_("微信"), "console": N_("终端")}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    members = subparsers.add_parser("members", help="roster: import, export, list, invite, grant")
    actions = members.add_subparsers(dest="action", required=True, metavar="ACTION")

    imports = actions.add_parser("import", help="import a roster (.xlsx or .csv); every row is checked first")
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and list the others, instead of nothing",
    )
    imports.add_argument(
        "--keep-other-grants",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep roles on other units that the 角色 column does not name (given with `members grant`); "
        "default: UNIONBOT_ROSTER_KEEP_OTHER_GRANTS (false: the file states every role)",
    )
    imports.set_defaults(func=_run(_import))

    export = actions.add_parser(
        "export", help="write the roster to .xlsx or .csv, ready to edit and import again"
    )
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument("--unit", metavar="UNIT", help=UNIT_HELP)
    export.set_defaults(func=_run(_export))

    listing = actions.add_parser(
        "list", help="show members as a table, units in the union's order, phones masked, channels bound"
    )
    listing.add_argument("--unit", metavar="UNIT", help=UNIT_HELP)
    listing.set_defaults(func=_run(_list))

    invite = actions.add_parser("invite", help="a one-time binding code (and Telegram link) for a member")
    invite.add_argument("employee_no", metavar="工号")
    invite.set_defaults(func=_run(_invite))

    for name, handler, text in (
        ("grant", _grant, "give a member a role on a unit and everything below it"),
        ("revoke", _revoke, "take a role on a unit back"),
    ):
        parser = actions.add_parser(name, help=text)
        parser.add_argument("employee_no", metavar="工号")
        parser.add_argument("role", metavar="ROLE", help="e.g. admin, chair, committee, 工会主席, 职工代表")
        parser.add_argument(
            "unit", metavar="UNIT", help="a full path, e.g. 厂工会/二车间, or a unique unit name"
        )
        parser.set_defaults(func=_run(handler))


def _run(action: Action) -> Callable[[App, argparse.Namespace], int]:
    """Migrate first, then turn a domain error into its sentence and an exit code."""

    def run(app: App, args: argparse.Namespace) -> int:
        app.prepare()
        _ = app.translator
        try:
            return action(app, args, _)
        except UnsupportedFile as error:
            print(visible(_.error(error), keep_lines=True), file=sys.stderr)
            return 2
        except DomainError as error:
            print(visible(_.error(error), keep_lines=True), file=sys.stderr)
            return 1

    return run


def _console(*, stderr: bool = False) -> Console:
    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


@contextmanager
def _progress(description: str, total: int) -> Iterator[ProgressCallback]:
    """A progress bar on the terminal for large files; silent in pipes, logs and tests."""
    console = _console(stderr=True)
    if total < PROGRESS_MIN_ROWS or not console.is_terminal:
        yield lambda done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


def _busy(description: str) -> AbstractContextManager[object]:
    """A spinner on the terminal while a large workbook is read."""
    console = _console(stderr=True)
    return console.status(description) if console.is_terminal else nullcontext()


def _import(app: App, args: argparse.Namespace, _: Translator) -> int:
    with _busy(_("正在读取 {file}……").format(file=args.file.name)):
        rows = read_roster(args.file)
        valid, problems = validate_rows(rows)
    for line, error in problems:
        reason = visible(_.error(error), keep_lines=True)
        print(_("第 {line} 行：{reason}").format(line=line, reason=reason), file=sys.stderr)
    bad_lines = len({line for line, _error in problems})
    if problems and not args.skip_invalid:
        print(
            _.ngettext(
                "有 {count} 行数据有误，没有导入任何会员。",
                "有 {count} 行数据有误，没有导入任何会员。",
                bad_lines,
            ).format(count=bad_lines),
            file=sys.stderr,
        )
        print(_("请改正后重新导入，或加上 --skip-invalid 只导入正确的行。"), file=sys.stderr)
        return 1
    if not valid:
        print(_("文件里没有可以导入的会员。"), file=sys.stderr)
        return 1
    keep = app.settings.roster_keep_other_grants if args.keep_other_grants is None else args.keep_other_grants
    with app.sessions() as session:
        _say_if_unfinished(session, valid, _)
    # SQLite has one writer: committed chunk by chunk, a long import lets chat write in between.
    # PostgreSQL lets both write at once, and keeps the import one transaction.
    batches = Batches(label=args.file.name) if app.engine.dialect.name == "sqlite" else None
    with _progress(_("正在导入"), total=len(valid)) as report, app.sessions() as session:
        result = import_roster(session, valid, progress=report, keep_other_grants=keep, batches=batches)
    _print_role_changes(result, _)
    print(
        _(
            "导入完成：新增 {created} 人，更新 {updated} 人，未变 {unchanged} 人；新建单位 {units} 个。"
        ).format(
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            units=result.units_created,
        )
    )
    if problems:
        print(
            _.ngettext(
                "已跳过 {count} 行有误的数据，见上方列表。",
                "已跳过 {count} 行有误的数据，见上方列表。",
                bad_lines,
            ).format(count=bad_lines)
        )
    return 0


def _export(app: App, args: argparse.Namespace, _: Translator) -> int:
    with app.sessions() as session:
        under = find_unit(session, args.unit) if args.unit else None
        records = roster_records(session, under=under)
    count = write_roster(args.file, (record.to_row(line) for line, record in enumerate(records, start=2)))
    print(
        _.ngettext("已导出 {count} 名会员到 {file}。", "已导出 {count} 名会员到 {file}。", count).format(
            count=count, file=args.file
        )
    )
    marked = [record.employee_no for record in records if _has_hidden(record)]
    if marked:
        print(
            _.ngettext(
                "有 {count} 名会员的资料里有看不见的字符，导出时已标成“<U+…>”：{employee_nos}。"
                "请在表格里改正后重新导入。",
                "有 {count} 名会员的资料里有看不见的字符，导出时已标成“<U+…>”：{employee_nos}。"
                "请在表格里改正后重新导入。",
                len(marked),
            ).format(count=len(marked), employee_nos="、".join(visible(number) for number in marked)),
            file=sys.stderr,
        )
    return 0


def _has_hidden(record: RosterRecord) -> bool:
    """Whether a row written before imports refused hidden characters still holds one."""
    texts = (record.employee_no, record.name, record.unit_path, record.phone or "")
    return any(hidden_character(text) for text in texts)


def mask_phone(phone: str | None) -> str:
    """138****1234: enough to tell members apart on a shared screen, not enough to call them."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "****"
    return f"{phone[:3]}****{phone[-4:]}"


def _roles_text(record: RosterRecord, _: Translator) -> str:
    own = [_(ROLE_LABELS[role]) for role in record.roles]
    elsewhere = [
        _("{role}（{unit}）").format(role=_(ROLE_LABELS[role]), unit=visible(path))
        for role, path in record.other_roles
    ]
    return "\n".join(own + elsewhere)


def _list(app: App, args: argparse.Namespace, _: Translator) -> int:
    with app.sessions() as session:
        under = find_unit(session, args.unit) if args.unit else None
        records = roster_records(session, under=under)
    if not records:
        print(_("没有找到会员。"))
        return 0
    table = Table(show_lines=False)
    for header in (_("工号"), _("姓名"), _("单位"), _("手机"), _("状态"), _("角色"), _("绑定")):
        table.add_column(header)
    for record in records:
        # Text(), not str: a name like "[b]李四" must not be read as markup; visible(): rows
        # written before imports refused hidden characters must not print an escape sequence.
        table.add_row(
            Text(visible(record.employee_no)),
            Text(visible(record.name)),
            Text(visible(record.unit_path)),
            Text(mask_phone(record.phone)),
            Text(_(STATUS_LABELS[record.status])),
            Text(_roles_text(record, _)),
            Text(_channels_text(record, _)),
        )
    _console().print(table)
    count = len(records)
    unbound = sum(1 for record in records if not record.channels)
    print(_.ngettext("共 {count} 名会员。", "共 {count} 名会员。", count).format(count=count))
    print(_("已绑定 {bound} 名，未绑定 {unbound} 名。").format(bound=count - unbound, unbound=unbound))
    if unbound:
        print(_("未绑定的会员可以用 members invite 工号 生成绑定码。"))
    return 0


def _channels_text(record: RosterRecord, _: Translator) -> str:
    if not record.channels:
        return _("未绑定")
    return "、".join(_(CHANNEL_LABELS.get(channel, channel)) for channel in record.channels)


def _invite(app: App, args: argparse.Namespace, _: Translator) -> int:
    now = utcnow()
    ttl = timedelta(days=app.settings.invite_ttl_days)
    with app.sessions() as session:
        member = get_member_by_employee_no(session, args.employee_no)
        code = create_invite(session, member=member, now=now, ttl=ttl)
        name, employee_no = visible(member.name), visible(member.employee_no)
    expires = (now + ttl).astimezone(app.settings.zone)
    print(
        _("{name}（工号 {employee_no}）的绑定码：{code}").format(
            name=name, employee_no=employee_no, code=format_code(code)
        )
    )
    print(
        _("有效期至 {expires}（{timezone}），只能使用一次。").format(
            expires=expires.strftime("%Y-%m-%d %H:%M"), timezone=app.settings.timezone
        )
    )
    print(_("会员绑定时，在要求输入工号的地方输入这个绑定码即可。"))
    username = (app.settings.telegram_bot_username or "").strip().lstrip("@")
    if username:
        link = f"https://t.me/{username}?start={code}"
        print(_("Telegram 一键绑定链接：{link}").format(link=link))
    else:
        print(_("设置 UNIONBOT_TELEGRAM_BOT_USERNAME 后，这里还会给出 Telegram 一键绑定链接。"))
    return 0


def _grant(app: App, args: argparse.Namespace, _: Translator) -> int:
    role = parse_role(args.role)
    with app.sessions() as session:
        member = get_member_by_employee_no(session, args.employee_no)
        unit = find_unit(session, args.unit)
        grant_role(session, member=member, role=role, unit=unit)
        params = _who_where(member.name, member.employee_no, unit_path(session, unit))
    print(
        _("已授予 {name}（工号 {employee_no}）在“{unit}”的{role}角色。").format(
            role=_(ROLE_LABELS[role]), **params
        )
    )
    return 0


def _revoke(app: App, args: argparse.Namespace, _: Translator) -> int:
    role = parse_role(args.role)
    with app.sessions() as session:
        member = get_member_by_employee_no(session, args.employee_no)
        unit = find_unit(session, args.unit)
        revoked = revoke_role(session, member=member, role=role, unit=unit)
        params = _who_where(member.name, member.employee_no, unit_path(session, unit))
    if revoked:
        message = _("已撤销 {name}（工号 {employee_no}）在“{unit}”的{role}角色。")
    else:
        message = _("{name}（工号 {employee_no}）在“{unit}”没有{role}角色，无需撤销。")
    print(message.format(role=_(ROLE_LABELS[role]), **params))
    return 0


def _who_where(name: str, employee_no: str, unit: str) -> dict[str, str]:
    """A member and a unit, as printable as the database may hold them."""
    return {"name": visible(name), "employee_no": visible(employee_no), "unit": visible(unit)}


def _say_if_unfinished(session: Session, valid: list[RosterEntry], _: Translator) -> None:
    """An import cut short (a crash mid-way) is named before the next one runs."""
    earlier = unfinished_import(session)
    if earlier is None:
        return
    params = {"file": visible(earlier.label), "done": earlier.done, "rows": earlier.rows}
    if earlier.digest == rows_digest(valid):
        message = _("上次导入 {file} 在 {done}/{rows} 行处中断；这次导入的是同一份名单，会把它做完。")
    else:
        message = _(
            "上次导入 {file} 在 {done}/{rows} 行处中断，没有做完。"
            "这次导入的是另一份名单；那份名单里没导入的行，需要时请再导入一次那个文件。"
        )
    print(message.format(**params), file=sys.stderr)


def _print_role_changes(result: ImportResult, _: Translator) -> None:
    """Every role an import ended or moved: a chair's menu must not outlive the roster silently."""
    for change in result.role_changes:
        params = {
            "employee_no": visible(change.employee_no),
            "name": visible(change.name),
            "role": _(ROLE_LABELS[change.role]),
            "unit": visible(change.unit_path),
        }
        if change.moved_to is not None:
            line = _("{name}（工号 {employee_no}）的{role}角色随调动从“{unit}”转到“{new_unit}”。")
            print(line.format(new_unit=visible(change.moved_to), **params))
        else:
            print(_("已撤销 {name}（工号 {employee_no}）在“{unit}”的{role}角色。").format(**params))
