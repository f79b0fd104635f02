"""The dues ledger's rules: what a member owes, payments, corrections, rate changes.

Who may record: a cadre whose grant with ``RECORD_DUES`` (收缴员, 小组长, 主席)
covers the member's unit, or the union office at the command line
(:attr:`System.COMMAND_LINE`, over the whole tree). Every operation checks that
itself, so a handler cannot forget it.

What a member owes for a month: the latest :class:`DuesRate` from that month or
before, else the roster's 月会费. A month with nothing due (a member exempted,
a 月会费 of 0) is not charged at all, so it is never "unpaid".

Nothing recorded is ever changed: a wrong payment is reversed by an entry of
the opposite amount that names it, and the right one recorded anew; both stay
in the member's history with who recorded them and when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.base import utcnow
from models.dues.months import Month, add_months, month_key
from models.dues.tables import NOTE_MAX, DuesEntry, DuesMonth, DuesPeriod, DuesRate, EntryKind, EntrySource
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus, get_member_by_employee_no
from models.roles import Permission, has_permission, scope_units
from models.units import Unit, get_unit, ordered_units, subtree_ids

# Dues may be paid ahead (a member leaving for a long posting), but not for years to come.
MONTHS_AHEAD = 12


class System(StrEnum):
    """Who acts when no member does: the union office running a command on the server."""

    COMMAND_LINE = "command_line"


Actor = Member | System


def _actor_id(actor: Actor) -> int | None:
    return None if isinstance(actor, System) else actor.id


def may_record(session: Session, actor: Actor, unit: Unit) -> bool:
    """Whether ``actor`` may record dues for members of ``unit``."""
    if isinstance(actor, System):
        return True
    return has_permission(session, actor, Permission.RECORD_DUES, unit)


def records_dues(session: Session, member: Member) -> bool:
    """Whether the member records dues anywhere: who is offered 会费登记 and 会费统计."""
    return member.is_active and bool(scope_units(session, member, Permission.RECORD_DUES))


def dues_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees the cadre records dues for, highest first."""
    return scope_units(session, actor, Permission.RECORD_DUES) if actor.is_active else []


def _require_member_scope(session: Session, actor: Actor, member: Member) -> Unit:
    unit = get_unit(session, member.unit_id)
    if not may_record(session, actor, unit):
        raise PermissionDenied(
            "dues.not_in_scope", N_("{name} 不在您负责收缴会费的单位里。"), name=member.name
        )
    return unit


def require_unit_scope(session: Session, actor: Actor, unit: Unit) -> None:
    """Refuse a unit outside the actor's dues scope.

    Raises:
        PermissionDenied: no grant of the actor with ``RECORD_DUES`` covers the unit.
    """
    if not may_record(session, actor, unit):
        raise PermissionDenied("dues.unit_not_in_scope", N_("这个单位不在您负责收缴会费的范围里。"))


def check_month(month: Month, *, current: Month) -> None:
    """Refuse a month too far ahead to pay for.

    Raises:
        InvalidInput: more than :data:`MONTHS_AHEAD` months after ``current``.
    """
    latest = add_months(current, MONTHS_AHEAD)
    if month > latest:
        raise InvalidInput("dues.month_too_late", N_("会费最多只能预缴到 {month}。"), month=month_key(latest))


# ----------------------------------------------------------------------------- what is due


@dataclass(frozen=True)
class Rates:
    """Members' rate histories, loaded at once: ``(from_month, amount)`` oldest first, per member."""

    by_member: Mapping[int, Sequence[tuple[Month, int]]]

    def due(self, member_id: int, roster_fen: int, month: Month) -> int:
        """What the member owes for ``month``: the latest rate from then or before, else the roster's."""
        due = roster_fen
        for from_month, amount in self.by_member.get(member_id, ()):
            if from_month > month:
                break
            due = amount
        return due


