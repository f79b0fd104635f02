"""送温暖 campaigns on a small union whose answers are worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.errors import InvalidInput, PermissionDenied
from models.hardship.campaigns import (
    CampaignBasis,
    CampaignDraft,
    CaseStages,
    Gift,
    HardshipCampaign,
    campaign_totals,
    campaigns_for,
    give_in_campaign,
    open_campaign,
    qualifiers,
)
from models.hardship.cases import CaseStatus, HardshipCase, HardshipCategory
from models.hardship.policy import HardshipPolicy
from models.members import Member
from models.roles import Role
from models.units import UnitTree
from tests.factories import make_member

NOW = datetime(2027, 1, 10, 2, tzinfo=UTC)
POLICY = HardshipPolicy()


@dataclass
class Union:
    chair: Member
    committee: Member
    m1: Member
    m2: Member
    m3: Member
    m4: Member
    m5: Member
    root: int
    one: int
    two: int


def _case(session: Session, member: Member, category: HardshipCategory, status: CaseStatus) -> None:
    session.add(
        HardshipCase(
            member_id=member.id,
            unit_id=member.unit_id,
            category=category,
            status=status,
            consent_at=NOW,
            submitted_at=NOW,
            contact_due_on=date(2027, 1, 11),
            visit_due_on=date(2027, 1, 15),
        )
    )


def build_union(session: Session) -> Union:
    """厂工会 ⊃ 一车间 (甲班, 乙班), 二车间; four members with cases, one without.

    m1 一车间/甲班 重大疾病, received; m2 一车间/乙班 子女就学, under review;
    m3 二车间 重大疾病, closed; m4 二车间 因灾, helped; m5 directly in 厂工会, no case.
    """
    chair = make_member(
        session, employee_no="9001", name="王主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
    )
    committee = make_member(
        session, employee_no="9002", name="李委员", unit="厂工会", roles=[(Role.COMMITTEE, "厂工会/一车间")]
    )
    m1 = make_member(session, employee_no="1001", name="张三", unit="厂工会/一车间/甲班")
    m2 = make_member(session, employee_no="1002", name="李四", unit="厂工会/一车间/乙班")
    m3 = make_member(session, employee_no="2001", name="王五", unit="厂工会/二车间")
    m4 = make_member(session, employee_no="2002", name="赵六", unit="厂工会/二车间")
    m5 = make_member(session, employee_no="3001", name="钱七", unit="厂工会")
    _case(session, m1, HardshipCategory.ILLNESS, CaseStatus.RECEIVED)
    _case(session, m2, HardshipCategory.SCHOOLING, CaseStatus.REVIEW)
    _case(session, m3, HardshipCategory.ILLNESS, CaseStatus.CLOSED)
    _case(session, m4, HardshipCategory.DISASTER, CaseStatus.HELPED)
    tree = UnitTree(session)
    session.flush()
    return Union(
        chair, committee, m1, m2, m3, m4, m5,
        root=tree.ensure("厂工会").id or 0,
        one=tree.ensure("厂工会/一车间").id or 0,
        two=tree.ensure("厂工会/二车间").id or 0,
    )  # fmt: skip


def _spring(union: Union, **changes: object) -> CampaignDraft:
    values: dict[str, object] = {
        "name": "2027年元旦春节送温暖",
        "unit_id": union.root,
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 2, 10),
        "budget_fen": 2000_00,
        "basis": CampaignBasis.CASES,
        "fund": "工会经费",
        "categories": (HardshipCategory.ILLNESS, HardshipCategory.DISASTER),
        "stages": CaseStages.OPEN,
        "standard_fen": 500_00,
    }
    values.update(changes)
    return CampaignDraft(**values)  # type: ignore[arg-type]


def _give(
    session: Session,
    actor: Member,
    campaign: HardshipCampaign,
    member: Member,
    fen: int | None,
    goods: str | None = None,
) -> None:
    gift = Gift(
        member_id=member.id or 0, given_on=date(2027, 1, 9), amount_fen=fen, goods=goods, fund="工会经费"
    )
    give_in_campaign(session, actor=actor, campaign_id=campaign.id or 0, gift=gift, now=NOW, policy=POLICY)


def test_cases_campaign_lists_who_qualifies_in_each_cadres_units(session: Session) -> None:
    union = build_union(session)
    campaign = open_campaign(session, actor=union.chair, draft=_spring(union), now=NOW)
    everyone = qualifiers(session, actor=union.chair, campaign_id=campaign.id or 0)
    assert sorted(row.name for row in everyone.rows) == ["张三", "赵六"]  # 李四: 子女就学; 王五: closed
    workshop = qualifiers(session, actor=union.committee, campaign_id=campaign.id or 0)
    assert [row.name for row in workshop.rows] == ["张三"]
    assert workshop.total == 1
    audited = session.exec(select(AuditEntry.action, AuditEntry.subject)).all()
    assert audited == [("hardship.campaign.list", f"campaign:{campaign.id}")] * 2
    review_only = open_campaign(
        session, actor=union.chair, draft=_spring(union, categories=(), stages=CaseStages.REVIEW), now=NOW
    )
    assert [
        row.name for row in qualifiers(session, actor=union.chair, campaign_id=review_only.id or 0).rows
    ] == ["李四"]
    assert campaigns_for(session, actor=union.committee, today=date(2027, 1, 10))[0].id == review_only.id


def test_totals_per_unit_and_against_the_budget(session: Session) -> None:
    union = build_union(session)
    campaign = open_campaign(session, actor=union.chair, draft=_spring(union), now=NOW)
    _give(session, union.chair, campaign, union.m4, 500_00)
    _give(session, union.committee, campaign, union.m1, 800_00)

    totals = campaign_totals(session, actor=union.chair, campaign_id=campaign.id or 0)
    assert [(row.name, row.qualifying, row.given, row.amount_fen) for row in totals.rows] == [
        ("一车间", 1, 1, 800_00),
        ("二车间", 1, 1, 500_00),
    ]
    assert (totals.total.qualifying, totals.total.given, totals.total.amount_fen) == (2, 2, 1300_00)
    assert (totals.spent_fen, totals.budget_fen, totals.left_fen) == (1300_00, 2000_00, 700_00)

    workshop = campaign_totals(session, actor=union.committee, campaign_id=campaign.id or 0)
    assert [(row.name, row.given, row.amount_fen) for row in workshop.rows] == [("甲班", 1, 800_00)]
    assert workshop.spent_fen == 1300_00  # the budget line is the whole campaign's

    listed = qualifiers(session, actor=union.chair, campaign_id=campaign.id or 0)
    assert listed.given == 2
    assert (
        qualifiers(session, actor=union.chair, campaign_id=campaign.id or 0, not_given_only=True).rows == []
    )
    assert {row.name: row.amount_fen for row in listed.rows} == {"张三": 800_00, "赵六": 500_00}


def test_units_campaign_gives_to_everyone_listed_within_budget(session: Session) -> None:
    union = build_union(session)
    draft = _spring(
        union, basis=CampaignBasis.UNITS, unit_ids=(union.one,), budget_fen=100_00, goods="米、油各一份"
    )
    campaign = open_campaign(session, actor=union.chair, draft=draft, now=NOW)
    assert [
        row.name for row in qualifiers(session, actor=union.chair, campaign_id=campaign.id or 0).rows
    ] == [
        "张三",
        "李四",
    ]
    _give(session, union.chair, campaign, union.m1, 60_00)
    with pytest.raises(InvalidInput) as over:
        _give(session, union.chair, campaign, union.m2, 60_00)
    assert over.value.code == "campaign.over_budget"
    assert over.value.params["left"] == "40"
    _give(session, union.chair, campaign, union.m2, None, goods="米、油各一份")
    totals = campaign_totals(session, actor=union.chair, campaign_id=campaign.id or 0)
    assert [(row.name, row.qualifying, row.given, row.amount_fen, row.goods) for row in totals.rows] == [
        ("一车间", 2, 2, 60_00, 1)
    ]


def test_a_gift_is_refused_when_it_should_not_be_recorded(session: Session) -> None:
    union = build_union(session)
    campaign = open_campaign(session, actor=union.chair, draft=_spring(union), now=NOW)
    with pytest.raises(InvalidInput) as closed:
        _give(session, union.chair, campaign, union.m3, 500_00)
    assert closed.value.code == "campaign.not_qualified"
    with pytest.raises(InvalidInput) as outside:
        _give(session, union.committee, campaign, union.m4, 500_00)  # 二车间 is not the committee's
    assert outside.value.code == "campaign.not_qualified"
    _give(session, union.chair, campaign, union.m1, 500_00)
    with pytest.raises(InvalidInput) as twice:
        _give(session, union.chair, campaign, union.m1, 500_00)
    assert twice.value.code == "campaign.given_already"
    late = Gift(
        member_id=union.m4.id or 0, given_on=date(2027, 2, 11), amount_fen=1, goods=None, fund="工会经费"
    )
    with pytest.raises(InvalidInput) as after:
        give_in_campaign(
            session, actor=union.chair, campaign_id=campaign.id or 0, gift=late, now=NOW, policy=POLICY
        )
    assert after.value.code == "campaign.date_outside"


def test_opening_checks_scope_period_and_units(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(PermissionDenied):
        open_campaign(session, actor=union.committee, draft=_spring(union), now=NOW)  # 厂工会 is above them
    with pytest.raises(InvalidInput) as backwards:
        open_campaign(session, actor=union.chair, draft=_spring(union, ends_on=date(2026, 12, 1)), now=NOW)
    assert backwards.value.code == "campaign.period_backwards"
    with pytest.raises(InvalidInput) as long_name:
        open_campaign(session, actor=union.chair, draft=_spring(union, name="送" * 31), now=NOW)
    assert long_name.value.params == {"limit": 30, "count": 31}
    draft = _spring(union, unit_id=union.one, basis=CampaignBasis.UNITS, unit_ids=(union.two,))
    with pytest.raises(InvalidInput) as elsewhere:
        open_campaign(session, actor=union.chair, draft=draft, now=NOW)
    assert elsewhere.value.code == "campaign.unit_outside"
    mine = open_campaign(session, actor=union.committee, draft=_spring(union, unit_id=union.one), now=NOW)
    with pytest.raises(PermissionDenied):
        qualifiers(session, actor=union.m5, campaign_id=mine.id or 0, channel="wechat")
    refused = session.exec(select(AuditEntry).where(AuditEntry.allowed == False)).all()  # noqa: E712
    assert [(entry.actor_member_id, entry.subject, entry.channel) for entry in refused] == [
        (union.m5.id, f"campaign:{mine.id}", "wechat")
    ]
