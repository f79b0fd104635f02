"""Collection rates, arrears and the ranking's dues score, against figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from models.dues.figures import arrears, dues_collection, months_in, rates_report
from models.dues.ledger import System, open_month, record_dues_payment, record_unit_paid
from models.units import subtree_ids
from tests.models.dues.union import DECEMBER, NOW, Union, build_union

NOVEMBER = 202611


def paid_union(session: Session) -> Union:
    """November: everyone paid but 杨帆 (1003). December: 甲班 paid but 杨帆 again; nobody else."""
    union = build_union(session)
    for month in (NOVEMBER, DECEMBER):
        open_month(session, month, now=NOW)
    record_unit_paid(
        session,
        actor=System.COMMAND_LINE,
        unit=union.unit(session, "厂工会"),
        month=NOVEMBER,
        except_ids={union.a3.id or 0},
        now=NOW,
        current=DECEMBER,
    )
    for member in (union.a1, union.a2):
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=member,
            month=DECEMBER,
            amount_fen=member.monthly_dues_fen,
            now=NOW,
            current=DECEMBER,
        )
    return union


def test_rates_per_child_unit_and_month(session: Session) -> None:
    union = paid_union(session)
    report = rates_report(
        session, actor=union.chair, unit=union.unit(session, "厂工会"), months=[NOVEMBER, DECEMBER]
    )
    rows = {row.path: row for row in report.rows}
    assert list(rows) == ["厂工会/一车间", "厂工会/二车间"]
    first = rows["厂工会/一车间"]
    assert (first.by_month[NOVEMBER].due, first.by_month[NOVEMBER].paid) == (4, 3)
    assert (
        first.by_month[DECEMBER].due,
        first.by_month[DECEMBER].paid,
        first.by_month[DECEMBER].owed_fen,
    ) == (4, 2, 5500)
    assert rows["厂工会/二车间"].by_month[DECEMBER].rate == 0.0
    assert report.total[NOVEMBER].rate == 0.8
    assert report.total[DECEMBER].rate == 0.4


def test_arrears_list_each_member_with_their_months(session: Session) -> None:
    union = paid_union(session)
    owing = arrears(
        session, actor=union.workshop_chair, unit=union.unit(session, "厂工会/一车间"), up_to=DECEMBER
    )
    assert [(a.employee_no, [m for m, _o in a.months], a.owed_fen) for a in owing] == [
        ("1003", [NOVEMBER, DECEMBER], 6000),
        ("2001", [DECEMBER], 2500),
    ]
    assert (
        arrears(
            session, actor=union.workshop_chair, unit=union.unit(session, "厂工会/一车间"), up_to=NOVEMBER
        )[0].owed_fen
        == 3000
    )


def test_the_score_is_months_paid_over_months_due_per_ranked_subtree(session: Session) -> None:
    union = paid_union(session)
    one = union.unit(session, "厂工会/一车间")
    two = union.unit(session, "厂工会/二车间")
    empty = union.unit(session, "厂工会/一车间/甲班")
    subtrees = {
        one.id or 0: frozenset(subtree_ids(session, [one])),
        two.id or 0: frozenset(subtree_ids(session, [two])),
    }
    # 一车间: Nov 3/4, Dec 2/4 → 5/8; 二车间: Nov 1/1, Dec 0/1 → 1/2.
    assert dues_collection(session, [NOVEMBER, DECEMBER], subtrees) == {one.id: 5 / 8, two.id: 0.5}
    # A unit with nothing due in the period is left out, not scored 0.
    assert dues_collection(session, [202601], {empty.id or 0: frozenset({empty.id or 0})}) == {}


def test_a_quarter_in_utc_covers_its_three_months_on_shanghai_clocks() -> None:
    start = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 1 October, 00:00 in Shanghai
    end = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert months_in(start, end) == [202610, 202611, 202612]
