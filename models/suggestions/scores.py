"""What the suggestions offer the units' ranking (打分排队), and the 金点子 points of its contributors.

Three scores, each a value per ranked unit over the unit's whole subtree, for a period
``[start, end)``; a unit left out has no data for that score (the ranking then shares
its weight among the unit's other scores rather than scoring it zero):

* ``suggestions_per_100`` — suggestions handed in during the period per 100 active
  members (a duplicate merged into another is not counted twice). No data: no members.
* ``adoption_rate`` — suggestions decided "adopted" in the period per suggestion handed
  in, in percent, at most 100 (as 建议统计 reports it, a short period can otherwise exceed
  it). No data: nothing handed in.
* ``answered_on_time`` — the "三及时" steps due or done in the period that were done in
  time, in percent: registrations, decisions and starts of implementation done in the
  period within their working-day deadlines, against those plus the steps whose
  deadline fell in the period and are still not done. No data: no step in the period.

An anonymous suggestion counts for the unit it is shown under (the smallest unit
at or above its own with enough members, :mod:`models.suggestions.anonymity`), as
every figure of the feature does, so a small 班组's row never points at its proposer.

**金点子 points** reward what a member's ideas achieved in the period: 1 for each
suggestion handed in, 3 when one is adopted, 2 when its implementation is finished,
and 10, 6 or 3 for a 金点子, 银点子 or 鼓励奖 award. A named proposer's points count for
them and their unit; an anonymous one's count for its unit only and never name anyone.

Each computation is a few grouped queries plus a pass in memory over the units, so a
union of thousands of units costs the same handful of statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from models.members import Member, MemberStatus
from models.suggestions.tables import (
    STAGE_OF,
    Award,
    Suggestion,
    SuggestionPolicy,
    SuggestionStatus,
)
from models.units import PATH_SEPARATOR, Unit
from models.workdays import add_workdays

Subtrees = Mapping[int, frozenset[int]]

SUBMITTED_POINTS = 1
ADOPTED_POINTS = 3
IMPLEMENTED_POINTS = 2
AWARD_POINTS: Mapping[Award, int] = {Award.GOLD: 10, Award.SILVER: 6, Award.ENCOURAGEMENT: 3}


def _path_ids(id_path: str) -> list[int]:
    return [int(part) for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


class _Units:
    """Every unit's chain and its subtree's active members: read once per computation."""

    def __init__(self, session: Session) -> None:
        self.chains = {
            unit_id: _path_ids(path)
            for unit_id, path in session.execute(sa.select(col(Unit.id), col(Unit.id_path)))
        }
        own = dict(
            session.execute(
                sa.select(col(Member.unit_id), sa.func.count())
                .where(col(Member.status) == MemberStatus.ACTIVE)
                .group_by(col(Member.unit_id))
            ).all()
        )
        self.members: dict[int, int] = defaultdict(int)
        for unit_id, count in own.items():
            for above in self.chains.get(unit_id, [unit_id]):
                self.members[above] += count

    def shown(self, unit_id: int, min_members: int) -> int:
        """The unit an anonymous suggestion of ``unit_id`` counts for (see the module)."""
        chain = self.chains.get(unit_id, [unit_id])
        return next((above for above in reversed(chain) if self.members[above] >= min_members), chain[0])


def _counted_for(units: _Units, unit_id: int, anonymous: bool, policy: SuggestionPolicy) -> int:
    return units.shown(unit_id, policy.anonymity_min_members) if anonymous else unit_id


def _roll_up(per_unit: Mapping[int, float], subtrees: Subtrees) -> dict[int, float]:
    return {
        ranked: sum(per_unit.get(unit_id, 0) for unit_id in subtree) for ranked, subtree in subtrees.items()
    }


def _between(column: Mapped[Any], start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(column >= start, column < end)


def _submitted(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Suggestion.status) != SuggestionStatus.MERGED, _between(col(Suggestion.submitted_at), start, end)
    )


def _adopted(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(col(Suggestion.adopted).is_(True), _between(col(Suggestion.decided_at), start, end))


def _counts(
    session: Session, units: _Units, policy: SuggestionPolicy, condition: sa.ColumnElement[bool]
) -> dict[int, float]:
    """How many suggestions meet ``condition``, by the unit each counts for."""
    per_unit: dict[int, float] = defaultdict(float)
    rows = session.execute(
        sa.select(col(Suggestion.unit_id), col(Suggestion.anonymous), sa.func.count())
        .where(condition)
        .group_by(col(Suggestion.unit_id), col(Suggestion.anonymous))
    )
    for unit_id, anonymous, count in rows:
        per_unit[_counted_for(units, unit_id, anonymous, policy)] += count
    return per_unit


def suggestions_per_100(
    session: Session, start: datetime, end: datetime, subtrees: Subtrees, policy: SuggestionPolicy
) -> dict[int, float]:
    """Suggestions handed in per 100 active members of each ranked unit's subtree."""
    units = _Units(session)
    submitted = _roll_up(_counts(session, units, policy, _submitted(start, end)), subtrees)
    return {
        ranked: 100.0 * submitted[ranked] / units.members[ranked]
        for ranked in subtrees
        if units.members.get(ranked, 0) > 0
    }


