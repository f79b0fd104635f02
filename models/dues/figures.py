"""会费统计: collection rates per unit and month, arrears, and the ranking's dues score.

The collection rate (收缴率) of a unit for a month is the share of its members'
charges for that month paid in full: months paid ÷ months due, counted over
the unit's whole subtree, each charge under the unit the member belonged to
that month. A unit with nothing due has no rate (not 0 %, not 100 %).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.dues.ledger import Actor, require_unit_scope
from models.dues.months import Month, month_middle, months_between, previous_month
from models.dues.tables import DuesMonth
from models.members import Member
from models.units import PATH_SEPARATOR, Unit, UnitTree, unit_path


@dataclass
class Tally:
    """Charges of one unit (or bucket of units) for one month or a stretch of months."""

    due: int = 0  # months charged
    paid: int = 0  # of those, paid in full
    owed_fen: int = 0  # what is still owed on them

    def add(self, other: Tally) -> None:
        self.due += other.due
        self.paid += other.paid
        self.owed_fen += other.owed_fen

    @property
    def rate(self) -> float | None:
        return self.paid / self.due if self.due else None


def _path_ids(id_path: str) -> list[int]:
    return [int(part) for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


def tallies_by_unit(
    session: Session, months: Sequence[Month], *, under: Unit | None = None
) -> dict[int, dict[Month, Tally]]:
    """Each unit's own charges (not its subtree's) per month, for the units at or below ``under``."""
    owed = sa.case((col(DuesMonth.owing), col(DuesMonth.due_fen) - col(DuesMonth.paid_fen)), else_=0)
    paid = sa.case((col(DuesMonth.owing), 0), else_=1)
    query = (
        sa.select(
            col(DuesMonth.unit_id),
            col(DuesMonth.month),
            sa.func.count(),
            sa.func.sum(paid),
            sa.func.sum(owed),
        )
        .where(col(DuesMonth.month).in_(list(months)))
        .group_by(col(DuesMonth.unit_id), col(DuesMonth.month))
    )
    if under is not None:
        query = query.join(Unit, col(Unit.id) == col(DuesMonth.unit_id)).where(
            col(Unit.id_path).startswith(under.id_path)
        )
    found: dict[int, dict[Month, Tally]] = defaultdict(dict)
    for unit_id, month, due, paid_count, owed_fen in session.execute(query):
        found[unit_id][month] = Tally(int(due), int(paid_count or 0), int(owed_fen or 0))
    return found


@dataclass(frozen=True)
class UnitRow:
    """One line of the table: a child unit with its subtree, or the unit's own members (本级)."""

    unit_id: int
    path: str
    own: bool  # the chosen unit's own members only, not its children's
    by_month: Mapping[Month, Tally]

    def total(self) -> Tally:
        tally = Tally()
        for month_tally in self.by_month.values():
            tally.add(month_tally)
        return tally


@dataclass(frozen=True)
class RatesReport:
    """The collection rates of a unit's children (and its own members) over some months."""

    unit_id: int
    unit_path: str
    months: Sequence[Month]
    rows: Sequence[UnitRow]
    total: Mapping[Month, Tally] = field(default_factory=dict)


def rates_report(session: Session, *, actor: Actor, unit: Unit, months: Sequence[Month]) -> RatesReport:
    """The unit's children, each with its subtree, and the unit's own members, per month.

    Raises:
        PermissionDenied: the unit lies outside the actor's dues scope.
    """
    require_unit_scope(session, actor, unit)
    return unit_rates(session, unit=unit, months=months)


def unit_rates(session: Session, *, unit: Unit, months: Sequence[Month]) -> RatesReport:
    """:func:`rates_report` without the scope check, for the digest the job queues to the unit's chair."""
    assert unit.id is not None
    tree = UnitTree(session)
    own = tallies_by_unit(session, months, under=unit)
    children = tree.ordered(session.exec(select(Unit).where(Unit.parent_id == unit.id)).all())
    depth = len(_path_ids(unit.id_path))
    bucket_of: dict[int, int] = {}
    units = session.exec(
        select(Unit.id, Unit.id_path).where(col(Unit.id_path).startswith(unit.id_path))
    ).all()
    for unit_id, id_path in units:
        if unit_id is None:
            continue
        ids = _path_ids(id_path)
        bucket_of[unit_id] = ids[depth] if len(ids) > depth else unit.id
    buckets: dict[int, dict[Month, Tally]] = defaultdict(lambda: defaultdict(Tally))
    total: dict[Month, Tally] = defaultdict(Tally)
    for unit_id, per_month in own.items():
        bucket = buckets[bucket_of.get(unit_id, unit.id)]
        for month, tally in per_month.items():
            bucket[month].add(tally)
            total[month].add(tally)
    rows = [
        UnitRow(child.id, tree.path_of(child), False, dict(buckets.get(child.id, {})))
        for child in children
        if child.id is not None
    ]
    if unit.id in buckets or not rows:
        rows.append(UnitRow(unit.id, tree.path_of(unit), True, dict(buckets.get(unit.id, {}))))
    return RatesReport(unit.id, tree.path_of(unit), list(months), rows, dict(total))


