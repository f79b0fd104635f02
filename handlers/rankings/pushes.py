"""The ranking's scheduled jobs and its pushes in words.

Monthly: on the job's day the previous month's digest is computed (once: a second run
finds it) and queued, each member their unit's standing and each cadre their table,
under keys naming the month (``digest:2026-11:member:1007``). Quarterly: the previous
quarter's digest is computed as a draft and the union's chair and admins are told;
members hear of it when the chair publishes it (a notice).

Pushes carry ids only and are worded when sent, with the chart drawn then (once per
unit and language, kept as a file): text and a photo on Telegram, text and an image on
WeChat within its reply window, the text alone in a template message outside it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.core.i18n import Translator
from handlers.core.messages import Button, Reply
from handlers.core.module import Job, JobContext
from handlers.core.pushes import Push
from handlers.core.router import MENU_PAYLOAD_PREFIX
from handlers.rankings.inputs import points_input, score_inputs
from handlers.rankings.text import Shown, cadre_digest, member_digest, period_title
from handlers.rankings.view import DRAFT, as_reply
from models.members import Member
from models.outbox import PushRow
from models.rankings.digests import cadre_view, compute_digest, queue_monthly_digest, queue_quarter_draft
from models.rankings.periods import DigestPeriod
from models.rankings.tables import DigestStatus, RankingDigest, RankingPolicy

log = logging.getLogger(__name__)


def _push(shown: Shown, t: Translator, digest: RankingDigest) -> Push:
    title = t("{period}单位排名").format(period=period_title(t, digest))
    reply = as_reply(shown)
    body = shown.text.split("\n", 1)[1] if "\n" in shown.text else shown.text
    return Push(title=title, reply=reply, body=body)


def _digest(session: Session, row: PushRow) -> RankingDigest | None:
    return session.get(RankingDigest, row.subject_id) if row.subject_id is not None else None


def render_member(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """A member's monthly digest: their unit's standing, what moved it, the level's best, the chart."""
    digest = _digest(session, row)
    member = session.get(Member, row.member_id)
    if digest is None or member is None:
        return None
    top = int(row.params.get("top", 3))
    return _push(member_digest(session, t, digest, member, top=top), t, digest)


def render_table(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """A cadre's table of their subtree's level; nothing once they hold no role any more."""
    digest = _digest(session, row)
    member = session.get(Member, row.member_id)
    if digest is None or member is None:
        return None
    view = cadre_view(session, actor=member)
    if view is None:
        return None
    return _push(cadre_digest(session, t, digest, view), t, digest)


def render_draft(session: Session, row: PushRow, t: Translator, _zone: tzinfo) -> Push | None:
    """The chair's note that a quarter's draft waits; nothing once it is published."""
    digest = _digest(session, row)
    if digest is None or digest.status is not DigestStatus.DRAFT:
        return None
    period = period_title(t, digest)
    title = t("{period}排名草稿").format(period=period)
    text = t("{period}的单位排名草稿已生成，请审阅后发布给全体会员。").format(period=period)
    review = Button(t("审阅季度排名草稿"), f"{MENU_PAYLOAD_PREFIX}{DRAFT.name}:{digest.period}")
    return Push(title=title, reply=Reply(f"【{title}】\n{text}", buttons=(review,)), body=text)


def run_monthly(
    config: CoreConfig, session: Session, *, now: datetime, period: DigestPeriod | None = None
) -> int:
    """Compute last month's digest (once) and queue it; returns how many pushes were new."""
    policy = config.policy(RankingPolicy)
    month = period or DigestPeriod.month_of(now.astimezone(policy.zone).date()).previous()
    digest, computed = compute_digest(
        session,
        period=month,
        scores=score_inputs(config),
        points=points_input(config),
        policy=policy,
        now=now,
    )
    added = queue_monthly_digest(session, digest=digest, now=now, top=policy.top_units)
    log.info("ranking %s: %s, %d pushes queued", month.key, "computed" if computed else "already kept", added)
    return added


def run_quarterly(
    config: CoreConfig, session: Session, *, now: datetime, period: DigestPeriod | None = None
) -> int:
    """Compute last quarter's draft (once) and tell its publishers; returns how many pushes were new."""
    policy = config.policy(RankingPolicy)
    quarter = period or DigestPeriod.quarter_of(now.astimezone(policy.zone).date()).previous()
    digest, computed = compute_digest(
        session,
        period=quarter,
        scores=score_inputs(config),
        points=points_input(config),
        policy=policy,
        now=now,
    )
    added = queue_quarter_draft(session, digest=digest, now=now)
    log.info(
        "ranking %s: %s, %d drafts announced", quarter.key, "computed" if computed else "already kept", added
    )
    return added


def monthly_digest(context: JobContext) -> int:
    """Last month's digest, for the month before the one the run stands for (``due_at``): a run
    caught up after start-up is for the month it missed, and one in mid-month sends nothing new."""
    with context.sessions() as session:
        return run_monthly(context.config, session, now=context.due_at())


def quarterly_draft(context: JobContext) -> int:
    with context.sessions() as session:
        return run_quarterly(context.config, session, now=context.due_at())


# 09:00 on the month's second working day: last month's figures are in (a suggestion decided late
# on the 31st counts), and members read it with the morning's messages.
MONTHLY_JOB = Job(
    id="ranking_monthly",
    run=monthly_digest,
    schedule="0 9 2W * *",
    catch_up_window=timedelta(days=31),
    monthly=True,
)
# The second working day of January, April, July and October, a little after the month's digest.
QUARTERLY_JOB = Job(
    id="ranking_quarterly",
    run=quarterly_draft,
    schedule="30 9 2W 1,4,7,10 *",
    catch_up_window=timedelta(days=92),
)
