"""``python -m bot outbox status|retry-failed KIND``: how the pushes stand, and a second chance.

``status`` counts the pushes of each kind by what became of them, in the words
a cadre's report uses (models.outbox.Outcome: a push to a member with no
account is "没有可用账号", not a failure), and lists the uncertain
ones: pushes handed to a channel that gave no answer (it answered too late,
or the worker died first), which the member may or may not have (they are
not resent unless UNIONBOT_RESEND_UNCERTAIN says so). ``retry-failed`` queues a kind's failed
pushes again (those with no account or blocked too) once an admin has fixed the cause (a
template configured, the bot unblocked); ``--uncertain`` takes the uncertain ones too, accepting that
some members may get those twice.
Exit codes: 0 done, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import col, select

from bot.app import App
from handlers.core.i18n import Translator
from models.base import utcnow
from models.errors import N_
from models.members import Member
from models.outbox import (
    OUTCOME_LABELS,
    Outcome,
    PushKind,
    kind_outcomes,
    retry_failed,
    uncertain_channels,
    uncertain_rows,
)

# Piped into a file, a table is not squeezed into 80 columns.
PIPE_WIDTH = 200
UNCERTAIN_LISTED = 100

KIND_LABELS: dict[PushKind, str] = {
    PushKind.NOTICE: N_("通知公告"),
    PushKind.REMINDER: N_("提醒"),
    PushKind.STATUS: N_("进度变化"),
    PushKind.DIGEST: N_("摘要"),
}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    outbox = subparsers.add_parser("outbox", help="pushes: counts by kind and state, retry failed ones")
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="queued, sent and failed pushes per kind; the uncertain ones")
    status.set_defaults(func=_status)
    retry = actions.add_parser("retry-failed", help="queue the failed pushes of a kind again")
    retry.add_argument("kind", choices=[kind.value for kind in PushKind], metavar="KIND")
    retry.add_argument(
        "--uncertain",
        action="store_true",
        help="the uncertain ones too (some members may get those twice)",
    )
    retry.set_defaults(func=_retry)


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def _status(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _ = app.translator
    with app.sessions() as session:
        counts = kind_outcomes(session)
        uncertain = list(uncertain_rows(session, limit=UNCERTAIN_LISTED))
        channels = uncertain_channels(session) if uncertain else {}
        employee_nos = dict(
            session.exec(
                select(Member.id, Member.employee_no).where(
                    col(Member.id).in_({row.member_id for row in uncertain})
                )
            ).all()
        )
    if not counts:
        print(_("推送队列是空的。"))
        return 0
    table = Table()
    table.add_column(_("类型"))
    for outcome in Outcome:
        table.add_column(_(OUTCOME_LABELS[outcome]), justify="right")
    for kind in PushKind:
        if kind not in counts:
            continue
        by_outcome = counts[kind]
        table.add_row(_(KIND_LABELS[kind]), *(str(by_outcome.get(outcome, 0)) for outcome in Outcome))
    console = _console()
    console.print(table)
    if uncertain:
        # Both causes, not only a worker's death: a read timeout leaves a push uncertain too, and an
        # operator told of a crash would look for one that never happened.
        print(
            _(
                "以下推送已交给渠道但没有等到答复（渠道答复超时或推送进程中断），无法确定会员是否收到，不会自动重发："
            )
        )
        listing = Table()
        for header in (_("编号"), _("类型"), _("工号"), _("渠道"), _("时间")):
            listing.add_column(header)
        for row in uncertain:
            when = row.claimed_at or row.created_at
            listing.add_row(
                str(row.id),
                _(KIND_LABELS[row.kind]),
                Text(employee_nos.get(row.member_id, "")),
                Text(row.channel or ""),
                when.astimezone(app.settings.zone).strftime("%Y-%m-%d %H:%M"),
            )
        console.print(listing)
        total = sum(by_outcome.get(Outcome.UNCERTAIN, 0) for by_outcome in counts.values())
        if total > len(uncertain):
            print(_("另有 {count} 条未列出。").format(count=total - len(uncertain)))
        # Where to look: the channel each may have reached (its own records, or the member's chat).
        for channel, count in sorted(channels.items()):
            print(_("渠道 {channel}：{count} 条不确定").format(channel=channel or _("未记录"), count=count))
        print(_("确认需要重发时，运行 outbox retry-failed 类型 --uncertain。"))
    return 0


def _retry(app: App, args: argparse.Namespace) -> int:
    app.prepare()
    _: Translator = app.translator
    kind = PushKind(args.kind)
    with app.sessions() as session:
        count = retry_failed(session, kind=kind, now=utcnow(), include_uncertain=args.uncertain)
    print(
        _.ngettext(
            "已将 {count} 条{kind}推送重新排队。", "已将 {count} 条{kind}推送重新排队。", count
        ).format(count=count, kind=_(KIND_LABELS[kind]))
    )
    return 0
