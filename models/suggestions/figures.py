"""Suggestion figures per unit and period: what the 厂工会 reports upwards each month, quarter and year.

The figures unions compare units on ("建议数、人均、采纳数、采纳率、实施数、创效"),
defined once here so the chat table, the workbook and the command line agree:

* **submitted** (提出): suggestions handed in during the period. A duplicate merged
  into another (合并) is not a separate submission: its proposer became a
  supporter of the other one, which is the one counted.
* **members** (会员): active members of the unit's subtree today, the base of
  **per 100 members** (每百人), one decimal.
* **adopted** (采纳): decided "adopted" during the period, whenever submitted.
* **adoption rate** (采纳率) = adopted / submitted of the same period, as unions
  report it (采纳数 ÷ 建议数). Because a suggestion handed in late in one period
  may be decided in the next, a short period can show more than 100 %.
* **implemented** (实施) and **value created** (创效): effect recorded with an
  implementation date in the period, and the yuan those created.
* **average days to answer** (平均答复天数): calendar days in the union's zone from
  submission to the first reply, over the period's submissions answered so far.
* **overdue** (超期): suggestions still waiting past a "三及时" deadline today,
  whatever period they were handed in.

A suggestion counts for the unit its proposer belonged to when submitting
(:attr:`Suggestion.unit_id`), and for every unit above it. An anonymous one counts
instead for the unit it is shown under, large enough not to point at its proposer
(:mod:`models.suggestions.anonymity`): a row of one 班组 of five saying "1 submitted,
adopted" would say whose it was. It never appears in a personal ranking.

Every figure comes from a handful of grouped queries over the subtree, rolled
up in memory: a union of a few hundred units costs the same few queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.periods import Period
from models.roles import Permission, has_permission
from models.suggestions.anonymity import anonymous_units, shown_units
from models.suggestions.queries import review_scope
from models.suggestions.tables import (
    STAGE_OF,
    Award,
    Suggestion,
    SuggestionPolicy,
    SuggestionStatus,
    local_date,
)
from models.units import PATH_SEPARATOR, Unit, get_unit

RANKING_SIZE = 20


class System(Enum):
    """Who acts when no member does.

    The command line is run by whoever holds the server and its database, as
    the 厂工会 office; it sees every unit. A handler always passes a member.
    """

    COMMAND_LINE = "command_line"


Actor = Member | System


# Ten thousand yuan, in fen: from here on value reads better in 万元, as unions report it.
WAN_FEN = 10_000 * 100


# ----------------------------------------------------------------------------- figures


class RowKind(StrEnum):
    CHILD = "child"  # a unit directly below the chosen one, with its whole subtree
    OWN = "own"  # the chosen unit's own members and suggestions (本级), not its children's
    TOTAL = "total"  # the chosen unit with everything below it


def _ratio(numerator: int, denominator: int, scale: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator * scale) / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class UnitFigures:
    """One line of the table. Derived figures are None where their base is zero."""

    kind: RowKind
    unit_id: int
    name: str
    submitted: int = 0
    members: int = 0
    adopted: int = 0
    implemented: int = 0
    value_fen: int = 0
    answered: int = 0
    answer_days: int = 0
    overdue: int = 0

    @property
    def per_100_members(self) -> Decimal | None:
        """每百人建议数, one decimal."""
        return _ratio(self.submitted, self.members, 100)

    @property
    def adoption_rate(self) -> Decimal | None:
        """采纳率 as a fraction (0.417 for 41.7 %), adopted / submitted; three decimals."""
        if self.submitted == 0:
            return None
        return (Decimal(self.adopted) / self.submitted).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)

    @property
    def average_answer_days(self) -> Decimal | None:
        """平均答复天数, one decimal; None when nothing of the period was answered yet."""
        return _ratio(self.answer_days, self.answered, 1)

    def add(self, other: UnitFigures) -> None:
        self.submitted += other.submitted
        self.members += other.members
        self.adopted += other.adopted
        self.implemented += other.implemented
        self.value_fen += other.value_fen
        self.answered += other.answered
        self.answer_days += other.answer_days
        self.overdue += other.overdue


@dataclass(frozen=True)
class Scope:
    """The unit the figures are for, its readable path, and its subtree."""

    unit: Unit
    path: str
    units: dict[int, Unit] = field(repr=False)

    @property
    def unit_id(self) -> int:
        assert self.unit.id is not None
        return self.unit.id


def _ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def figures_scope(session: Session, *, actor: Actor, unit_id: int | None) -> Scope:
    """The unit to report on, checked against the actor's review scope.

    Without ``unit_id`` a member gets the highest unit they review; the command
    line gets the union's root unit.

    Raises:
        PermissionDenied: the member reviews suggestions nowhere, or not over that unit.
        NotFound: no such unit, or no unit at all yet.
        InvalidInput: the command line was not told which of several unions.
    """
    if unit_id is not None:
        unit = get_unit(session, unit_id)
        if isinstance(actor, Member):
            review_scope(session, actor)  # a member who reviews nothing is told so first
            if not has_permission(session, actor, Permission.REVIEW_SUGGESTIONS, unit):
                raise PermissionDenied(
                    "suggestion.figures_out_of_scope",
                    N_("抱歉，这个单位不在您负责的范围内，不能查看它的建议统计。"),
                )
    elif isinstance(actor, Member):
        unit = review_scope(session, actor)[0]
    else:
        roots = session.exec(select(Unit).where(col(Unit.parent_id).is_(None)).order_by(col(Unit.id))).all()
        if not roots:
            raise NotFound("unit.none", N_("还没有任何单位，请先导入花名册。"))
        if len(roots) > 1:
            raise InvalidInput("suggestion.figures_which_unit", N_("有多个工会，请指明要统计哪个单位。"))
        unit = roots[0]
    units = {
        row.id: row
        for row in session.exec(select(Unit).where(col(Unit.id_path).startswith(unit.id_path))).all()
        if row.id is not None
    }
    by_id = {**units}
    missing = [i for i in _ids(unit) if i not in by_id]
    if missing:
        by_id.update(
            {row.id: row for row in session.exec(select(Unit).where(col(Unit.id).in_(missing))) if row.id}
        )
    path = PATH_SEPARATOR.join(by_id[i].name for i in _ids(unit))
    return Scope(unit=unit, path=path, units=units)


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    return col(Suggestion.unit_id).in_(sorted(scope.units))


def _row_of(scope: Scope, unit_id: int) -> int:
    """The row a unit of the subtree rolls up into: the chosen unit's child above it, or the unit itself."""
    depth = len(_ids(scope.unit))
    ids = _ids(scope.units[unit_id])
    return ids[depth] if len(ids) > depth else scope.unit_id


