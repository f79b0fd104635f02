"""困难帮扶 in the demo union: a few applications of 一车间 at different stages.

One urgent application just in (its first contact due), one visited and waiting
for a decision, one helped twice and kept under dynamic review, one closed. The
chair of 一车间 handles them, so her 帮扶办理 queue has work and its members'
我的申请 a history; then a 元旦春节送温暖 campaign with one gift recorded. The
stories are made up; demo photos are none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.hardship.campaigns import seed_demo_campaign
from models.hardship import (
    CaseDraft,
    DecisionRecord,
    HardshipCategory,
    HardshipPolicy,
    HelpKind,
    VisitRecord,
    close_case,
    decide_case,
    keep_under_review,
    record_contact,
    record_disbursement,
    record_visit,
    submit_case,
)
from models.members import get_member_by_employee_no

CHAIR_NO = "2001"  # 李秀英, 工会主席 of 一车间

# 工号, days ago, category, urgent, story, household, income (yuan), help, how far
CASES: tuple[tuple[str, int, HardshipCategory, bool, str, int, int, tuple[HelpKind, ...], str], ...] = (
    (
        "2103",
        0,
        HardshipCategory.ILLNESS,
        True,
        "母亲突发脑梗住院，每天医药费一千多元，家里积蓄快用完了。",
        4,
        5200,
        (HelpKind.RELIEF, HelpKind.VISIT),
        "received",
    ),
    (
        "2202",
        10,
        HardshipCategory.SCHOOLING,
        False,
        "女儿考上大学，学费和住宿费一万二，爱人下岗在家。",
        3,
        3800,
        (HelpKind.SCHOOLING,),
        "visited",
    ),
    (
        "2301",
        40,
        HardshipCategory.DISASTER,
        False,
        "暴雨冲垮了老家的房子，父母暂住亲戚家。",
        5,
        4600,
        (HelpKind.RELIEF, HelpKind.VISIT),
        "review",
    ),
    (
        "2104",
        60,
        HardshipCategory.INJURY,
        False,
        "工伤后右手恢复慢，想了解工伤待遇和法律援助。",
        2,
        3000,
        (HelpKind.LEGAL,),
        "closed",
    ),
)


def seed_hardship(session: Session, config: CoreConfig, now: datetime) -> None:
    """The applications, dated their days before ``now`` and handled since by the chair; then a campaign."""
    _seed_cases(session, config, now)
    # After the cases: the campaign's list is drawn from them, and it records one gift.
    seed_demo_campaign(session, config, now)


def _seed_cases(session: Session, config: CoreConfig, now: datetime) -> None:
    policy = config.policy(HardshipPolicy)
    chair = get_member_by_employee_no(session, CHAIR_NO)
    for employee_no, days_ago, category, urgent, story, household, income, kinds, reached in CASES:
        member = get_member_by_employee_no(session, employee_no)
        start = now - timedelta(days=days_ago)
        case = submit_case(
            session,
            actor=member,
            draft=CaseDraft(
                consented=True,
                category=category,
                story=story,
                household_size=household,
                income_fen=income * 100,
                help_wanted=kinds,
                urgent=urgent,
                contact_way="工作日下班后打电话",
            ),
            policy=policy,
            now=start,
        )
        assert case.id is not None
        case_id = case.id
        if reached == "received":
            continue
        moment = start + timedelta(days=1)
        case = record_contact(
            session,
            actor=chair,
            case_id=case_id,
            expected_version=case.version,
            note="电话联系，约好上门。",
            policy=policy,
            now=moment,
        )
        moment += timedelta(days=1)
        case = record_visit(
            session,
            actor=chair,
            case_id=case_id,
            expected_version=case.version,
            visit=VisitRecord(
                visited_on=policy.today(moment),
                visitors="李秀英、王建国",
                family="家中老人需要照顾，收入主要靠本人工资。",
                mind="情绪低落，但积极面对。",
                cause=story,
                needs="近期急需一笔钱渡过难关。",
            ),
            policy=policy,
            now=moment,
        )
        if reached == "visited":
            continue
        moment += timedelta(days=2)
        material = HelpKind.LEGAL not in kinds
        case = decide_case(
            session,
            actor=chair,
            case_id=case_id,
            expected_version=case.version,
            decision=DecisionRecord(
                kinds=kinds,
                amount_fen=300000 if material else None,
                goods=None,
                fund="困难职工帮扶资金",
                reason="经走访核实，符合帮扶条件。",
            ),
            policy=policy,
            now=moment,
        )
        if material:
            for amount in (200000, 100000):
                moment += timedelta(days=3)
                assert case.member_id is not None
                record_disbursement(
                    session,
                    actor=chair,
                    member_id=case.member_id,
                    case_id=case_id,
                    campaign_id=None,
                    given_on=policy.today(moment),
                    amount_fen=amount,
                    goods=None,
                    fund="困难职工帮扶资金",
                    now=moment,
                    policy=policy,
                )
            session.refresh(case)
        if reached == "review":
            keep_under_review(
                session,
                actor=chair,
                case_id=case_id,
                expected_version=case.version,
                next_review_on=policy.today(now) + timedelta(days=90),
                policy=policy,
                now=moment,
            )
        elif reached == "closed":
            close_case(
                session,
                actor=chair,
                case_id=case_id,
                expected_version=case.version,
                note="已联系法律援助中心，困难已解决。",
                now=moment,
            )
