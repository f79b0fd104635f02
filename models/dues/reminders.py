"""The monthly dues job: post the month's dues, then remind those who owe and tell their cadres.

On the set day each month (the job's schedule):

1. the month is opened — its dues posted to every active member — and any month
   the job missed since the last one (a server down at the month's turn);
2. each active member with unpaid months gets one reminder naming the months and
   the total, unless they turned dues reminders off and the union lets them
   (:attr:`DuesPolicy.reminder_optional`);
3. each unit's 会费收缴员 — or, where it has none, its 工会小组长 — gets the unit's
   unpaid list and its collection rate for the month;
4. each unit's chair gets the rate of each unit directly below it.

Rows carry ids and the month only; the words and the figures are made when a
push is sent, so a member who paid in between is not chased. Every key names the
month (``dues:2026-12:member:1007``), so a second run, a catch-up run after a
restart or a second process queues nothing twice.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.base import UTCDateTime
from models.dues.figures import Tally, tallies_by_unit
from models.dues.ledger import open_month
from models.dues.months import Month, month_key, months_between, next_month
from models.dues.tables import DuesMonth, DuesPeriod, DuesPolicy
from models.members import Member, MemberStatus
from models.outbox import NewPush, Outbox, OutboxStatus, PushKind, enqueue
from models.preferences import members_with_reminder_off
from models.roles import Role, RoleGrant
from models.units import PATH_SEPARATOR, Unit

log = logging.getLogger(__name__)

_Select = TypeVar("_Select", bound="sa.Select")  # type: ignore[type-arg]

REMINDER_TOPIC = "dues"  # the opt-out's name (models.preferences)
MEMBER_TOPIC = "dues_reminder"
UNIT_TOPIC = "dues_unit"
CHAIR_TOPIC = "dues_chair"


def member_key(month: Month, member_id: int) -> str:
    return f"dues:{month_key(month)}:member:{member_id}"


def unit_key(month: Month, unit_id: int, member_id: int) -> str:
    return f"dues-unit:{month_key(month)}:unit:{unit_id}:member:{member_id}"


def chair_key(month: Month, unit_id: int, member_id: int) -> str:
    return f"dues-chair:{month_key(month)}:unit:{unit_id}:member:{member_id}"


def months_to_open(session: Session, *, current: Month, policy: DuesPolicy) -> list[Month]:
    """The months not opened yet up to ``current``: from the last opened (or the start setting) on."""
    last = session.exec(select(sa.func.max(DuesPeriod.month))).one()
    if last is None:
        first = min(policy.start_month, current) if policy.start_month is not None else current
    else:
        first = next_month(int(last))
    return list(months_between(first, current))


def _owing(query: _Select, *, current: Month, optional: bool) -> _Select:
    """``query`` over the owed months up to ``current`` of active members (and not opted out, if they may).

    Whether the member is active is asked of each owed month (``EXISTS``), not joined in or
    listed (``IN``): either way SQLite walked every member and each one's months, 2.4 million
    index entries for 100,000 members, instead of the few owed months of the partial index.
    """
    active = sa.exists().where(
        col(Member.id) == col(DuesMonth.member_id), col(Member.status) == MemberStatus.ACTIVE
    )
    query = query.where(col(DuesMonth.owing), col(DuesMonth.month) <= current, active)
    if optional:
        query = query.where(col(DuesMonth.member_id).not_in(members_with_reminder_off(REMINDER_TOPIC)))
    return query


def owing_members(session: Session, *, current: Month, optional: bool) -> dict[int, list[Month]]:
    """Active members with months up to ``current`` not paid in full, and those months.

    Members who turned dues reminders off are left out when the union lets them (``optional``).
    One indexed read of the owed months: the paid ones, nearly all, are never touched.
    """
    query = _owing(
        sa.select(col(DuesMonth.member_id), col(DuesMonth.month)), current=current, optional=optional
    )
    found: dict[int, list[Month]] = defaultdict(list)
    for member_id, month in session.execute(query):
        found[member_id].append(month)
    return found


def enqueue_member_reminders(session: Session, *, current: Month, optional: bool, now: datetime) -> int:
    """Queue one reminder per member who owes, in one ``INSERT … SELECT`` into the outbox.

    The rows are the ones :func:`models.outbox.enqueue` writes (same columns, same unique key,
    a key queued before skipped), but made by the database from the owed months: 100,000
    reminders never travel through Python, which on PostgreSQL took a minute row by row
    (bench/RESULTS.md, 会费). Returns how many were new.
    """
    members = (
        _owing(sa.select(col(DuesMonth.member_id)), current=current, optional=optional).distinct().subquery()
    )
    prefix = member_key(current, 0).removesuffix("0")
    params = json.dumps({"month": current})
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = sa.select(
        sa.literal(prefix, sa.String) + sa.cast(members.c.member_id, sa.String),
        members.c.member_id,
        sa.literal(PushKind.REMINDER.value, sa.String),
        sa.literal(MEMBER_TOPIC, sa.String),
        sa.cast(sa.literal(params), postgresql.JSON) if postgres else sa.literal(params),
        sa.false(),
        sa.literal(OutboxStatus.QUEUED.value, sa.String),
        sa.literal(now, UTCDateTime),
        sa.literal(now, UTCDateTime),
        sa.literal(0),
        sa.literal(now, UTCDateTime),
    ).where(sa.true())  # SQLite reads "ON CONFLICT" after a bare subquery as a join's ON
    columns = [
        "key",
        "member_id",
        "kind",
        "topic",
        "params",
        "urgent",
        "status",
        "due_at",
        "next_attempt_at",
        "attempts",
        "created_at",
    ]
    table = Outbox.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert(table) if postgres else sqlite.insert(table)
    statement = insert.from_select(columns, rows).on_conflict_do_nothing(index_elements=["key"])
    # Counted from what was inserted: a driver's rowcount is not to be trusted for INSERT … SELECT.
    return len(session.execute(statement.returning(table.c.id)).all())


def _subtree_tallies(session: Session, current: Month) -> dict[int, Tally]:
    """Every unit's subtree's charges for ``current``, from one grouped read."""
    own = tallies_by_unit(session, [current])
    totals: dict[int, Tally] = defaultdict(Tally)
    for unit_id, id_path in session.exec(select(Unit.id, Unit.id_path)):
        tally = own.get(unit_id or 0, {}).get(current)
        if tally is None:
            continue
        for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR):
            totals[int(part)].add(tally)
    return totals


def _cadre_pushes(session: Session, current: Month) -> list[NewPush]:
    """Digests for each unit's collector (收缴员, else 小组长) and each chair, where there are dues."""
    grants = session.exec(
        select(RoleGrant.unit_id, RoleGrant.role, RoleGrant.member_id)
        .join(Member, col(Member.id) == RoleGrant.member_id)
        .where(
            col(RoleGrant.role).in_([Role.TREASURER, Role.GROUP_LEADER, Role.CHAIR]),
            col(Member.status) == MemberStatus.ACTIVE,
        )
    ).all()
    if not grants:
        return []
    totals = _subtree_tallies(session, current)
    by_unit: dict[int, dict[Role, set[int]]] = defaultdict(lambda: defaultdict(set))
    for unit_id, role, member_id in grants:
        by_unit[unit_id][Role(role)].add(member_id)
    with_children = set(
        session.exec(select(Unit.parent_id).where(col(Unit.parent_id).in_(list(by_unit))).distinct())
    )
    pushes: list[NewPush] = []
    for unit_id in sorted(by_unit):
        if not totals.get(unit_id, Tally()).due:
            continue
        roles = by_unit[unit_id]
        collectors = roles.get(Role.TREASURER) or roles.get(Role.GROUP_LEADER) or set()
        pushes.extend(
            NewPush(
                key=unit_key(current, unit_id, member_id),
                member_id=member_id,
                kind=PushKind.DIGEST,
                topic=UNIT_TOPIC,
                subject_id=unit_id,
                params={"month": current},
            )
            for member_id in sorted(collectors)
        )
        if unit_id in with_children:
            pushes.extend(
                NewPush(
                    key=chair_key(current, unit_id, member_id),
                    member_id=member_id,
                    kind=PushKind.DIGEST,
                    topic=CHAIR_TOPIC,
                    subject_id=unit_id,
                    params={"month": current},
                )
                for member_id in sorted(roles.get(Role.CHAIR, set()))
            )
    return pushes


def enqueue_dues_reminders(session: Session, *, now: datetime, policy: DuesPolicy) -> int:
    """Open the months due, then queue the month's reminders and digests, in the caller's transaction.

    Returns:
        How many pushes were new: 0 on a second run for the same month.
    """
    current = policy.month(now)
    for month in months_to_open(session, current=current, policy=policy):
        open_month(session, month, now=now)
    reminded = enqueue_member_reminders(session, current=current, optional=policy.reminder_optional, now=now)
    digests = enqueue(session, _cadre_pushes(session, current), now=now)
    log.info("dues %s: %d reminders and %d digests queued", month_key(current), reminded, digests)
    return reminded + digests