def adoption_rate(
    session: Session, start: datetime, end: datetime, subtrees: Subtrees, policy: SuggestionPolicy
) -> dict[int, float]:
    """Adopted in the period per suggestion handed in, in percent (at most 100)."""
    units = _Units(session)
    submitted = _roll_up(_counts(session, units, policy, _submitted(start, end)), subtrees)
    adopted = _roll_up(_counts(session, units, policy, _adopted(start, end)), subtrees)
    return {
        ranked: min(100.0, 100.0 * adopted[ranked] / submitted[ranked])
        for ranked in subtrees
        if submitted[ranked] > 0
    }


def _local(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def answered_on_time(
    session: Session, start: datetime, end: datetime, subtrees: Subtrees, policy: SuggestionPolicy
) -> dict[int, float]:
    """The "三及时" steps of the period done within their deadlines, in percent (see the module)."""
    units = _Units(session)
    zone = policy.zone
    first_day, end_day = _local(start, zone), _local(end, zone)

    @cache
    def due(day: date, days: int) -> date:
        return add_workdays(day, days)

    on_time: dict[int, float] = defaultdict(float)
    steps: dict[int, float] = defaultdict(float)
    who = (col(Suggestion.unit_id), col(Suggestion.anonymous))
    # One query per kind of step, each reading only its period's rows and the two instants it
    # compares (an OR of them all reads the whole table, and every instant read costs).
    timed_steps = (
        (col(Suggestion.submitted_at), col(Suggestion.registered_at), policy.register_days),
        (col(Suggestion.registered_at), col(Suggestion.decided_at), policy.decide_days),
    )
    for since, done, days in timed_steps:
        query = sa.select(*who, since, done).where(_between(done, start, end), since.is_not(None))
        for unit_id, anonymous, began, finished in session.execute(query):
            counted = _counted_for(units, unit_id, anonymous, policy)
            steps[counted] += 1
            on_time[counted] += _local(finished, zone) <= due(_local(began, zone), days)
    started = col(Suggestion.implementation_started_on)
    implementation = sa.select(*who, col(Suggestion.decided_at), started).where(
        started >= first_day, started < end_day, col(Suggestion.decided_at).is_not(None)
    )
    for unit_id, anonymous, decided_at, started_on in session.execute(implementation):
        counted = _counted_for(units, unit_id, anonymous, policy)
        steps[counted] += 1
        on_time[counted] += started_on <= due(_local(decided_at, zone), policy.implement_days)
    # Deadlines that fell in the period and are still waiting: late, whatever happens next.
    waiting = sa.select(*who).where(
        col(Suggestion.status).in_(list(STAGE_OF)),
        col(Suggestion.due_on) >= first_day,
        col(Suggestion.due_on) < end_day,
    )
    for unit_id, anonymous in session.execute(waiting):
        steps[_counted_for(units, unit_id, anonymous, policy)] += 1
    total = _roll_up(steps, subtrees)
    kept = _roll_up(on_time, subtrees)
    return {ranked: 100.0 * kept[ranked] / total[ranked] for ranked in subtrees if total[ranked] > 0}


def contribution_points(
    session: Session, start: datetime, end: datetime, policy: SuggestionPolicy
) -> list[tuple[int | None, int, int]]:
    """The period's 金点子 points as ``(proposer id or None when anonymous, unit counted for, points)``.

    One plain query per kind of merit, added up here: an OR of them all is answered from no
    index, and a GROUP BY makes SQLite walk the proposer index over the whole table (seconds
    at 200,000 suggestions) where reading the period's few thousand rows takes milliseconds.
    """
    units = _Units(session)
    implemented = sa.and_(
        col(Suggestion.implemented_on) >= _local(start, policy.zone),
        col(Suggestion.implemented_on) < _local(end, policy.zone),
    )
    awarded = sa.and_(col(Suggestion.award).is_not(None), _between(col(Suggestion.awarded_at), start, end))
    merits: list[tuple[sa.ColumnElement[bool], int | None]] = [
        (_submitted(start, end), SUBMITTED_POINTS),
        (_adopted(start, end), ADOPTED_POINTS),
        (implemented, IMPLEMENTED_POINTS),
        (awarded, None),  # by the award
    ]
    earned: dict[tuple[int, int, bool], int] = defaultdict(int)
    columns = (
        col(Suggestion.proposer_id),
        col(Suggestion.unit_id),
        col(Suggestion.anonymous),
        col(Suggestion.award),
    )
    for condition, points in merits:
        for proposer_id, unit_id, anonymous, award in session.execute(sa.select(*columns).where(condition)):
            gained = points if points is not None else AWARD_POINTS.get(Award(award), 0) if award else 0
            earned[(proposer_id, unit_id, anonymous)] += gained
    return [
        (None if anonymous else proposer_id, _counted_for(units, unit_id, anonymous, policy), points)
        for (proposer_id, unit_id, anonymous), points in earned.items()
        if points
    ]
