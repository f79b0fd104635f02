"""``python -m bot jobs …``: the scheduled jobs, when they run, what they did, and running one by hand.

* ``jobs list``: each job, its schedule (the module's, or ``UNIONBOT_JOB_SCHEDULES``), its next
  run, its last run and how many pushes that queued (``job_run``, models.jobs).
* ``jobs run NAME [--period 2026-12] [--dry-run]``: run a job now, for the present or, for a
  monthly job, for the month named. The keys of its pushes name the period, so running it
  again, or after the scheduler did, queues nothing twice.
* ``--dry-run`` runs the job as it is, inside a database transaction that is rolled back once
  the pushes it queued are read: how many would receive it, the first few recipients and the
  first message rendered in each language among them. It works for every job without the
  job's help, and writes nothing (not even the ``job_run`` row).
* ``jobs theme 2026-12 "节能降耗"``: the month's 月征集 theme (``--clear`` removes it), as a
  cadre sets it in the chat.

Like every command here it runs as whoever holds the server and its database.
Exit codes: 0 done, 1 the job failed or was refused, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import Session, col

from bot.app import App
from handlers.core.i18n import LOCALE_NAMES, Translator
from handlers.core.module import Job, JobContext
from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory
from models.errors import DomainError
from models.jobs import RunStatus, last_runs
from models.members import Member
from models.outbox import Outbox
from models.suggestions.collection import parse_month, set_collection_theme
from models.units import Unit, unit_path
from scheduler.jobs import ScheduleError, fire_times, schedule_of, trigger
from scheduler.runner import run_recorded

PIPE_WIDTH = 200
# How many recipients a dry run names.
SHOWN_RECIPIENTS = 5
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    jobs = subparsers.add_parser(
        "jobs", help="scheduled jobs: list them, run one (or try it), set 月征集's theme"
    )
    actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each job, its schedule, its next and last run, what it queued")
    listing.set_defaults(func=_list)
    run = actions.add_parser(
        "run", help="run a job now; --dry-run shows who would receive what, writing nothing"
    )
    run.add_argument("name", metavar="NAME", help="the job, as `jobs list` names it")
    run.add_argument(
        "--period", metavar="YYYY-MM", help="a monthly job: the month to run it for, e.g. 2026-12"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="write nothing: show the recipients and the message"
    )
    run.set_defaults(func=_run)
    theme = actions.add_parser("theme", help="set the theme of a month's call for suggestions (月征集)")
    theme.add_argument("month", metavar="YYYY-MM")
    theme.add_argument("theme", nargs="?", metavar="THEME", help='e.g. "节能降耗"')
    theme.add_argument("--clear", action="store_true", help="remove the month's theme")
    theme.set_defaults(func=_theme)


def _local(_: Translator, moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def _list(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    zone = app.settings.zone
    jobs = app.registry.jobs
    schedules = app.settings.job_schedules
    now = utcnow()
    with app.sessions() as session:
        runs = last_runs(session, [job.id for job in jobs])
    table = Table(show_lines=False)
    for header in (_("任务"), _("时间"), _("下次运行"), _("上次运行"), _("上次结果")):
        table.add_column(header)
    for job in jobs:
        line = schedule_of(job, schedules)
        chosen = trigger(job, zone, schedules)
        when = line if job.id not in schedules else _("{schedule}（设置）").format(schedule=line)
        next_run = chosen.get_next_fire_time(None, now) if chosen is not None else None
        run = runs.get(job.id)
        if run is None:
            last, outcome = "—", _("还没有运行过")
        else:
            last = _("{time}（{period}）").format(time=_local(_, run.started_at, zone), period=run.period)
            if run.status is RunStatus.DONE:
                outcome = _.ngettext("排队 {count} 条推送", "排队 {count} 条推送", run.queued or 0).format(
                    count=run.queued or 0
                )
            elif run.status is RunStatus.FAILED:
                outcome = _("失败：{error}").format(error=run.error or "")
            else:
                outcome = _("运行中，或进程中途退出")
        table.add_row(
            Text(job.id),
            Text(when),
            Text(_local(_, next_run, zone) if chosen is not None else _("已关闭")),
            Text(last),
            Text(outcome),
        )
    _console().print(table)
    print(
        _("时间为 {zone} 时区；1W 是每月第一个工作日，LW 是最后一个工作日。").format(
            zone=app.settings.timezone
        )
    )
    return 0


def _job(app: App, name: str) -> Job | None:
    return next((job for job in app.registry.jobs if job.id == name), None)


def month_due(job: Job, month: str, zone: tzinfo, schedules: dict[str, str]) -> datetime:
    """The time a monthly job's run for ``month`` stands for: its first scheduled time that month.

    A month its schedule has no time in (turned off, or not in its months) stands at the month's start.
    """
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone) - timedelta(microseconds=1)
    try:
        chosen = trigger(job, zone, schedules)
    except ScheduleError:
        chosen = None
    times = fire_times(chosen, start, end, limit=1) if chosen is not None else []
    return times[0] if times else start


def _run(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    job = _job(app, args.name)
    if job is None:
        names = "、".join(job.id for job in app.registry.jobs)
        print(
            _("没有叫“{name}”的任务。现有的任务：{names}").format(name=args.name, names=names),
            file=sys.stderr,
        )
        return 2
    zone = app.settings.zone
    due: datetime | None = None
    if args.period is not None:
        if not job.monthly:
            print(_("任务 {name} 不按月运行，不能指定 --period。").format(name=job.id), file=sys.stderr)
            return 2
        if _MONTH.fullmatch(args.period) is None or not 1 <= int(args.period[5:]) <= 12:
            print(_("“{value}”不是月份，请写成 2026-12 这样。").format(value=args.period), file=sys.stderr)
            return 2
        due = month_due(job, args.period, zone, app.settings.job_schedules)
    app.prepare()
    if args.dry_run:
        return _dry_run(app, job, due)
    context = JobContext(sessions=app.sessions, config=app.core_config, due=due)
    try:
        added = run_recorded(job, context, holder="cli", zone=zone)
    except Exception as error:
        print(_("任务 {name} 运行失败：{error}").format(name=job.id, error=error), file=sys.stderr)
        return 1
    print(
        _.ngettext(
            "任务 {name} 已运行，新排队 {count} 条推送。",
            "任务 {name} 已运行，新排队 {count} 条推送。",
            added,
        ).format(name=job.id, count=added)
    )
    return 0


class RolledBackSessions(SessionFactory):
    """Sessions inside one outer transaction the caller rolls back: each ``commit`` only ends a savepoint."""

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection.engine)
        self.connection = connection

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def _first_per_language(session: Session, before: int, stamp: datetime, default: str) -> dict[str, int]:
    """The first new row for each language among its recipients, as the delivery worker picks it.

    Read as plain tuples, one per row: a union's call is 100,000 rows, and a dry run must not
    load them all as objects to find three languages.
    """
    account_locale = (
        sa.select(col(ChatAccount.locale))
        .where(
            col(ChatAccount.member_id) == Outbox.member_id,
            col(ChatAccount.active).is_(True),
            col(ChatAccount.locale).is_not(None),
        )
        .order_by(col(ChatAccount.id))
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(col(Outbox.id), col(Member.locale), account_locale)
        .join(Member, col(Member.id) == Outbox.member_id)
        .where(col(Outbox.id) > before, col(Outbox.created_at) == stamp)
        .order_by(col(Outbox.id))
    ).all()
    firsts: dict[str, int] = {}
    for row_id, member_locale, chat_locale in rows:
        firsts.setdefault(member_locale or chat_locale or default, row_id)
    return firsts


def _dry_run(app: App, job: Job, due: datetime | None) -> int:
    _ = app.translator
    stamp = utcnow()
    with app.engine.connect() as connection:
        outer = connection.begin()
        try:
            sessions = RolledBackSessions(connection)
            before = connection.execute(sa.select(sa.func.max(col(Outbox.id)))).scalar() or 0
            context = JobContext(sessions=sessions, config=app.core_config, clock=lambda: stamp, due=due)
            try:
                job.run(context)
            except Exception as error:
                print(_("任务 {name} 试运行失败：{error}").format(name=job.id, error=error), file=sys.stderr)
                return 1
            with sessions() as session:
                _report(app, session, job, context.due_at(), before, stamp)
        finally:
            outer.rollback()
    print(_("这是试运行，没有写入任何数据，也没有发出任何消息。"))
    return 0


def _report(app: App, session: Session, job: Job, due: datetime, before: int, stamp: datetime) -> None:
    _ = app.translator
    zone = app.settings.zone
    new_rows = (col(Outbox.id) > before, col(Outbox.created_at) == stamp)
    print(_("任务 {name}，按 {time} 的安排试运行：").format(name=job.id, time=_local(_, due, zone)))
    people = session.execute(
        sa.select(sa.func.count(sa.distinct(col(Outbox.member_id)))).where(*new_rows)
    ).scalar()
    if not people:
        print(_("没有人会收到：要发的都已排队过，或者没有符合条件的会员。"))
        return
    print(_.ngettext("将发给 {count} 人。", "将发给 {count} 人。", people).format(count=people))
    print(_("前几位："))
    first_ids = session.execute(
        sa.select(col(Outbox.member_id))
        .where(*new_rows)
        .group_by(col(Outbox.member_id))
        .order_by(sa.func.min(col(Outbox.id)))
        .limit(SHOWN_RECIPIENTS)
    ).scalars()
    for member_id in first_ids:
        member = session.get(Member, member_id)
        assert member is not None
        unit = session.get(Unit, member.unit_id)
        print(
            _("  {employee_no} {name}（{unit}）").format(
                employee_no=member.employee_no,
                name=member.name,
                unit=unit_path(session, unit) if unit else "",
            )
        )
    for locale, row_id in _first_per_language(session, before, stamp, app.settings.default_locale).items():
        row = session.get(Outbox, row_id)
        assert row is not None
        member = session.get(Member, row.member_id)
        assert member is not None
        print()
        print(
            _("第一条“{language}”消息，发给 {employee_no} {name}：").format(
                language=LOCALE_NAMES.get(locale, locale), employee_no=member.employee_no, name=member.name
            )
        )
        push = app.registry.pushes.render(session, row, app.catalogues.get(locale), zone)
        if push is None:
            print(_("（这条到发送时已不必再发。）"))
            continue
        print(push.reply.text)
        for number, button in enumerate(push.reply.buttons, start=1):
            print(f"{number}. {button.label}")


def _theme(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    if args.clear == bool(args.theme):
        print(_("请写上主题，或者用 --clear 取消这个月的主题。"), file=sys.stderr)
        return 2
    try:
        month = parse_month(args.month)
    except DomainError as error:
        print(_.error(error), file=sys.stderr)
        return 2
    app.prepare()
    try:
        with app.sessions() as session:
            stored = set_collection_theme(
                session, actor=None, month=month, theme=None if args.clear else args.theme, now=utcnow()
            )
    except DomainError as error:
        print(_.error(error), file=sys.stderr)
        return 1
    if stored is None:
        print(_("已取消 {month} 的征集主题。").format(month=month))
    else:
        print(_("已设置 {month} 的征集主题：“{theme}”。").format(month=month, theme=stored))
    return 0
