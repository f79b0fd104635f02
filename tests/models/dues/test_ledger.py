"""The ledger's rules: what is due, payments with who and when, corrections as new entries, rates."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, col, select

from models.db import SessionFactory
from models.dues.imports import parse_amount
from models.dues.ledger import (
    Actor,
    System,
    correct_dues_entry,
    member_dues,
    month_standing,
    open_month,
    record_dues_payment,
    record_unit_paid,
    set_dues_rate,
    unit_outstanding,
)
from models.dues.months import month_key, parse_month
from models.dues.tables import DuesEntry, DuesMonth, EntryKind, EntrySource
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from tests.factories import wait_for_a_lock_wait
from tests.models.dues.union import DECEMBER, NOW, build_union


def pay(
    session: Session, actor: Actor, member: Member, month: int = DECEMBER, amount: int = 2500
) -> DuesEntry:
    return record_dues_payment(
        session, actor=actor, member=member, month=month, amount_fen=amount, now=NOW, current=DECEMBER
    )


def test_a_payment_is_recorded_with_who_and_when_and_settles_the_month(session: Session) -> None:
    union = build_union(session)
    entry = pay(session, union.treasurer, union.a1)
    assert (entry.recorded_by_id, entry.recorded_at, entry.kind) == (
        union.treasurer.id,
        NOW,
        EntryKind.PAYMENT,
    )
    assert month_standing(session, union.a1, DECEMBER) == (2500, 2500)
    dues = member_dues(session, union.a1, current=DECEMBER)
    assert dues.owed_fen == 0
    assert dues.last_payment is not None
    assert dues.last_payment.amount_fen == 2500


def test_part_payments_add_up_and_too_much_is_refused(session: Session) -> None:
    union = build_union(session)
    pay(session, union.treasurer, union.a1, amount=1000)
    assert member_dues(session, union.a1, current=DECEMBER).owed_fen == 1500
    with pytest.raises(InvalidInput) as refused:
        pay(session, union.treasurer, union.a1, amount=1600)
    assert refused.value.code == "dues.overpaid"
    pay(session, union.treasurer, union.a1, amount=1500)
    with pytest.raises(InvalidInput) as again:
        pay(session, union.treasurer, union.a1, amount=100)
    assert again.value.code == "dues.already_paid"


def test_a_month_far_ahead_and_a_month_with_nothing_due_are_refused(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(InvalidInput) as ahead:
        pay(session, union.treasurer, union.a1, month=202801)
    assert ahead.value.code == "dues.month_too_late"
    with pytest.raises(InvalidInput) as nothing:
        pay(session, union.chair, union.treasurer)  # a cadre with 月会费 0
    assert nothing.value.code == "dues.nothing_due"


def test_a_collector_records_only_within_their_units(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(PermissionDenied) as elsewhere:
        pay(session, union.treasurer, union.b1)
    assert elsewhere.value.code == "dues.not_in_scope"
    with pytest.raises(PermissionDenied):
        pay(session, union.a2, union.a1)  # a member without a role
    pay(session, union.workshop_chair, union.b1)  # 一车间's chair covers 乙班
    pay(session, System.COMMAND_LINE, union.c1)  # the office covers everyone


def test_a_correction_is_a_reversal_and_a_new_entry_never_an_edit(session: Session) -> None:
    union = build_union(session)
    wrong = pay(session, union.treasurer, union.a3, amount=2000)  # 30.00 due, 20.00 typed
    reversal, replacement = correct_dues_entry(
        session, actor=union.treasurer, entry_id=wrong.id or 0, amount_fen=3000, now=NOW, current=DECEMBER
    )
    assert replacement is not None
    assert (reversal.kind, reversal.amount_fen, reversal.reverses_id) == (EntryKind.REVERSAL, -2000, wrong.id)
    assert replacement.source is EntrySource.CORRECTION
    session.refresh(wrong)
    assert (wrong.amount_fen, wrong.kind) == (2000, EntryKind.PAYMENT)  # untouched
    entries = session.exec(
        select(DuesEntry).where(DuesEntry.member_id == union.a3.id).order_by(col(DuesEntry.id))
    ).all()
    assert [entry.amount_fen for entry in entries] == [2000, -2000, 3000]
    assert month_standing(session, union.a3, DECEMBER) == (3000, 3000)
    with pytest.raises(InvalidInput) as twice:
        correct_dues_entry(session, actor=union.treasurer, entry_id=wrong.id or 0, now=NOW, current=DECEMBER)
    assert twice.value.code == "dues.reversed_already"
    with pytest.raises(InvalidInput):
        correct_dues_entry(
            session, actor=union.treasurer, entry_id=reversal.id or 0, now=NOW, current=DECEMBER
        )


def test_reversing_alone_leaves_the_month_owed_again(session: Session) -> None:
    union = build_union(session)
    entry = pay(session, union.treasurer, union.a1)
    correct_dues_entry(session, actor=union.treasurer, entry_id=entry.id or 0, now=NOW, current=DECEMBER)
    dues = member_dues(session, union.a1, current=DECEMBER)
    assert dues.owed_fen == 2500
    assert dues.last_payment is None  # the reversed one does not count


def test_a_correction_outside_ones_units_is_refused(session: Session) -> None:
    union = build_union(session)
    entry = pay(session, union.leader, union.b1)
    with pytest.raises(PermissionDenied):
        correct_dues_entry(session, actor=union.treasurer, entry_id=entry.id or 0, now=NOW, current=DECEMBER)
    with pytest.raises(NotFound):
        correct_dues_entry(session, actor=union.treasurer, entry_id=99999, now=NOW, current=DECEMBER)


def test_a_rate_changes_from_its_month_on_and_earlier_months_keep_theirs(session: Session) -> None:
    union = build_union(session)
    for month in (202610, 202611, DECEMBER):
        open_month(session, month, now=NOW)
    pay(session, union.treasurer, union.a1, month=202611)
    set_dues_rate(
        session, actor=union.treasurer, member=union.a1, from_month=202611, amount_fen=3000, now=NOW
    )
    assert month_standing(session, union.a1, 202610) == (2500, 0)
    assert month_standing(session, union.a1, 202611) == (3000, 2500)  # paid at the old rate: 5.00 short now
    assert month_standing(session, union.a1, DECEMBER) == (3000, 0)
    assert month_standing(session, union.a1, 202701) == (3000, 0)  # not posted yet, at the new rate
    open_month(session, 202701, now=NOW)
    row = session.exec(
        select(DuesMonth).where(DuesMonth.member_id == union.a1.id, DuesMonth.month == 202701)
    ).one()
    assert row.due_fen == 3000
    # A later change for an earlier month is the newer word for that month on.
    set_dues_rate(session, actor=union.treasurer, member=union.a1, from_month=202612, amount_fen=0, now=NOW)
    assert month_standing(session, union.a1, DECEMBER) == (0, 0)
    assert [line.month for line in member_dues(session, union.a1, current=DECEMBER).unpaid] == [
        202611,
        202610,
    ]


def test_opening_a_month_charges_active_members_once(session: Session) -> None:
    union = build_union(session)
    union.c1.status = MemberStatus.LEFT
    session.add(union.c1)
    open_month(session, DECEMBER, now=NOW)
    open_month(session, DECEMBER, now=NOW)
    charged = session.exec(select(DuesMonth.member_id).where(DuesMonth.month == DECEMBER)).all()
    assert sorted(charged) == sorted(m.id or 0 for m in (union.a1, union.a2, union.a3, union.b1))


def test_a_whole_unit_is_marked_paid_but_those_named(session: Session) -> None:
    union = build_union(session)
    unit = union.unit(session, "厂工会/一车间/甲班")
    owed = unit_outstanding(session, actor=union.treasurer, unit=unit, month=DECEMBER, current=DECEMBER)
    assert [(item.employee_no, item.owed_fen) for item in owed] == [
        ("1001", 2500),
        ("1002", 2000),
        ("1003", 3000),
    ]
    done = record_unit_paid(
        session,
        actor=union.treasurer,
        unit=unit,
        month=DECEMBER,
        except_ids={union.a3.id or 0},
        now=NOW,
        current=DECEMBER,
    )
    assert (done.members, done.total_fen) == (2, 4500)
    assert month_standing(session, union.a2, DECEMBER) == (2000, 2000)
    assert month_standing(session, union.a3, DECEMBER) == (3000, 0)
    again = record_unit_paid(
        session,
        actor=union.treasurer,
        unit=unit,
        month=DECEMBER,
        except_ids={union.a3.id or 0},
        now=NOW,
        current=DECEMBER,
    )
    assert again.members == 0
    with pytest.raises(PermissionDenied):
        record_unit_paid(
            session,
            actor=union.treasurer,
            unit=union.unit(session, "厂工会/一车间/乙班"),
            month=DECEMBER,
            except_ids=(),
            now=NOW,
            current=DECEMBER,
        )


def test_my_dues_counts_this_month_before_it_is_posted(session: Session) -> None:
    union = build_union(session)
    dues = member_dues(session, union.a1, current=DECEMBER)
    assert [(line.month, line.due_fen, line.paid_fen) for line in dues.months] == [(DECEMBER, 2500, 0)]
    assert dues.owed_fen == 2500
    assert dues.last_payment is None


@pytest.mark.parametrize(
    ("typed", "month"),
    [
        ("2026-12", 202612),
        ("2026年3月", 202603),
        ("２０２６/１１", 202611),
        ("202611", 202611),
        ("2026.1", 202601),
    ],
)
def test_months_are_read_as_people_type_them(typed: str, month: int) -> None:
    assert parse_month(typed) == month
    assert month_key(month) == f"{month // 100}-{month % 100:02d}"


@pytest.mark.parametrize("typed", ["2026-13", "十二月", "1999-01", ""])
def test_a_month_that_is_none_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_month(typed)


def test_two_collectors_cannot_both_record_the_same_month(db: SessionFactory) -> None:
    """On PostgreSQL the second waits for the first to commit, then finds the month paid."""
    with db() as session:
        union = build_union(session)
        member_id, treasurer_id, chair_id = union.a1.id, union.treasurer.id, union.workshop_chair.id
    outcomes: list[object] = []
    done = threading.Event()

    def second() -> None:
        try:
            with db() as session:
                actor, member = session.get(Member, chair_id), session.get(Member, member_id)
                assert actor is not None
                assert member is not None
                outcomes.append(pay(session, actor, member).amount_fen)
        except InvalidInput as error:
            outcomes.append(error.code)
        finally:
            done.set()

    with db() as session:
        actor, member = session.get(Member, treasurer_id), session.get(Member, member_id)
        assert actor is not None
        assert member is not None
        pay(session, actor, member)
        thread = threading.Thread(target=second)
        if db.engine.dialect.name == "postgresql":
            thread.start()
            wait_for_a_lock_wait(db, done)
        # On SQLite the first transaction holds the write lock until it commits.
    if not thread.is_alive() and not done.is_set():
        thread.start()
    thread.join(timeout=30)
    assert outcomes == ["dues.already_paid"]
    with db() as session:
        assert len(session.exec(select(DuesEntry)).all()) == 1


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1E999998", "dues.amount_too_large"),
        ("12.345", "dues.amount_precision"),
        ("-5", "dues.amount_positive"),
    ],
)
def test_a_payroll_amount_past_reason_is_refused_with_a_sentence_not_a_crash(typed: str, code: str) -> None:
    """Found by fuzzing the import: "1E999998" is a Decimal, but multiplying it overflowed."""
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed)
    assert refused.value.code == code
    assert parse_amount("２５元") == 2500
