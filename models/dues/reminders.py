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

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.dues.figures import Tally, tallies_by_unit
from models.dues.ledger import open_month
from models.dues.months import Month, month_key, months_between, next_month
from models.dues.tables import DuesMonth, DuesPeriod, DuesPolicy
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.preferences import members_with_reminder_off
from models.roles import Role, RoleGrant
from models.units import PATH_SEPARATOR, Unit

log = logging.getLogger(__name__)

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


def owing_members(session: Session, *, current: Month, optional: bool) -> dict[int, list[Month]]:
    """Active members with months up to ``current`` not paid in full, and those months.

    Members who turned dues reminders off are left out when the union lets them (``optional``).
    One indexed read of the owed months: the paid ones, nearly all, are never touched.
    """
    query = (
        sa.select(col(DuesMonth.member_id), col(DuesMonth.month))
        .join(Member, col(Member.id) == col(DuesMonth.member_id))
        .where(
            col(DuesMonth.owing),
            col(DuesMonth.month) <= current,
            col(Member.status) == MemberStatus.ACTIVE,
        )
    )
    if optional:
        query = query.where(col(DuesMonth.member_id).not_in(members_with_reminder_off(REMINDER_TOPIC)))
    found: dict[int, list[Month]] = defaultdict(list)
    for member_id, month in session.execute(query):
        found[member_id].append(month)
    return found


def _member_pushes(owing: dict[int, list[Month]], current: Month) -> Iterable[NewPush]:
    for member_id in sorted(owing):
        yield NewPush(
            key=member_key(current, member_id),
            member_id=member_id,
            kind=PushKind.REMINDER,
            topic=MEMBER_TOPIC,
            params={"month": current},
        )


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
    owing = owing_members(session, current=current, optional=policy.reminder_optional)
    added = enqueue(session, _member_pushes(owing, current), now=now)
    added += enqueue(session, _cadre_pushes(session, current), now=now)
    log.info("dues %s: %d members owe; %d pushes queued", month_key(current), len(owing), added)
    return added
