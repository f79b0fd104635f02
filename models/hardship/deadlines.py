"""Hardship time limits kept: a reminder before a case's deadline, escalation to the unit above after it.

Who answers for a case: the *nearest handlers*, the active cadres holding
``HANDLE_HARDSHIP`` whose grant sits on the deepest unit covering the case's
unit (the 一车间 committee before the 厂工会 chair). When the member's own unit
has nobody who handles hardship, that is the nearest unit above that has
someone: the same rule sends a new case, urgent or not, to the people who
will act on it. Escalation goes to the nearest unit strictly above theirs
where someone else handles hardship.

When (on working days only, as the suggestion deadlines):

* the reminder from the working day before the due date up to the due date;
* the escalation on the first working day after it, or within
  :data:`ESCALATION_CATCH_UP` working days when the job was down. Older
  lateness stands first in the queue, marked overdue, without a push a day.

A case under dynamic review (动态管理) has its review date as its deadline:
the handlers are reminded the working day before it, and the unit above
hears when it passed without a review.

Every push is an outbox row keyed by case, deadline, due date and recipient,
so the job may run any number of times and each is queued once; a case that
moves on has a new deadline and so new keys. Pushes carry ids and dates only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.hardship.cases import OPEN_STATUSES, Deadline, HardshipCase
from models.hardship.policy import HardshipPolicy
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.roles import ROLE_PERMISSIONS, Permission, RoleGrant
from models.units import PATH_SEPARATOR, Unit
from models.workdays import is_workday, next_workday, previous_workday, workdays_between

log = logging.getLogger(__name__)

DUE_TOPIC = "hardship_due"
OVERDUE_TOPIC = "hardship_overdue"

ESCALATION_CATCH_UP = 5
_CATCH_UP_CALENDAR_DAYS = 31


def _path_ids(id_path: str) -> list[int]:
    return [int(part) for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


@dataclass(frozen=True)
class Handlers:
    """Every active cadre who handles hardship, by the unit of their grant: loaded once per run."""

    by_unit: Mapping[int, frozenset[int]]

    def at(self, unit_id: int) -> frozenset[int]:
        return self.by_unit.get(unit_id, frozenset())


def load_handlers(session: Session) -> Handlers:
    """The active cadres holding ``HANDLE_HARDSHIP`` on each unit, in one query."""
    roles = [role for role, held in ROLE_PERMISSIONS.items() if Permission.HANDLE_HARDSHIP in held]
    rows = session.exec(
        select(RoleGrant.unit_id, RoleGrant.member_id)
        .join(Member, col(Member.id) == RoleGrant.member_id)
        .where(col(RoleGrant.role).in_(roles), col(Member.status) == MemberStatus.ACTIVE)
    ).all()
    found: dict[int, set[int]] = defaultdict(set)
    for unit_id, member_id in rows:
        found[unit_id].add(member_id)
    return Handlers({unit_id: frozenset(ids) for unit_id, ids in found.items()})


@dataclass(frozen=True)
class Responsibility:
    """Who answers for a case, and who hears of it when they are late.

    Attributes:
        unit_id: the unit of the responsible cadres' grant; None when nobody handles hardship above the case.
        cadre_ids: the responsible cadres.
        above_unit_id: the unit whose handlers get the escalation; None at the top.
        above_ids: those handlers.
    """

    unit_id: int | None
    cadre_ids: frozenset[int]
    above_unit_id: int | None = None
    above_ids: frozenset[int] = frozenset()


def responsibility(handlers: Handlers, *, unit_path: str) -> Responsibility:
    """Who is responsible for a case of the unit at ``unit_path`` (see the module)."""
    path = _path_ids(unit_path)
    for index in range(len(path) - 1, -1, -1):
        cadres = handlers.at(path[index])
        if not cadres:
            continue
        for above in reversed(path[:index]):
            others = handlers.at(above) - cadres
            if others:
                return Responsibility(path[index], cadres, above, others)
        return Responsibility(path[index], cadres)
    return Responsibility(None, frozenset())


def responsible_for(session: Session, case: HardshipCase) -> Responsibility:
    """:func:`responsibility` for one case, loading what it needs."""
    unit = session.get(Unit, case.unit_id)
    if unit is None:
        return Responsibility(None, frozenset())
    return responsibility(load_handlers(session), unit_path=unit.id_path)


def due_key(case_id: int, deadline: Deadline, due_on: date, member_id: int) -> str:
    return f"hardship-due:{case_id}:{deadline.value}:{due_on.isoformat()}:{member_id}"


def overdue_key(case_id: int, deadline: Deadline, due_on: date, member_id: int) -> str:
    return f"hardship-overdue:{case_id}:{deadline.value}:{due_on.isoformat()}:{member_id}"


@dataclass(frozen=True)
class _Timed:
    id: int
    deadline: Deadline
    due_on: date
    urgent: bool
    unit_path: str


def _timed(session: Session, earliest: date, horizon: date) -> Sequence[_Timed]:
    """Open cases due between ``earliest`` and ``horizon``: one range read of (status, due_on)."""
    rows = session.execute(
        sa.select(
            col(HardshipCase.id),
            col(HardshipCase.deadline),
            col(HardshipCase.due_on),
            col(HardshipCase.urgent),
            col(Unit.id_path),
        )
        .join(Unit, col(Unit.id) == HardshipCase.unit_id)
        .where(
            col(HardshipCase.status).in_(sorted(OPEN_STATUSES)),
            col(HardshipCase.due_on) >= earliest,
            col(HardshipCase.due_on) <= horizon,
        )
        .order_by(col(HardshipCase.id))
    ).all()
    return [
        _Timed(id=row_id, deadline=Deadline(deadline), due_on=due_on, urgent=urgent, unit_path=path)
        for row_id, deadline, due_on, urgent, path in rows
        if row_id is not None and deadline is not None and due_on is not None
    ]


def _push(key: str, member_id: int, topic: str, item: _Timed, unit_id: int) -> NewPush:
    return NewPush(
        key=key,
        member_id=member_id,
        kind=PushKind.REMINDER,
        topic=topic,
        subject_id=item.id,
        params={"deadline": item.deadline.value, "due_on": item.due_on.isoformat(), "unit": unit_id},
        # An urgent family in trouble is no reason to wait for the morning.
        urgent=item.urgent,
    )


def deadline_pushes(handlers: Handlers, items: Iterable[_Timed], *, today: date) -> list[NewPush]:
    """The reminders and escalations due ``today``; whether one was queued before is the outbox's concern."""
    pushes: list[NewPush] = []
    unhandled: list[int] = []
    at_the_top: list[int] = []
    for item in items:
        duty = responsibility(handlers, unit_path=item.unit_path)
        if duty.unit_id is None:
            unhandled.append(item.id)
            continue
        if item.due_on >= today and previous_workday(item.due_on) <= today:
            recipients, topic, key = duty.cadre_ids, DUE_TOPIC, due_key
        elif item.due_on < today:
            if workdays_between(item.due_on, today) > ESCALATION_CATCH_UP:
                continue
            if not duty.above_ids:
                at_the_top.append(item.id)
                continue
            recipients, topic, key = duty.above_ids, OVERDUE_TOPIC, overdue_key
        else:
            continue
        pushes.extend(
            _push(key(item.id, item.deadline, item.due_on, member_id), member_id, topic, item, duty.unit_id)
            for member_id in sorted(recipients)
        )
    if unhandled:
        log.warning(
            "%d open hardship cases have nobody handling their unit (ids %s)", len(unhandled), unhandled[:20]
        )
    if at_the_top:
        log.info(
            "%d late hardship cases are with the union's top: nobody above (ids %s)",
            len(at_the_top),
            at_the_top[:20],
        )
    return pushes


def enqueue_deadline_pushes(session: Session, *, now: datetime, policy: HardshipPolicy) -> int:
    """Queue today's reminders and escalations in the caller's transaction; safe to call again.

    Returns:
        How many pushes were new.
    """
    today = policy.today(now)
    if not is_workday(today):
        return 0
    items = _timed(session, today - timedelta(days=_CATCH_UP_CALENDAR_DAYS), next_workday(today))
    if not items:
        return 0
    return enqueue(session, deadline_pushes(load_handlers(session), items, today=today), now=now)