def load_rates(session: Session, member_ids: Collection[int] | None = None) -> Rates:
    """The rate histories of ``member_ids`` (every member's when None); a later row for a month wins."""
    query = select(DuesRate.member_id, DuesRate.from_month, DuesRate.amount_fen).order_by(
        col(DuesRate.member_id), col(DuesRate.from_month), col(DuesRate.id)
    )
    if member_ids is not None:
        query = query.where(col(DuesRate.member_id).in_(list(member_ids)))
    found: dict[int, dict[Month, int]] = defaultdict(dict)
    for member_id, from_month, amount in session.exec(query):
        found[member_id][from_month] = amount
    return Rates({member_id: sorted(months.items()) for member_id, months in found.items()})


def _insert(session: Session, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An insert that may skip rows already there, in the dialect's own words."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def charge_months(session: Session, charges: Iterable[tuple[int, Month, int, int]]) -> None:
    """Post (member, month, unit, due) charges not yet posted; a month already charged is left as it is."""
    rows = [
        {
            "member_id": member_id,
            "month": month,
            "unit_id": unit_id,
            "due_fen": due,
            "paid_fen": 0,
            "owing": True,
        }
        for member_id, month, unit_id, due in charges
        if due > 0
    ]
    table = DuesMonth.__table__  # type: ignore[attr-defined]
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=["member_id", "month"])
    for start in range(0, len(rows), 1000):
        session.execute(statement, rows[start : start + 1000])


def open_month(session: Session, month: Month, *, now: datetime | None = None) -> None:
    """Post ``month``'s dues to every active member on the roll; opening a month twice changes nothing.

    Members without a rate history (nearly all) are charged in one ``INSERT … SELECT`` at the
    roster's 月会费; the few with one, from their history.
    """
    table = DuesMonth.__table__  # type: ignore[attr-defined]
    with_rates = select(DuesRate.member_id).distinct()
    plain = sa.select(
        col(Member.id),
        sa.literal(month),
        col(Member.unit_id),
        col(Member.monthly_dues_fen),
        sa.literal(0),
        sa.true(),
    ).where(
        col(Member.status) == MemberStatus.ACTIVE,
        col(Member.monthly_dues_fen) > 0,
        col(Member.id).not_in(with_rates),
    )
    columns = ["member_id", "month", "unit_id", "due_fen", "paid_fen", "owing"]
    session.execute(
        _insert(session, table)
        .from_select(columns, plain)
        .on_conflict_do_nothing(index_elements=["member_id", "month"])
    )
    rated = session.exec(
        select(Member.id, Member.unit_id, Member.monthly_dues_fen).where(
            col(Member.status) == MemberStatus.ACTIVE, col(Member.id).in_(with_rates)
        )
    ).all()
    if rated:
        rates = load_rates(session, [member_id for member_id, _unit, _fen in rated if member_id is not None])
        charge_months(
            session,
            (
                (member_id, month, unit_id, rates.due(member_id, roster, month))
                for member_id, unit_id, roster in rated
                if member_id is not None
            ),
        )
    period = DuesPeriod.__table__  # type: ignore[attr-defined]
    session.execute(
        _insert(session, period)
        .values(month=month, opened_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["month"])
    )


def opened_months(session: Session) -> list[Month]:
    return list(session.exec(select(DuesPeriod.month).order_by(col(DuesPeriod.month))))