@dataclass(frozen=True)
class _Conditions:
    """The period's figures as SQL conditions on a suggestion, shared by the unit table and the ranking."""

    submitted: sa.ColumnElement[bool]
    adopted: sa.ColumnElement[bool]
    implemented: sa.ColumnElement[bool]

    @classmethod
    def of(cls, period: Period, policy: SuggestionPolicy) -> _Conditions:
        start, end = period.bounds(policy.zone)
        return cls(
            submitted=sa.and_(
                col(Suggestion.submitted_at) >= start,
                col(Suggestion.submitted_at) < end,
                col(Suggestion.status) != SuggestionStatus.MERGED,
            ),
            adopted=sa.and_(
                col(Suggestion.adopted).is_(True),
                col(Suggestion.decided_at) >= start,
                col(Suggestion.decided_at) < end,
            ),
            implemented=sa.and_(
                col(Suggestion.implemented_on) >= period.first_day,
                col(Suggestion.implemented_on) < period.end_day,
            ),
        )


def _counted_in(
    session: Session, scope: Scope, policy: SuggestionPolicy, found: list[tuple[int, bool]]
) -> Callable[[int, bool], int]:
    """Where a suggestion of a unit counts: its unit, or for an anonymous one the unit it is shown under.

    A unit shown above the chosen one (a small union, a small subtree) counts as the chosen unit's own:
    the table has no row higher, and the chosen unit is no closer to the proposer.
    """
    hidden = anonymous_units(
        session,
        {unit_id for unit_id, anonymous in found if anonymous},
        min_members=policy.anonymity_min_members,
    )

    def counted_in(unit_id: int, anonymous: bool) -> int:
        if not anonymous:
            return unit_id
        shown = hidden[unit_id].id
        return shown if shown is not None and shown in scope.units else scope.unit_id

    return counted_in