@dataclass(frozen=True)
class Arrear:
    """A member who still owes, with the months and the total."""

    member_id: int
    employee_no: str
    name: str
    unit_path: str
    months: Sequence[tuple[Month, int]]

    @property
    def owed_fen(self) -> int:
        return sum(owed for _month, owed in self.months)


def arrears(session: Session, *, actor: Actor, unit: Unit, up_to: Month) -> list[Arrear]:
    """Every member whose charges under ``unit`` (and below) up to ``up_to`` are not paid in full.

    Raises:
        PermissionDenied: the unit lies outside the actor's dues scope.
    """
    require_unit_scope(session, actor, unit)
    return unit_arrears(session, unit=unit, up_to=up_to)


def unit_arrears(session: Session, *, unit: Unit, up_to: Month) -> list[Arrear]:
    """:func:`arrears` without the scope check, for the pushes the job queues to the unit's own cadres."""
    rows = session.execute(
        sa.select(
            col(DuesMonth.member_id),
            col(Member.employee_no),
            col(Member.name),
            col(DuesMonth.unit_id),
            col(DuesMonth.month),
            col(DuesMonth.due_fen) - col(DuesMonth.paid_fen),
        )
        .join(Member, col(Member.id) == col(DuesMonth.member_id))
        .join(Unit, col(Unit.id) == col(DuesMonth.unit_id))
        .where(
            col(DuesMonth.owing),
            col(DuesMonth.month) <= up_to,
            col(Unit.id_path).startswith(unit.id_path),
        )
        .order_by(col(Member.employee_no), col(DuesMonth.month))
    ).all()
    # Only the units someone owes in, their paths read once for the transaction (a collector's
    # digest is rendered for each of 2,000 班组 in a delivery run, so never the whole tree).
    owed_in = {unit_id for _member, _no, _name, unit_id, _month, _owed in rows}
    units = session.exec(select(Unit).where(col(Unit.id).in_(owed_in))).all() if owed_in else []
    paths = {found.id: unit_path(session, found) for found in units}
    found: dict[int, Arrear] = {}
    for member_id, employee_no, name, unit_id, month, owed in rows:
        arrear = found.get(member_id)
        if arrear is None:
            arrear = found[member_id] = Arrear(member_id, employee_no, name, paths.get(unit_id, ""), [])
        assert isinstance(arrear.months, list)
        arrear.months.append((month, int(owed)))
    return list(found.values())


def unit_tally(session: Session, *, unit: Unit, month: Month) -> Tally:
    """The unit's subtree's charges for one month."""
    tally = Tally()
    for per_month in tallies_by_unit(session, [month], under=unit).values():
        if month in per_month:
            tally.add(per_month[month])
    return tally


def dues_collection(
    session: Session, months: Sequence[Month], subtrees: Mapping[int, frozenset[int]]
) -> dict[int, float]:
    """Months paid ÷ months due over ``months`` for each ranked unit's subtree; units with none left out."""
    if not months:
        return {}
    own = tallies_by_unit(session, months)
    scores: dict[int, float] = {}
    for ranked, members in subtrees.items():
        tally = Tally()
        for unit_id in members:
            for month_tally in own.get(unit_id, {}).values():
                tally.add(month_tally)
        if tally.rate is not None:
            scores[ranked] = tally.rate
    return scores


def months_in(start: datetime, end: datetime) -> list[Month]:
    """The months whose middle lies in [start, end): a ranking period's months on any union's clocks."""
    first = previous_month(start.year * 100 + start.month)
    last = end.year * 100 + end.month
    return [month for month in months_between(first, last) if start <= month_middle(month) < end]
