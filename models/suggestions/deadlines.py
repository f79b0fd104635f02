""" "三及时" kept: a reminder before a suggestion's deadline, escalation to the unit above after it.

Who is responsible for a suggestion in its current stage:

* to register it (:attr:`Stage.REGISTER`): the *nearest reviewers*, the active
  cadres with ``REVIEW_SUGGESTIONS`` whose grant sits on the deepest unit
  covering the suggestion's unit — the 一车间 committee before the 厂工会 chair;
* later: the cadre named at registration (:attr:`Suggestion.reviewer_id`) while
  they are active and still review that unit, else the nearest reviewers again
  (the named one left, or was moved elsewhere).

The responsible cadres' unit is the deepest of their grants covering the
suggestion. Escalation goes to the *unit above*: the nearest unit strictly
above it where someone other than the responsible cadres reviews suggestions
(a unit with nobody reviewing is skipped; telling the late cadre again, under
another hat, escalates nothing). At the root nobody is above: the responsible
cadres are the union's top, so there is no escalation push, only a log line.

When (both only on working days: cadres are not chased on rest days, and the
reminder of a Monday deadline comes on the Friday before, not on Sunday):

* the reminder from the working day before the due date up to the due date
  itself — a job that was down on that day still warns on the day, as long as
  the deadline has not passed;
* the escalation on the first working day after the due date — or, after the
  job was down, on one of the next :data:`ESCALATION_CATCH_UP` working days.
  A suggestion overdue for longer is not escalated by the job any more: it
  stands first in the queue, marked overdue, and the figures count it. Without
  this window, the first run over a backlog (a union switching the job on, or
  a workshop idle for months) would send the chair above one push per old
  suggestion — in the benchmark, 1,454 to one person in one run.

Every push is an outbox row keyed by suggestion, stage, due date and recipient,
so the job may run any number of times, or again after a restart, and each is
queued once; a suggestion that moves to another stage has a new due date and
so new keys. Pushes carry ids and dates only: none ever names the proposer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.roles import ROLE_PERMISSIONS, Permission, RoleGrant
from models.suggestions.tables import STAGE_OF, Stage, Suggestion, SuggestionPolicy, SuggestionStatus
from models.units import PATH_SEPARATOR, Unit
from models.workdays import is_workday, next_workday, previous_workday, workdays_between

log = logging.getLogger(__name__)

DUE_TOPIC = "suggestion_due"
OVERDUE_TOPIC = "suggestion_overdue"

# Working days after a deadline within which a late run still escalates (a job down for a week).
ESCALATION_CATCH_UP = 5
# Wide enough to hold those working days across the longest holiday (Spring Festival) and weekends.
_CATCH_UP_CALENDAR_DAYS = 31

# The statuses whose stage has a deadline; the job's one query reads (status, due_on) for these.
TIMED_STATUSES: tuple[SuggestionStatus, ...] = tuple(STAGE_OF)


def _path_ids(id_path: str) -> list[int]:
    """The ids from the root down to the unit itself ("/1/4/9/" → [1, 4, 9])."""
    return [int(part) for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


@dataclass(frozen=True)
class Reviewers:
    """Every active cadre who reviews suggestions, by the unit of their grant: loaded once per run.

    A union has a few dozen such cadres, so one query and a dictionary serve
    thousands of suggestions without a query each.
    """

    by_unit: Mapping[int, frozenset[int]]

    def at(self, unit_id: int) -> frozenset[int]:
        return self.by_unit.get(unit_id, frozenset())


def load_reviewers(session: Session) -> Reviewers:
    """The active cadres holding ``REVIEW_SUGGESTIONS`` on each unit, in one query."""
    roles = [
        role for role, permissions in ROLE_PERMISSIONS.items() if Permission.REVIEW_SUGGESTIONS in permissions
    ]
    rows = session.exec(
        select(RoleGrant.unit_id, RoleGrant.member_id)
        .join(Member, col(Member.id) == RoleGrant.member_id)
        .where(col(RoleGrant.role).in_(roles), col(Member.status) == MemberStatus.ACTIVE)
    ).all()
    found: dict[int, set[int]] = defaultdict(set)
    for unit_id, member_id in rows:
        found[unit_id].add(member_id)
    return Reviewers({unit_id: frozenset(ids) for unit_id, ids in found.items()})


@dataclass(frozen=True)
class Responsibility:
    """Who answers for a suggestion's deadline, and who hears of it when they miss it.

    Attributes:
        unit_id: the unit of the responsible cadres' grant (责任单位); None when nobody reviews the unit.
        cadre_ids: the responsible cadres; empty when nobody reviews the unit.
        above_unit_id: the unit above, whose reviewers get the escalation; None at the root.
        above_ids: those reviewers; empty when nobody is above.
    """

    unit_id: int | None
    cadre_ids: frozenset[int]
    above_unit_id: int | None = None
    above_ids: frozenset[int] = frozenset()


def responsibility(
    reviewers: Reviewers, *, unit_path: str, stage: Stage, reviewer_id: int | None
) -> Responsibility:
    """Who is responsible for a suggestion of the unit at ``unit_path`` in ``stage`` (see the module)."""
    path = _path_ids(unit_path)
    deepest_first = list(reversed(path))
    unit_id: int | None = None
    cadres: frozenset[int] = frozenset()
    if stage is not Stage.REGISTER and reviewer_id is not None:
        for candidate in deepest_first:
            if reviewer_id in reviewers.at(candidate):
                unit_id, cadres = candidate, frozenset({reviewer_id})
                break
    if unit_id is None:
        for candidate in deepest_first:
            if reviewers.at(candidate):
                unit_id, cadres = candidate, reviewers.at(candidate)
                break
    if unit_id is None:
        return Responsibility(unit_id=None, cadre_ids=frozenset())
    for candidate in reversed(path[: path.index(unit_id)]):
        others = reviewers.at(candidate) - cadres
        if others:
            return Responsibility(
                unit_id=unit_id, cadre_ids=cadres, above_unit_id=candidate, above_ids=others
            )
    return Responsibility(unit_id=unit_id, cadre_ids=cadres)


def responsible_for(session: Session, suggestion: Suggestion) -> Responsibility:
    """:func:`responsibility` for one suggestion, loading what it needs (a renderer, a test)."""
    stage = suggestion.stage
    unit = session.get(Unit, suggestion.unit_id)
    if stage is None or unit is None:
        return Responsibility(unit_id=None, cadre_ids=frozenset())
    return responsibility(
        load_reviewers(session), unit_path=unit.id_path, stage=stage, reviewer_id=suggestion.reviewer_id
    )


def due_key(suggestion_id: int, stage: Stage, due_on: date, member_id: int) -> str:
    return f"suggestion-due:{suggestion_id}:{stage.value}:{due_on.isoformat()}:{member_id}"


def overdue_key(suggestion_id: int, stage: Stage, due_on: date, member_id: int) -> str:
    return f"suggestion-overdue:{suggestion_id}:{stage.value}:{due_on.isoformat()}:{member_id}"


@dataclass(frozen=True)
class _Timed:
    id: int
    status: SuggestionStatus
    due_on: date
    reviewer_id: int | None
    unit_path: str


def _timed(session: Session, earliest: date, horizon: date) -> Sequence[_Timed]:
    """Open suggestions due between ``earliest`` and ``horizon``: one range read of (status, due_on)."""
    rows = session.execute(
        sa.select(
            col(Suggestion.id),
            col(Suggestion.status),
            col(Suggestion.due_on),
            col(Suggestion.reviewer_id),
            col(Unit.id_path),
        )
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .where(
            col(Suggestion.status).in_(TIMED_STATUSES),
            col(Suggestion.due_on) >= earliest,
            col(Suggestion.due_on) <= horizon,
        )
        .order_by(col(Suggestion.id))
    ).all()
    return [
        _Timed(
            id=row_id, status=SuggestionStatus(status), due_on=due_on, reviewer_id=reviewer_id, unit_path=path
        )
        for row_id, status, due_on, reviewer_id, path in rows
        if row_id is not None and due_on is not None
    ]


def _push(key: str, member_id: int, topic: str, item: _Timed, stage: Stage, unit_id: int) -> NewPush:
    return NewPush(
        key=key,
        member_id=member_id,
        kind=PushKind.REMINDER,
        topic=topic,
        subject_id=item.id,
        params={"stage": stage.value, "due_on": item.due_on.isoformat(), "unit": unit_id},
    )


def _deadline_pushes(reviewers: Reviewers, items: Iterable[_Timed], *, today: date) -> list[NewPush]:
    """The reminders and escalations due ``today``; whether one was queued before is the outbox's concern."""
    pushes: list[NewPush] = []
    unreviewed: list[int] = []
    at_the_top: list[int] = []
    for item in items:
        stage = STAGE_OF[item.status]
        duty = responsibility(reviewers, unit_path=item.unit_path, stage=stage, reviewer_id=item.reviewer_id)
        if duty.unit_id is None:
            unreviewed.append(item.id)
            continue
        if item.due_on >= today and previous_workday(item.due_on) <= today:
            recipients, topic, key = duty.cadre_ids, DUE_TOPIC, due_key
        elif item.due_on < today:
            if workdays_between(item.due_on, today) > ESCALATION_CATCH_UP:
                continue  # long overdue: in the queue and the figures, not in the chair's pushes
            if not duty.above_ids:
                at_the_top.append(item.id)
                continue
            recipients, topic, key = duty.above_ids, OVERDUE_TOPIC, overdue_key
        else:
            continue
        pushes.extend(
            _push(key(item.id, stage, item.due_on, member_id), member_id, topic, item, stage, duty.unit_id)
            for member_id in sorted(recipients)
        )
    # One line a run, not one per suggestion: these repeat every day until someone acts.
    if unreviewed:
        log.warning(
            "%d open suggestions have nobody reviewing their unit, so no reminder (ids %s)",
            len(unreviewed),
            _some(unreviewed),
        )
    if at_the_top:
        log.info(
            "%d overdue suggestions are with the union's top cadres: nobody above to escalate to (ids %s)",
            len(at_the_top),
            _some(at_the_top),
        )
    return pushes


def _some(ids: Sequence[int], shown: int = 20) -> str:
    listed = ", ".join(str(i) for i in ids[:shown])
    return listed + (" …" if len(ids) > shown else "")


def enqueue_deadline_pushes(session: Session, *, now: datetime, policy: SuggestionPolicy) -> int:
    """Queue today's "三及时" reminders and escalations in the caller's transaction.

    Safe to call any number of times a day: a push already queued (same
    suggestion, stage, due date and recipient) is not queued again.

    Returns:
        How many pushes were new.
    """
    today = policy.today(now)
    if not is_workday(today):
        return 0
    # previous_workday(due) <= today exactly when due <= the next working day: one bound for the query.
    items = _timed(session, today - timedelta(days=_CATCH_UP_CALENDAR_DAYS), next_workday(today))
    if not items:
        return 0
    pushes = _deadline_pushes(load_reviewers(session), items, today=today)
    return enqueue(session, pushes, now=now)