def _counted(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


def _value(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return func.coalesce(
        func.sum(sa.case((condition, func.coalesce(col(Suggestion.value_fen), 0)), else_=0)), 0
    )


def unit_figures(
    session: Session,
    *,
    actor: Actor,
    unit_id: int | None,
    period: Period,
    today: date,
    policy: SuggestionPolicy,
) -> list[UnitFigures]:
    """The figures of each unit directly below the chosen one, then its own (本级, if any), then the total.

    Each child row sums its whole subtree; the rows add up to the total.

    Raises:
        PermissionDenied, NotFound, InvalidInput: see :func:`figures_scope`.
    """
    scope = figures_scope(session, actor=actor, unit_id=unit_id)
    return _figures(session, scope, period=period, today=today, policy=policy)


def _figures(
    session: Session, scope: Scope, *, period: Period, today: date, policy: SuggestionPolicy
) -> list[UnitFigures]:
    when = _Conditions.of(period, policy)
    per_unit: dict[int, UnitFigures] = defaultdict(
        lambda: UnitFigures(kind=RowKind.CHILD, unit_id=0, name="")
    )

    members = session.exec(
        select(Member.unit_id, func.count())
        .where(col(Member.unit_id).in_(sorted(scope.units)), Member.status == MemberStatus.ACTIVE)
        .group_by(col(Member.unit_id))
    ).all()
    for unit_id, count in members:
        per_unit[unit_id].members = count

    overdue = sa.and_(
        col(Suggestion.status).in_(list(STAGE_OF)),
        col(Suggestion.due_on).is_not(None),
        col(Suggestion.due_on) < today,
    )

    rows = session.execute(
        sa.select(
            col(Suggestion.unit_id),
            col(Suggestion.anonymous),
            _counted(when.submitted),
            _counted(when.adopted),
            _counted(when.implemented),
            _value(when.implemented),
            _counted(overdue),
        )
        .where(_in_scope(scope), sa.or_(when.submitted, when.adopted, when.implemented, overdue))
        .group_by(col(Suggestion.unit_id), col(Suggestion.anonymous))
    ).all()
    # Calendar days in the union's zone: computed here, the same on every database.
    answered = session.exec(
        select(
            Suggestion.unit_id, Suggestion.anonymous, Suggestion.submitted_at, Suggestion.answered_at
        ).where(_in_scope(scope), when.submitted, col(Suggestion.answered_at).is_not(None))
    ).all()
    found = [(unit_id, anonymous) for unit_id, anonymous, *_ in rows]
    counted_in = _counted_in(session, scope, policy, found)
    for unit_id, anonymous, n_submitted, n_adopted, n_implemented, value, n_overdue in rows:
        figures = per_unit[counted_in(unit_id, anonymous)]
        figures.submitted += int(n_submitted)
        figures.adopted += int(n_adopted)
        figures.implemented += int(n_implemented)
        figures.value_fen += int(value)
        figures.overdue += int(n_overdue)
    for unit_id, anonymous, submitted_at, answered_at in answered:
        assert answered_at is not None
        figures = per_unit[counted_in(unit_id, anonymous)]
        figures.answered += 1
        figures.answer_days += (
            local_date(answered_at, policy.zone) - local_date(submitted_at, policy.zone)
        ).days

    children = sorted(
        (unit for unit in scope.units.values() if unit.parent_id == scope.unit_id),
        key=lambda unit: unit.id or 0,
    )
    table: dict[int, UnitFigures] = {
        child.id: UnitFigures(kind=RowKind.CHILD, unit_id=child.id, name=child.name)
        for child in children
        if child.id is not None
    }
    own = UnitFigures(kind=RowKind.OWN, unit_id=scope.unit_id, name=scope.unit.name)
    total = UnitFigures(kind=RowKind.TOTAL, unit_id=scope.unit_id, name=scope.unit.name)
    for unit_id, figures in per_unit.items():
        row = _row_of(scope, unit_id)
        (own if row == scope.unit_id else table[row]).add(figures)
        total.add(figures)
    result = list(table.values())
    if own.members or own.submitted or own.adopted or own.implemented or own.overdue or not result:
        result.append(own)
    result.append(total)
    return result


# ----------------------------------------------------------------------------- people and lines


@dataclass(frozen=True)
class Proposer:
    """One line of the personal ranking (个人排行): named suggestions only."""

    rank: int
    member_id: int
    name: str
    employee_no: str
    unit_path: str
    submitted: int
    adopted: int
    implemented: int
    value_fen: int


def _paths(session: Session, unit_ids: set[int]) -> dict[int, str]:
    """Readable paths of units, in two queries however many."""
    units = session.exec(select(Unit).where(col(Unit.id).in_(sorted(unit_ids)))).all()
    wanted = {i for unit in units for i in _ids(unit)}
    names = dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(sorted(wanted)))).all())
    return {unit.id: PATH_SEPARATOR.join(names[i] for i in _ids(unit)) for unit in units if unit.id}


