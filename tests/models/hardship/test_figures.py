"""帮扶统计 on cases whose working days and amounts are counted by hand (November 2026 has no holiday)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session

from models.errors import PermissionDenied
from models.hardship.campaigns import CampaignBasis, HardshipCampaign
from models.hardship.cases import CaseStatus, HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.figures import hardship_figures
from models.hardship.policy import HardshipPolicy
from models.members import Member
from models.periods import parse_period
from models.roles import Role
from models.units import UnitTree
from tests.factories import make_member

POLICY = HardshipPolicy()
NOVEMBER = parse_period("2026-11")


def _at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)  # 10:00 in Shanghai


def _case(
    session: Session, member: Member, category: HardshipCategory, status: CaseStatus, **when: Any
) -> int:
    case = HardshipCase(
        member_id=member.id,
        unit_id=member.unit_id,
        category=category,
        status=status,
        consent_at=when.get("submitted_at", _at(2)),
        contact_due_on=date(2026, 11, 3),
        visit_due_on=date(2026, 11, 9),
        **when,
    )
    session.add(case)
    session.flush()
    return case.id or 0


def _given(session: Session, member: Member, by: Member, fen: int, fund: str, **extra: Any) -> None:
    session.add(
        HardshipDisbursement(
            member_id=member.id or 0,
            given_on=date(2026, 11, 20),
            amount_fen=fen,
            fund=fund,
            handled_by_id=by.id or 0,
            **extra,
        )
    )


def test_figures_count_stages_median_working_days_and_amounts(session: Session) -> None:
    chair = make_member(session, employee_no="9001", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
    one = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
    two = make_member(session, employee_no="2001", unit="厂工会/二车间")
    first = _case(
        session, one, HardshipCategory.ILLNESS, CaseStatus.HELPED,
        submitted_at=_at(2), contacted_at=_at(3), visited_on=date(2026, 11, 6), helped_at=_at(9),
    )  # fmt: skip
    _case(
        session, two, HardshipCategory.ILLNESS, CaseStatus.VISITED,
        submitted_at=_at(4), contacted_at=_at(6), visited_on=date(2026, 11, 10), urgent=True,
    )  # fmt: skip
    _case(session, two, HardshipCategory.DISASTER, CaseStatus.RECEIVED, submitted_at=_at(20))
    _case(
        session,
        two,
        HardshipCategory.FAMILY,
        CaseStatus.CLOSED,
        submitted_at=datetime(2026, 10, 31, 16, 30, tzinfo=UTC),
    )
    root = UnitTree(session).ensure("厂工会")
    campaign = HardshipCampaign(
        name="冬送温暖", unit_id=root.id or 0, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30),
        budget_fen=1000_00, basis=CampaignBasis.UNITS, unit_ids=[root.id or 0], fund="工会经费",
        created_by_id=chair.id or 0,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    _given(session, one, chair, 500_00, "工会经费", case_id=first)
    _given(session, one, chair, 1000_00, "上级帮扶资金", case_id=first)
    _given(session, two, chair, 200_00, "工会经费", campaign_id=campaign.id, goods="米、油")
    session.flush()

    figures = hardship_figures(session, actor=chair, unit_id=root.id or 0, period=NOVEMBER, policy=POLICY)
    # 10-31 16:30 UTC is November 1st 00:30 in Shanghai: the family case counts in November.
    assert [(row.name, row.cases, row.urgent, row.closed, row.given_fen) for row in figures.rows] == [
        ("一车间", 1, 0, 0, 1500_00),
        ("二车间", 3, 1, 1, 200_00),
    ]
    assert (figures.total.cases, figures.total.given_fen) == (4, 1700_00)
    assert figures.by_category[HardshipCategory.ILLNESS] == {CaseStatus.HELPED: 1, CaseStatus.VISITED: 1}
    assert figures.by_category[HardshipCategory.FAMILY] == {CaseStatus.CLOSED: 1}
    assert (str(figures.median_contact), str(figures.median_visit), str(figures.median_help)) == (
        "1.5",
        "4.0",
        "5.0",
    )
    assert figures.by_fund == {"上级帮扶资金": 1000_00, "工会经费": 700_00}
    assert figures.by_campaign == [("冬送温暖", 200_00, 1), (None, 1500_00, 0)]


def test_a_cadre_reads_their_own_units_only(session: Session) -> None:
    committee = make_member(
        session, employee_no="9002", unit="厂工会", roles=[(Role.COMMITTEE, "厂工会/一车间")]
    )
    member = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
    tree = UnitTree(session)
    with pytest.raises(PermissionDenied):
        hardship_figures(
            session, actor=committee, unit_id=tree.ensure("厂工会").id or 0, period=NOVEMBER, policy=POLICY
        )
    with pytest.raises(PermissionDenied):
        hardship_figures(
            session,
            actor=member,
            unit_id=tree.ensure("厂工会/一车间").id or 0,
            period=NOVEMBER,
            policy=POLICY,
        )
    figures = hardship_figures(
        session, actor=committee, unit_id=tree.ensure("厂工会/一车间").id or 0, period=NOVEMBER, policy=POLICY
    )
    assert figures.total.cases == 0
    assert figures.median_contact is None