def _month_row(session: Session, member: Member, month: Month) -> DuesMonth:
    """The member's charge for ``month``, posting it now when it was not yet; locked until the commit.

    Locked, so two cadres recording the same month at once are checked one after the other
    against what is still owed, and cannot together pay it twice (PostgreSQL; SQLite has one
    writer at a time anyway).

    Raises:
        InvalidInput: nothing is due from the member for that month.
    """
    assert member.id is not None
    query = (
        select(DuesMonth)
        .where(DuesMonth.member_id == member.id, DuesMonth.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = list(session.exec(query))
    if not rows:
        due = load_rates(session, [member.id]).due(member.id, member.monthly_dues_fen, month)
        charge_months(session, [(member.id, month, member.unit_id, due)])
        rows = list(session.exec(query))
    if not rows:
        raise InvalidInput(
            "dues.nothing_due",
            N_("{name} {month} 无需缴纳会费（应缴为 0）。"),
            name=member.name,
            month=month_key(month),
        )
    return rows[0]


def _apply(session: Session, month_row: DuesMonth, amount_fen: int) -> None:
    """Add an entry's amount to the month's running sum, in the database, so two at once both count."""
    session.execute(
        sa.update(DuesMonth)
        .where(col(DuesMonth.id) == month_row.id)
        .values(
            paid_fen=col(DuesMonth.paid_fen) + amount_fen,
            owing=col(DuesMonth.paid_fen) + amount_fen < col(DuesMonth.due_fen),
        )
    )
    session.refresh(month_row)


# ----------------------------------------------------------------------------- recording


def _clean_note(note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput("dues.note_too_long", N_("备注太长了，最多 {limit} 个字。"), limit=NOTE_MAX)
    return note.strip()


def record_dues_payment(
    session: Session,
    *,
    actor: Actor,
    member: Member,
    month: Month,
    amount_fen: int,
    now: datetime,
    current: Month,
    source: EntrySource = EntrySource.CHAT,
    note: str | None = None,
) -> DuesEntry:
    """Record that ``member`` paid ``amount_fen`` towards ``month``.

    Raises:
        PermissionDenied: the member is outside the actor's dues scope.
        InvalidInput: a month too far ahead, nothing due that month, the month already paid,
            or more than what is still owed for it (an overpayment is a typo more often than not).
    """
    _require_member_scope(session, actor, member)
    check_month(month, current=current)
    if amount_fen <= 0:
        raise InvalidInput("dues.amount_positive", N_("缴纳金额应大于 0。"))
    row = _month_row(session, member, month)
    outstanding = row.due_fen - row.paid_fen
    if outstanding <= 0:
        raise InvalidInput(
            "dues.already_paid",
            N_("{name} {month} 的会费已经缴清。"),
            name=member.name,
            month=month_key(month),
        )
    if amount_fen > outstanding:
        raise InvalidInput(
            "dues.overpaid",
            N_("{name} {month} 还应缴 {owed} 元，登记的金额超过了应缴金额。"),
            name=member.name,
            month=month_key(month),
            owed=_yuan(outstanding),
        )
    assert member.id is not None
    entry = DuesEntry(
        member_id=member.id,
        month=month,
        amount_fen=amount_fen,
        kind=EntryKind.PAYMENT,
        source=source,
        recorded_by_id=_actor_id(actor),
        recorded_at=now,
        note=_clean_note(note),
    )
    session.add(entry)
    session.flush()
    _apply(session, row, amount_fen)
    return entry


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Outstanding:
    """What one member still owes for one month."""

    member_id: int
    employee_no: str
    name: str
    owed_fen: int


def unit_outstanding(
    session: Session, *, actor: Actor, unit: Unit, month: Month, current: Month
) -> list[Outstanding]:
    """Who in ``unit`` (and below) still owes ``month``, and how much: the preview of marking it paid.

    Raises:
        PermissionDenied: the unit is outside the actor's dues scope.
        InvalidInput: a month too far ahead.
    """
    require_unit_scope(session, actor, unit)
    check_month(month, current=current)
    units = subtree_ids(session, [unit])
    members = session.exec(
        select(Member.id, Member.employee_no, Member.name, Member.monthly_dues_fen)
        .where(col(Member.unit_id).in_(units), col(Member.status) == MemberStatus.ACTIVE)
        .order_by(col(Member.employee_no))
    ).all()
    ids = [member_id for member_id, *_rest in members if member_id is not None]
    charged = {
        member_id: (due, paid)
        for member_id, due, paid in session.exec(
            select(DuesMonth.member_id, DuesMonth.due_fen, DuesMonth.paid_fen).where(
                DuesMonth.month == month, col(DuesMonth.member_id).in_(ids)
            )
        )
    }
    rates = load_rates(session, ids)
    found = []
    for member_id, employee_no, name, roster in members:
        assert member_id is not None
        due, paid = charged.get(member_id, (rates.due(member_id, roster, month), 0))
        if due - paid > 0:
            found.append(Outstanding(member_id, employee_no, name, due - paid))
    return found


@dataclass(frozen=True)
class UnitPaid:
    members: int
    total_fen: int


def record_unit_paid(
    session: Session,
    *,
    actor: Actor,
    unit: Unit,
    month: Month,
    except_ids: Collection[int],
    now: datetime,
    current: Month,
) -> UnitPaid:
    """Mark every member of ``unit`` (and below) who still owes ``month`` paid in full, but ``except_ids``.

    How a 小组长 records a month the whole group paid in cash: one line, then the few who did not.

    Raises:
        PermissionDenied: the unit is outside the actor's dues scope.
        InvalidInput: a month too far ahead.
    """
    owed = [
        item
        for item in unit_outstanding(session, actor=actor, unit=unit, month=month, current=current)
        if item.member_id not in except_ids
    ]
    if not owed:
        return UnitPaid(0, 0)
    members = {
        member.id: member
        for member in session.exec(
            select(Member).where(col(Member.id).in_([item.member_id for item in owed]))
        )
        if member.id is not None
    }
    rates = load_rates(session, list(members))
    charge_months(
        session,
        (
            (member_id, month, member.unit_id, rates.due(member_id, member.monthly_dues_fen, month))
            for member_id, member in members.items()
            if member_id is not None
        ),
    )
    actor_id = _actor_id(actor)
    session.add_all(
        [
            DuesEntry(
                member_id=item.member_id,
                month=month,
                amount_fen=item.owed_fen,
                kind=EntryKind.PAYMENT,
                source=EntrySource.UNIT,
                recorded_by_id=actor_id,
                recorded_at=now,
            )
            for item in owed
        ]
    )
    session.flush()
    add_paid(session, [(item.member_id, month, item.owed_fen) for item in owed])
    return UnitPaid(len(owed), sum(item.owed_fen for item in owed))


def add_paid(session: Session, amounts: Sequence[tuple[int, Month, int]]) -> None:
    """Add (member, month, amount) to the months' running sums, in the database, so entries made at
    the same time by someone else count too; the months must be charged already."""
    # The table's own update, not the ORM's: run with many rows, the ORM's would expect primary keys.
    months = DuesMonth.__table__  # type: ignore[attr-defined]
    update = (
        sa.update(months)
        .where(months.c.member_id == sa.bindparam("m_id"), months.c.month == sa.bindparam("m_month"))
        .values(
            paid_fen=months.c.paid_fen + sa.bindparam("m_amount"),
            owing=months.c.paid_fen + sa.bindparam("m_amount") < months.c.due_fen,
        )
    )
    if amounts:
        session.execute(
            update,
            [
                {"m_id": member_id, "m_month": month, "m_amount": amount}
                for member_id, month, amount in amounts
            ],
        )


# ----------------------------------------------------------------------------- corrections


def correct_dues_entry(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    now: datetime,
    current: Month,
    amount_fen: int | None = None,
    note: str | None = None,
) -> tuple[DuesEntry, DuesEntry | None]:
    """Reverse a payment and, when ``amount_fen`` is given, record the right amount in its place.

    The payment stays in the ledger as it was; the reversal names it, so the history
    shows what was recorded wrongly, by whom, and who put it right.

    Raises:
        NotFound: no such payment (or the member is outside the actor's scope).
        PermissionDenied: the member is outside the actor's dues scope.
        InvalidInput: the entry is a reversal itself, was reversed already, or the new amount
            is not more than 0 or more than is due.
    """
    entry = session.get(DuesEntry, entry_id)
    member = session.get(Member, entry.member_id) if entry is not None else None
    if entry is None or member is None:
        raise NotFound("dues.entry_not_found", N_("找不到这笔会费记录。"))
    _require_member_scope(session, actor, member)
    if entry.kind is not EntryKind.PAYMENT:
        raise InvalidInput("dues.reverse_reversal", N_("这是一笔冲销记录，不能再冲销。"))
    reversed_already = session.exec(select(DuesEntry.id).where(DuesEntry.reverses_id == entry.id)).first()
    if reversed_already is not None:
        raise InvalidInput("dues.reversed_already", N_("这笔记录已经冲销过了。"))
    if amount_fen is not None and amount_fen <= 0:
        raise InvalidInput("dues.amount_positive", N_("缴纳金额应大于 0。"))
    row = _month_row(session, member, entry.month)
    reversal = DuesEntry(
        member_id=entry.member_id,
        month=entry.month,
        amount_fen=-entry.amount_fen,
        kind=EntryKind.REVERSAL,
        source=EntrySource.CORRECTION,
        reverses_id=entry.id,
        recorded_by_id=_actor_id(actor),
        recorded_at=now,
        note=_clean_note(note),
    )
    session.add(reversal)
    session.flush()
    _apply(session, row, -entry.amount_fen)
    replacement = None
    if amount_fen is not None:
        replacement = record_dues_payment(
            session,
            actor=actor,
            member=member,
            month=entry.month,
            amount_fen=amount_fen,
            now=now,
            current=current,
            source=EntrySource.CORRECTION,
            note=note,
        )
    return reversal, replacement


def recent_payments(session: Session, *, actor: Actor, member: Member, limit: int = 10) -> list[DuesEntry]:
    """The member's latest payments not reversed: what a cadre may correct.

    Raises:
        PermissionDenied: the member is outside the actor's dues scope.
    """
    _require_member_scope(session, actor, member)
    reversed_ids = select(DuesEntry.reverses_id).where(col(DuesEntry.reverses_id).is_not(None))
    return list(
        session.exec(
            select(DuesEntry)
            .where(
                DuesEntry.member_id == member.id,
                DuesEntry.kind == EntryKind.PAYMENT,
                col(DuesEntry.id).not_in(reversed_ids),
            )
            .order_by(col(DuesEntry.recorded_at).desc(), col(DuesEntry.id).desc())
            .limit(limit)
        )
    )


# ----------------------------------------------------------------------------- the rate


def set_dues_rate(
    session: Session, *, actor: Actor, member: Member, from_month: Month, amount_fen: int, now: datetime
) -> DuesRate:
    """Change what ``member`` owes each month from ``from_month`` on (a raise, an exemption as 0).

    Months already charged from then on owe the new amount; what was paid against them stays.

    Raises:
        PermissionDenied: the member is outside the actor's dues scope.
        InvalidInput: a negative amount.
    """
    _require_member_scope(session, actor, member)
    if amount_fen < 0:
        raise InvalidInput("dues.rate_negative", N_("月会费不能为负数。"))
    assert member.id is not None
    rate = DuesRate(
        member_id=member.id,
        from_month=from_month,
        amount_fen=amount_fen,
        set_by_id=_actor_id(actor),
        set_at=now,
    )
    session.add(rate)
    session.flush()
    rates = load_rates(session, [member.id])
    for row in session.exec(
        select(DuesMonth).where(DuesMonth.member_id == member.id, col(DuesMonth.month) >= from_month)
    ):
        row.due_fen = rates.due(member.id, member.monthly_dues_fen, row.month)
        row.owing = row.paid_fen < row.due_fen
        session.add(row)
    session.flush()
    return rate


# ----------------------------------------------------------------------------- a member's own view


@dataclass(frozen=True)
class MonthLine:
    month: Month
    due_fen: int
    paid_fen: int

    @property
    def owed_fen(self) -> int:
        return max(self.due_fen - self.paid_fen, 0)


@dataclass(frozen=True)
class LastPayment:
    month: Month
    amount_fen: int
    recorded_at: datetime


@dataclass(frozen=True)
class MemberDues:
    """我的会费: the months charged, newest first, what is owed, and the last payment."""

    rate_fen: int
    months: Sequence[MonthLine]
    last_payment: LastPayment | None

    @property
    def owed_fen(self) -> int:
        return sum(line.owed_fen for line in self.months)

    @property
    def unpaid(self) -> list[MonthLine]:
        return [line for line in self.months if line.owed_fen > 0]


def member_dues(session: Session, member: Member, *, current: Month) -> MemberDues:
    """The member's own ledger up to ``current``; this month counts before its dues are posted."""
    assert member.id is not None
    rates = load_rates(session, [member.id])
    rows = session.exec(
        select(DuesMonth.month, DuesMonth.due_fen, DuesMonth.paid_fen)
        .where(DuesMonth.member_id == member.id, DuesMonth.month <= current)
        .order_by(col(DuesMonth.month).desc())
    ).all()
    lines = [MonthLine(month, due, paid) for month, due, paid in rows]
    rate = rates.due(member.id, member.monthly_dues_fen, current)
    if member.is_active and rate > 0 and (not lines or lines[0].month != current):
        lines.insert(0, MonthLine(current, rate, 0))
    reversed_ids = select(DuesEntry.reverses_id).where(
        DuesEntry.member_id == member.id, col(DuesEntry.reverses_id).is_not(None)
    )
    last = session.exec(
        select(DuesEntry.month, DuesEntry.amount_fen, DuesEntry.recorded_at)
        .where(
            DuesEntry.member_id == member.id,
            DuesEntry.kind == EntryKind.PAYMENT,
            col(DuesEntry.id).not_in(reversed_ids),
        )
        .order_by(col(DuesEntry.recorded_at).desc(), col(DuesEntry.id).desc())
        .limit(1)
    ).first()
    return MemberDues(
        rate_fen=rate,
        months=lines,
        last_payment=LastPayment(*last) if last is not None else None,
    )


def find_member_in_scope(session: Session, *, actor: Actor, employee_no: str) -> Member:
    """A member by 工号, for a cadre recording dues.

    Raises:
        NotFound: no member has that 工号.
        PermissionDenied: the member is outside the actor's dues scope.
    """
    member = get_member_by_employee_no(session, employee_no)
    _require_member_scope(session, actor, member)
    return member


def unit_in_scope(session: Session, *, actor: Actor, unit_id: int) -> Unit:
    """The unit, once it is known to be in the actor's dues scope.

    Raises:
        NotFound: no such unit.
        PermissionDenied: outside the actor's dues scope.
    """
    unit = get_unit(session, unit_id)
    require_unit_scope(session, actor, unit)
    return unit


def month_standing(session: Session, member: Member, month: Month) -> tuple[int, int]:
    """What is due from the member for ``month`` and paid against it so far, posted or not yet."""
    assert member.id is not None
    row = session.exec(
        select(DuesMonth.due_fen, DuesMonth.paid_fen).where(
            DuesMonth.member_id == member.id, DuesMonth.month == month
        )
    ).first()
    if row is not None:
        return row[0], row[1]
    return load_rates(session, [member.id]).due(member.id, member.monthly_dues_fen, month), 0


def units_in_dues_scope(session: Session, actor: Member) -> list[Unit]:
    """Every unit the cadre records dues for, in tree order: what they pick a unit from."""
    roots = dues_scope(session, actor)
    ids = subtree_ids(session, roots)
    if not ids:
        return []
    return ordered_units(session, session.exec(select(Unit).where(col(Unit.id).in_(ids))).all())