def top_proposers(
    session: Session,
    *,
    actor: Actor,
    unit_id: int | None,
    period: Period,
    policy: SuggestionPolicy,
    limit: int = RANKING_SIZE,
) -> list[Proposer]:
    """The members with the most suggestions in the period, counted as the unit table counts them.

    Anonymous suggestions are left out entirely, so a ranking can never tell who
    wrote one; they still count for their unit in :func:`unit_figures`. Ties go
    to more adopted, then more value created, then the 工号.

    Raises:
        PermissionDenied, NotFound, InvalidInput: see :func:`figures_scope`.
    """
    scope = figures_scope(session, actor=actor, unit_id=unit_id)
    return _top_proposers(session, scope, period=period, policy=policy, limit=limit)


def _top_proposers(
    session: Session, scope: Scope, *, period: Period, policy: SuggestionPolicy, limit: int
) -> list[Proposer]:
    when = _Conditions.of(period, policy)
    submitted_count = _counted(when.submitted).label("submitted")
    adopted_count = _counted(when.adopted).label("adopted")
    implemented_count = _counted(when.implemented).label("implemented")
    value_sum = _value(when.implemented).label("value")
    # Ranked and cut in the database: a large union has thousands of proposers a quarter, and
    # loading each of them to show the first few cost most of the report's time (bench/RESULTS.md).
    rows = session.execute(
        sa.select(col(Suggestion.proposer_id), submitted_count, adopted_count, implemented_count, value_sum)
        .join(Member, col(Member.id) == Suggestion.proposer_id)
        .where(
            _in_scope(scope),
            col(Suggestion.anonymous).is_(False),
            sa.or_(when.submitted, when.adopted, when.implemented),
        )
        .group_by(col(Suggestion.proposer_id), col(Member.employee_no))
        .order_by(submitted_count.desc(), adopted_count.desc(), value_sum.desc(), col(Member.employee_no))
        .limit(limit)
    ).all()
    people = {
        member.id: member
        for member in session.exec(select(Member).where(col(Member.id).in_([row[0] for row in rows]))).all()
    }
    paths = _paths(session, {member.unit_id for member in people.values()})
    return [
        Proposer(
            rank=rank,
            member_id=proposer_id,
            name=people[proposer_id].name,
            employee_no=people[proposer_id].employee_no,
            unit_path=paths.get(people[proposer_id].unit_id, ""),
            submitted=int(submitted),
            adopted=int(adopted),
            implemented=int(implemented),
            value_fen=int(value),
        )
        for rank, (proposer_id, submitted, adopted, implemented, value) in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class SuggestionLine:
    """One suggestion of the period as the register (明细) lists it; ``proposer`` is None when anonymous.

    ``unit_path`` is the unit it is shown under: for an anonymous one, one not pointing at its proposer.
    """

    number: str
    unit_path: str
    category: str
    title: str
    proposer: str | None
    employee_no: str | None
    status: SuggestionStatus
    submitted_on: date
    decided_on: date | None
    adopted: bool | None
    value_fen: int | None
    award: Award | None
    prize_fen: int | None


def period_suggestions(
    session: Session, *, actor: Actor, unit_id: int | None, period: Period, policy: SuggestionPolicy
) -> list[SuggestionLine]:
    """Every suggestion handed in during the period in the unit's subtree, merged ones included, by number.

    A register lists everything received; merged duplicates show as such and
    are the ones the "submitted" figure leaves out.

    Raises:
        PermissionDenied, NotFound, InvalidInput: see :func:`figures_scope`.
    """
    scope = figures_scope(session, actor=actor, unit_id=unit_id)
    return _period_suggestions(session, scope, period=period, policy=policy)


def _period_suggestions(
    session: Session, scope: Scope, *, period: Period, policy: SuggestionPolicy
) -> list[SuggestionLine]:
    start, end = period.bounds(policy.zone)
    suggestions = session.exec(
        select(Suggestion)
        .where(_in_scope(scope), col(Suggestion.submitted_at) >= start, col(Suggestion.submitted_at) < end)
        .order_by(col(Suggestion.id))
    ).all()
    named = {s.proposer_id for s in suggestions if not s.anonymous}
    people = {
        member.id: member for member in session.exec(select(Member).where(col(Member.id).in_(sorted(named))))
    }
    shown = shown_units(session, suggestions, policy)
    paths = _paths(session, {unit.id for unit in shown.values() if unit.id is not None})
    lines = []
    for suggestion in suggestions:
        assert suggestion.id is not None
        proposer = None if suggestion.anonymous else people.get(suggestion.proposer_id)
        lines.append(
            SuggestionLine(
                number=suggestion.number or "",
                unit_path=paths.get(shown[suggestion.id].id or 0, ""),
                category=suggestion.category,
                title=suggestion.title,
                proposer=proposer.name if proposer else None,
                employee_no=proposer.employee_no if proposer else None,
                status=suggestion.status,
                submitted_on=local_date(suggestion.submitted_at, policy.zone),
                decided_on=local_date(suggestion.decided_at, policy.zone) if suggestion.decided_at else None,
                adopted=suggestion.adopted,
                value_fen=suggestion.value_fen,
                award=suggestion.award,
                prize_fen=suggestion.prize_fen,
            )
        )
    return lines


@dataclass(frozen=True)
class FiguresReport:
    """Everything the chat table and the workbook show, gathered under one scope check."""

    unit_path: str
    unit_name: str
    period: Period
    today: date
    rows: list[UnitFigures]
    proposers: list[Proposer]
    lines: list[SuggestionLine] = field(default_factory=list)

    @property
    def total(self) -> UnitFigures:
        return self.rows[-1]


def figures_report(
    session: Session,
    *,
    actor: Actor,
    unit_id: int | None,
    period: Period,
    today: date,
    policy: SuggestionPolicy,
    with_lines: bool = False,
    ranking_size: int = RANKING_SIZE,
) -> FiguresReport:
    """The table, the ranking and (for the workbook) the register, for one unit and period.

    Raises:
        PermissionDenied, NotFound, InvalidInput: see :func:`figures_scope`.
    """
    scope = figures_scope(session, actor=actor, unit_id=unit_id)
    return FiguresReport(
        unit_path=scope.path,
        unit_name=scope.unit.name,
        period=period,
        today=today,
        rows=_figures(session, scope, period=period, today=today, policy=policy),
        proposers=_top_proposers(session, scope, period=period, policy=policy, limit=ranking_size),
        lines=_period_suggestions(session, scope, period=period, policy=policy) if with_lines else [],
    )


def yuan(fen: int) -> Decimal:
    """Fen as yuan, exactly: what a spreadsheet cell holds."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def wan_yuan(fen: int) -> Decimal:
    """Fen as 万元 with two decimals, as union reports state value created."""
    return (Decimal(fen) / WAN_FEN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _plain(amount: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 500, 12.5, 0.05."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_text(fen: int, t: Callable[[str], str] = lambda message: message) -> str:
    """An amount as a union writes it in a sentence: "500 元", "12.35 万元" from ten thousand yuan up.

    The one wording of money for the figures, the appraisal and the command line.
    """
    if fen >= WAN_FEN:
        return t(N_("{amount} 万元")).format(amount=_plain(wan_yuan(fen)))
    return t(N_("{amount} 元")).format(amount=_plain(Decimal(fen) / 100))
