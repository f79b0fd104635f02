"""Payroll deduction files (工资代扣): dues the employer withheld, imported into the ledger.

The rules are the roster import's: every row is checked before anything is
written, and one bad row means nothing is written at all, with each bad row
named by its line and what is wrong; importing the same file again records
nothing new. A row is matched by 工号 (and, where the file has a 姓名 column, the
name must be the roster's, which catches a column shifted by one); its month
and amount are what was withheld.

A row that is already in the ledger — this file imported before, or the month
paid some other way meanwhile — is skipped and counted, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.dues.ledger import MONTHS_AHEAD, add_paid, charge_months, load_rates
from models.dues.months import Month, add_months, month_key, parse_month
from models.dues.tables import DuesEntry, DuesMonth, EntryKind, EntrySource
from models.errors import N_, DomainError, InvalidInput
from models.members import MAX_MONTHLY_DUES_FEN, Member, clean_employee_no, normalise_digits

CHUNK_SIZE = 500

RowError = tuple[int, DomainError]
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class PaymentRow:
    """One line of a payroll file as the spreadsheet holds it: raw text; ``name`` None without that column."""

    line: int
    employee_no: str
    month: str
    amount: str
    name: str | None = None


@dataclass(frozen=True)
class Payment:
    """A row that passed every check."""

    line: int
    member_id: int
    unit_id: int
    month: Month
    amount_fen: int
    due_fen: int

    @property
    def key(self) -> str:
        return f"import:{self.member_id}:{self.month}:{self.amount_fen}"


@dataclass(frozen=True)
class Checked:
    """What the file holds: payments to record, and rows already in the ledger."""

    payments: Sequence[Payment]
    already: int


def parse_amount(raw: str) -> int:
    """An amount withheld, in fen: "25", "25.00", "２５元".

    Raises:
        InvalidInput: not an amount, not more than 0, more than two decimals, or absurdly large.
    """
    value = normalise_digits(raw).removesuffix("元").replace(",", "").strip()
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("dues.amount_invalid", N_("金额应为数字，例如 25.00。")) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput("dues.amount_positive", N_("缴纳金额应大于 0。"))
    # "1E999999" is a number, but past what arithmetic on it survives: too large before anything else.
    if amount.adjusted() > 12 or amount * 100 > MAX_MONTHLY_DUES_FEN:
        raise InvalidInput(
            "dues.amount_too_large",
            N_("金额不能超过 {limit} 元，请核对。"),
            limit=MAX_MONTHLY_DUES_FEN // 100,
        )
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise InvalidInput("dues.amount_precision", N_("金额最多保留两位小数。"))
    return int(fen)


def check_payments(
    session: Session, rows: Sequence[PaymentRow], *, current: Month
) -> tuple[Checked, list[RowError]]:
    """Check every row against the roster and the ledger; write nothing.

    Returns:
        The payments to record and the count of rows already in the ledger, and every row's
        problems as (line, error), in file order.
    """
    errors: list[RowError] = []
    members = {
        employee_no: (member_id, name, unit_id, dues)
        for member_id, employee_no, name, unit_id, dues in session.execute(
            sa.select(
                col(Member.id),
                col(Member.employee_no),
                col(Member.name),
                col(Member.unit_id),
                col(Member.monthly_dues_fen),
            )
        )
    }
    latest = add_months(current, MONTHS_AHEAD)
    parsed: list[tuple[int, int, int, Month, int, int]] = []
    seen: dict[tuple[int, Month], int] = {}
    for row in rows:
        try:
            employee_no = clean_employee_no(row.employee_no)
            found = members.get(employee_no)
            if found is None:
                raise InvalidInput(
                    "dues.member_unknown", N_("花名册里没有工号 {employee_no}。"), employee_no=employee_no
                )
            member_id, name, unit_id, roster = found
            assert member_id is not None
            if row.name is not None and row.name.strip() and row.name.strip() != name:
                raise InvalidInput(
                    "dues.name_mismatch",
                    N_("工号 {employee_no} 在花名册里是{name}，不是“{given}”。"),
                    employee_no=employee_no,
                    name=name,
                    given=row.name.strip(),
                )
            month = parse_month(row.month)
            if month > latest:
                raise InvalidInput(
                    "dues.month_too_late", N_("会费最多只能预缴到 {month}。"), month=month_key(latest)
                )
            amount = parse_amount(row.amount)
            earlier = seen.get((member_id, month))
            if earlier is not None:
                raise InvalidInput(
                    "dues.row_repeated",
                    N_("与第 {line} 行重复：同一会员同一月份只能有一行。"),
                    line=earlier,
                )
            seen[(member_id, month)] = row.line
            parsed.append((row.line, member_id, unit_id, month, amount, roster))
        except DomainError as error:
            errors.append((row.line, error))
    member_ids = sorted({member_id for _line, member_id, *_rest in parsed})
    charged: dict[tuple[int, Month], tuple[int, int]] = {}
    keys: set[str] = set()
    for start in range(0, len(member_ids), CHUNK_SIZE):
        chunk = member_ids[start : start + CHUNK_SIZE]
        for member_id, month, due, paid in session.exec(
            select(DuesMonth.member_id, DuesMonth.month, DuesMonth.due_fen, DuesMonth.paid_fen).where(
                col(DuesMonth.member_id).in_(chunk)
            )
        ):
            charged[(member_id, month)] = (due, paid)
        keys.update(
            key
            for key in session.exec(
                select(DuesEntry.import_key).where(
                    col(DuesEntry.member_id).in_(chunk), col(DuesEntry.import_key).is_not(None)
                )
            )
            if key is not None
        )
    rates = load_rates(session, member_ids)
    payments: list[Payment] = []
    already = 0
    for line, member_id, unit_id, month, amount, roster in parsed:
        due, paid = charged.get((member_id, month), (rates.due(member_id, roster, month), 0))
        payment = Payment(line, member_id, unit_id, month, amount, due)
        if payment.key in keys or (due > 0 and paid >= due):
            already += 1
            continue
        if due <= 0:
            errors.append(
                (
                    line,
                    InvalidInput(
                        "dues.nothing_due_month", N_("{month} 该会员无需缴纳会费。"), month=month_key(month)
                    ),
                )
            )
        elif amount > due - paid:
            errors.append(
                (
                    line,
                    InvalidInput(
                        "dues.overpaid_row",
                        N_("{month} 还应缴 {owed} 元，这一行的金额超过了应缴金额。"),
                        month=month_key(month),
                        owed=f"{(due - paid) // 100}.{(due - paid) % 100:02d}",
                    ),
                )
            )
        else:
            payments.append(payment)
    errors.sort(key=lambda item: item[0])
    return Checked(payments, already), errors


def import_payments(
    session: Session, payments: Sequence[Payment], *, now: datetime, progress: ProgressCallback | None = None
) -> int:
    """Record checked payments, in bulk, as entries by the command line; returns how many were new.

    A payment whose key is in the ledger already (a second import racing the first) is skipped
    by the unique key, so even then nothing is recorded twice.
    """
    if not payments:
        return 0
    charge_months(session, ((p.member_id, p.month, p.unit_id, p.due_fen) for p in payments))
    table = DuesEntry.__table__  # type: ignore[attr-defined]
    insert = (
        postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)
    ).on_conflict_do_nothing(index_elements=["import_key"])
    inserted = insert.returning(table.c.member_id, table.c.month, table.c.amount_fen)
    added = 0
    for start in range(0, len(payments), CHUNK_SIZE):
        chunk = payments[start : start + CHUNK_SIZE]
        rows = [
            {
                "member_id": p.member_id,
                "month": p.month,
                "amount_fen": p.amount_fen,
                "kind": EntryKind.PAYMENT.value,
                "source": EntrySource.IMPORT.value,
                "import_key": p.key,
                "recorded_by_id": None,
                "recorded_at": now,
            }
            for p in chunk
        ]
        new = session.execute(inserted, rows).all()
        add_paid(session, [(member_id, month, amount) for member_id, month, amount in new])
        added += len(new)
        if progress is not None:
            progress(start + len(chunk))
    return added
